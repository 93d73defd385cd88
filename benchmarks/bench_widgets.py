"""How long does an explorer take to answer a change? Target: under 200 ms on a CPU.

Trains the book's small models for one epoch on the quick subset of Fashion-MNIST
(2,048 images: the weights are trained, not random), builds each explorer on 32 test
images, then times a
scripted session of changes of each kind, as a reader would make them. A first
visit to a unit or layer computes (ERF, activations, Grad-CAM); a return visit
uses the cache: both are timed. It prints the median and the worst time per kind
of change.

    python benchmarks/bench_widgets.py [--models lenet resnet20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import matplotlib
import torch

matplotlib.use("Agg")

from cnnbook import data, models  # noqa: E402
from cnnbook.train import fit  # noqa: E402
from cnnbook.widgets import activation_explorer, filter_viewer, grad_cam_view, receptive_field_explorer  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def session(model: torch.nn.Module, images: torch.Tensor) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}

    def record(kind: str, action: Callable[[], object]) -> None:
        times.setdefault(kind, []).append(timed(action))

    rf = receptive_field_explorer(model, images, dataset="fashion-mnist")
    layers = rf.layers
    for layer in layers:
        record("RF: new layer", lambda: rf.select(layer=layer))
        rows, cols = rf.grid()
        for row, col in [(0, 0), (rows // 3, cols // 2), (rows - 1, cols - 1)]:
            record("RF: new unit (computes its ERF)", lambda: rf.select(row=row, col=col))
        record("RF: unit seen before", lambda: rf.select(row=0, col=0))
        record("RF: image", lambda: rf.select(image=3))
        record("RF: click", lambda: rf.click(0.5, 0.5))

    act = activation_explorer(model, images, dataset="fashion-mnist")
    for layer in act.layers:
        record("activations: new layer", lambda: act.select(layer=layer))
        record("activations: image", lambda: act.select(image=5))
        record("activations: channel", lambda: act.select(channel=1))
        record("activations: first channel", lambda: act.select(first=1))

    cam = grad_cam_view(model, images)
    for layer in cam.layers:
        record("Grad-CAM: new layer", lambda: cam.select(layer=layer))
        record("Grad-CAM: image", lambda: cam.select(image=7))
        record("Grad-CAM: class", lambda: cam.select(target=2))

    viewer = filter_viewer(model)
    for layer in viewer.convolutions:
        record("filters: layer", lambda: setattr(viewer.layer_menu, "value", layer))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lenet", "resnet20"])
    args = parser.parse_args()
    torch.manual_seed(0)
    test_images, _ = data.load("fashion-mnist", train=False)
    images = data.normalize(test_images[:32], "fashion-mnist")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in args.models:
        model = models.create(name, in_channels=1, num_classes=10) if name != "lenet" else models.create(name)
        subset = data.loaders("fashion-mnist", batch_size=128, augment=False, quick=True)
        history = fit(model, subset, epochs=1, optimizer="adamw", lr=3e-3, progress=False)
        print(f"\n{name}: trained 1 epoch, test accuracy {history.final['test_acc']:.3f}; 32 images "
              f"{tuple(images.shape[1:])}")
        print(f"  {'change':34s} {'count':>5s} {'median ms':>10s} {'worst ms':>9s}")
        for kind, values in session(model.eval(), images).items():
            print(f"  {kind:34s} {len(values):5d} {statistics.median(values):10.0f} {max(values):9.0f}")


if __name__ == "__main__":
    main()
