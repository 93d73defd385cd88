"""Time every cnnbook model against its torchvision/timm twin: forward + backward.

For each model that equals a torchvision or timm one (``models.info(name).library``),
both models are built in this process,
ours takes the reference's weights, and the two are timed alternately (ours first in
even rounds, the reference first in odd ones) so that drifts in machine load hit
both alike. Prints the median time of each, the ratio ours/reference (the median
over rounds of the ratio within a round, which cancels slow drifts in load), and
the median ratio over all models.

    python benchmarks/bench_models.py                  # CPU, every model
    python benchmarks/bench_models.py --only resnet50 dpn68 --rounds 20
    python benchmarks/bench_models.py --gpu            # CUDA, bf16 autocast, channels_last

``--gpu`` also measures ResNet-50 training throughput (images/s, SGD steps at 224x224).
On CPU the default is one thread (``--threads``): on a small shared machine that
gives far steadier timings than competing for the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch
from torch import nn

from cnnbook import models


def reference(library: str, name: str) -> nn.Module:
    if library == "torchvision":
        import torchvision
        return torchvision.models.get_model(name)
    import timm
    return timm.create_model(name)


def pair(name: str, device: torch.device, channels_last: bool) -> tuple[nn.Module, nn.Module]:
    info = models.info(name)
    ref = reference(info.library, info.library_name)
    ours = models.create(name)
    ours.load_state_dict(ref.state_dict())
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return (ours.to(device, memory_format=memory_format).train(),
            ref.to(device, memory_format=memory_format).train())


def logits(out) -> torch.Tensor:
    """The main output of models that also return auxiliary ones (GoogLeNet, Inception v3)."""
    return out if isinstance(out, torch.Tensor) else out[0]


def step_time(model: nn.Module, x: torch.Tensor, autocast: contextlib.AbstractContextManager) -> float:
    model.zero_grad(set_to_none=True)
    if x.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    with autocast:
        loss = logits(model(x)).float().sum()
    loss.backward()
    if x.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def compare(name: str, args: argparse.Namespace, device: torch.device) -> tuple[float, float, float, int]:
    """Median step times (ours, reference), the median of their per-round ratio, and the input side."""
    ours, ref = pair(name, device, args.gpu)
    side = max(args.size, ours.input_spec.min_size)
    x = torch.randn(args.batch, 3, side, side, device=device)
    if args.gpu:
        x = x.to(memory_format=torch.channels_last)
    times: dict[str, list[float]] = {"ours": [], "ref": []}
    for r in range(args.rounds + args.warmup):
        order = [("ours", ours), ("ref", ref)] if r % 2 == 0 else [("ref", ref), ("ours", ours)]
        for key, model in order:
            autocast = torch.autocast("cuda", torch.bfloat16) if args.gpu else contextlib.nullcontext()
            t = step_time(model, x, autocast)
            if r >= args.warmup:
                times[key].append(t)
    ratio = statistics.median(o / r for o, r in zip(times["ours"], times["ref"]))
    return statistics.median(times["ours"]), statistics.median(times["ref"]), ratio, side


def resnet50_throughput(device: torch.device, batch: int, steps: int) -> None:
    import torchvision
    print(f"\nResNet-50 training, 224x224, batch {batch}, bf16 autocast, channels_last, SGD:")
    for label, model in (("cnnbook", models.create("resnet50")),
                         ("torchvision", torchvision.models.resnet50())):
        model = model.to(device, memory_format=torch.channels_last).train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = torch.randn(batch, 3, 224, 224, device=device).to(memory_format=torch.channels_last)
        y = torch.randint(0, 1000, (batch,), device=device)
        for i in range(steps + 5):
            if i == 5:
                torch.cuda.synchronize()
                start = time.perf_counter()
            with torch.autocast("cuda", torch.bfloat16):
                loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        print(f"  {label:12s} {steps * batch / (time.perf_counter() - start):8.0f} images/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="model names (default: every model with a library twin)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=0, help="input side (default: the model's smallest)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--gpu", action="store_true", help="CUDA with bf16 autocast and channels_last")
    parser.add_argument("--throughput-batch", type=int, default=128)
    args = parser.parse_args()

    device = torch.device("cuda" if args.gpu else "cpu")
    if not args.gpu:
        torch.set_num_threads(args.threads)
    names = args.only or [name for name in models.names() if models.info(name).library]
    alone = [name for name in names if not models.info(name).library]   # info() rejects unknown names
    if alone:
        parser.error(f"no torchvision or timm model to compare with: {', '.join(alone)}")
    print(f"device: {torch.cuda.get_device_name() if args.gpu else f'CPU, {torch.get_num_threads()} thread(s)'}; "
          f"torch {torch.__version__}; batch {args.batch}; {args.rounds} rounds (median)")
    print(f"{'model':22s} {'reference':28s} {'input':>11s} {'ours ms':>9s} {'ref ms':>9s} {'ratio':>6s}")
    ratios = []
    for name in names:
        info = models.info(name)
        try:
            ours_t, ref_t, ratio, side = compare(name, args, device)
        except Exception as error:  # a library that is not installed
            print(f"{name:22s} skipped: {type(error).__name__}: {error}")
            continue
        ratios.append(ratio)
        print(f"{name:22s} {info.library + ':' + info.library_name:28s} {f'3x{side}x{side}':>11s} "
              f"{ours_t * 1e3:9.2f} {ref_t * 1e3:9.2f} {ratios[-1]:6.3f}")
    if ratios:
        print(f"median ratio ours/reference over {len(ratios)} models: {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    if args.gpu:
        resnet50_throughput(device, args.throughput_batch, steps=30)


if __name__ == "__main__":
    main()
