"""What a network computes inside: activations of named layers, and Grad-CAM.

``capture_activations(model, images, ["features.c1"])`` runs the images through the
model with forward hooks on the layers asked for (and no others), and removes the
hooks before it returns. Layers are named as in ``model.named_modules()``.

``grad_cam`` is the class activation map of Selvaraju et al., "Grad-CAM: Visual
Explanations from Deep Networks via Gradient-based Localization" (ICCV 2017): the
feature maps of a layer, weighted by the average gradient of the class score with
respect to each map, summed, rectified and scaled up to the image.
"""

from __future__ import annotations

import difflib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["capture_activations", "spatial_layers", "find_layer", "GradCAM", "grad_cam"]


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name``; a KeyError naming the closest names if there is none."""
    modules = dict(model.named_modules())
    if name in modules and name:
        return modules[name]
    close = difflib.get_close_matches(name, modules, n=3, cutoff=0.5)
    hint = f"Did you mean {', '.join(map(repr, close))}?" if close else \
        f"The top-level layers are: {', '.join(n for n, _ in model.named_children())}."
    raise KeyError(f"{type(model).__name__} has no layer {name!r}. {hint}")


@contextmanager
def _hooks(model: nn.Module, names: Sequence[str],
           keep_graph: bool = False) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks that store the output of the first call of each named layer.

    The model goes on with a copy, so that an in-place layer after it (``ReLU(inplace=True)``)
    cannot overwrite what was stored.
    """
    captured: dict[str, torch.Tensor] = {}

    def store(name: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
            if name in captured:
                return None
            captured[name] = output if keep_graph else output.detach()
            return output.clone()
        return hook

    handles = [find_layer(model, name).register_forward_hook(store(name)) for name in names]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def capture_activations(model: nn.Module, images: torch.Tensor,
                        layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """The outputs of ``layers`` (their first call) for ``images``, in eval mode and without gradients.

    Tensors stay on the model's device; the model's training mode is restored after.
    """
    if isinstance(layers, str):
        layers = [layers]
    training = model.training
    try:
        model.eval()
        with _hooks(model, layers) as captured, torch.no_grad():
            model(images)
    finally:
        model.train(training)
    _check_ran(model, layers, captured)
    return {name: captured[name] for name in layers}


def _check_ran(model: nn.Module, layers: Sequence[str], captured: dict[str, torch.Tensor]) -> None:
    """A ValueError naming the layers that did not run (and so captured nothing)."""
    idle = [name for name in layers if name not in captured]
    if idle:
        raise ValueError(f"{', '.join(map(repr, idle))} did not run when {type(model).__name__} processed "
                         "the images in eval mode, so there is nothing to capture (auxiliary classifiers, "
                         "for one, run only in training). Choose layers on the path to the output.")


def spatial_layers(model: nn.Module, input_size: tuple[int, int, int]) -> list[str]:
    """The layers worth exploring, in the order they run: convolutions, poolings and blocks
    (children of a ``Sequential``) that are called once and output (N, C, H, W) maps."""
    calls: dict[str, list[tuple[int, ...]]] = {}
    candidates = {name: m for name, m in model.named_modules()
                  if name and (isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) or
                               _in_sequential(model, name))}

    def record(name: str):
        def hook(module: nn.Module, args: tuple, output) -> None:
            calls.setdefault(name, []).append(tuple(output.shape) if isinstance(output, torch.Tensor) else ())
        return hook

    handles = [m.register_forward_hook(record(name)) for name, m in candidates.items()]
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            like = next(model.parameters(), torch.zeros(()))
            model(like.new_zeros(1, *input_size))
    finally:
        model.train(training)
        for handle in handles:
            handle.remove()
    return [name for name, shapes in calls.items()
            if len(shapes) == 1 and len(shapes[0]) == 4 and shapes[0][-1] > 1]


def _in_sequential(model: nn.Module, name: str) -> bool:
    parent, _, _ = name.rpartition(".")
    return isinstance(model.get_submodule(parent), nn.Sequential)


@dataclass
class GradCAM:
    """Grad-CAM maps for a batch: ``heatmap`` (N, H, W) in [0, 1] at the input's size."""

    heatmap: torch.Tensor        # scaled up to the image, each map divided by its maximum
    maps: torch.Tensor           # (N, h, w) at the layer's resolution, before scaling
    classes: torch.Tensor        # (N,) the class explained for each image
    probabilities: torch.Tensor  # (N, classes) softmax of the logits
    layer: str


def grad_cam(model: nn.Module, images: torch.Tensor, layer: str,
             classes: int | Sequence[int] | torch.Tensor | None = None) -> GradCAM:
    """Grad-CAM of ``layer`` for ``images``, for the given classes (default: each image's top class)."""
    training = model.training
    try:
        model.eval()
        with _hooks(model, [layer], keep_graph=True) as captured, torch.enable_grad():
            logits = model(images)
            _check_ran(model, [layer], captured)
            maps = captured[layer]
            if maps.dim() != 4:
                raise ValueError(f"layer {layer!r} outputs shape {tuple(maps.shape)}, not (N, C, H, W) maps: "
                                 "choose a convolutional layer before the global pooling")
            targets = _target_classes(logits, classes)
            scores = logits.gather(1, targets[:, None]).sum()
            gradients, = torch.autograd.grad(scores, maps)
    finally:
        model.train(training)
    weights = gradients.mean(dim=(2, 3), keepdim=True)      # alpha_k: the average gradient per map
    cam = F.relu((weights * maps.detach()).sum(dim=1))
    heatmap = F.interpolate(cam[:, None], size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    heatmap = heatmap / heatmap.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return GradCAM(heatmap, cam, targets, logits.detach().softmax(dim=1), layer)


def _target_classes(logits: torch.Tensor, classes) -> torch.Tensor:
    count = logits.shape[1]
    if classes is None:
        return logits.argmax(dim=1)
    targets = torch.as_tensor(classes, device=logits.device).long().flatten()
    if targets.numel() == 1:
        targets = targets.expand(logits.shape[0])
    if targets.numel() != logits.shape[0] or not bool(((targets >= 0) & (targets < count)).all()):
        raise ValueError(f"classes must be one class index or one per image, each from 0 to {count - 1}; "
                         f"got {torch.as_tensor(classes).tolist()}")
    return targets
