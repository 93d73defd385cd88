"""How much does ``cnnbook.train.fit`` cost over a minimal hand-written loop?

Both train the same model (same initial weights) for one epoch on the same
device-resident tensors with the same optimizer, then evaluate on the test set.
Runs alternate (fit, plain, fit, plain, ...) so machine noise hits both alike;
the script prints each pair's ratio, the median ratio (target: at most 1.05) and
LeNet's training throughput in images/s.

    python benchmarks/bench_train.py [--model lenet] [--rounds 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch import nn

from cnnbook import data, models
from cnnbook.device import default_device, describe
from cnnbook.train import fit


def plain_epoch(model: nn.Module, train_loader, test_loader, lr: float) -> None:
    """The smallest correct loop: SGD steps over one epoch, then a test pass."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    model.train()
    for images, labels in train_loader:
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        correct = sum((model(images).argmax(1) == labels).sum() for images, labels in test_loader)
    correct.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device")
    args = parser.parse_args()

    device = torch.device(args.device) if args.device else default_device()
    train_loader, test_loader = data.loaders(args.dataset, args.batch_size, device=device, quick=False)
    info = data.dataset_info(args.dataset)
    torch.manual_seed(0)
    initial = models.create(args.model, num_classes=len(info.classes), in_channels=info.channels).to(device)
    print(f"{args.model} on {args.dataset}: {train_loader.num_samples:,} training images, "
          f"batch {args.batch_size}, device {describe(device)}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")

    ratios, throughputs = [], []
    for round_ in range(args.rounds + 1):  # round 0 warms up caches and is not counted
        model = copy.deepcopy(initial)
        started = time.perf_counter()
        history = fit(model, (train_loader, test_loader), epochs=1, lr=0.05, device=device,
                      amp=False, progress=False, live_plot=False)
        fit_seconds = time.perf_counter() - started
        model = copy.deepcopy(initial)
        started = time.perf_counter()
        plain_epoch(model, train_loader, test_loader, lr=0.05)
        if device.type == "cuda":
            torch.cuda.synchronize()
        plain_seconds = time.perf_counter() - started
        if round_:
            ratios.append(fit_seconds / plain_seconds)
            throughputs.append(history.final["images_per_s"])
            print(f"round {round_}: fit {fit_seconds:6.2f} s  plain {plain_seconds:6.2f} s  "
                  f"ratio {ratios[-1]:.3f}")
    print(f"median ratio fit/plain: {statistics.median(ratios):.3f} (target <= 1.05)")
    print(f"{args.model} training throughput: {statistics.median(throughputs):,.0f} images/s")


if __name__ == "__main__":
    main()
