"""The effective receptive field of Luo, Li, Urtasun and Zemel, "Understanding the
Effective Receptive Field in Deep Convolutional Neural Networks" (NeurIPS 2016).

The analytic receptive field says which pixels a unit *can* see. How much each of
them matters is the gradient of the unit with respect to the input: we take its
absolute value, summed over the input channels and averaged over many inputs (and,
optionally, over random initialisations of the weights). Luo et al. found it
roughly Gaussian, filling only a fraction of the analytic field, and growing with
the square root of depth where the analytic field grows linearly.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ..models.inputs import default_input_size
from .activations import find_layer, spatial_layers
from .receptive_field import ReceptiveField, receptive_field

__all__ = ["EffectiveReceptiveField", "effective_receptive_field"]

Rectangle = tuple[tuple[int, int], tuple[int, int]]   # ((top, bottom), (left, right)), inclusive


@dataclass
class EffectiveReceptiveField:
    """The mean absolute input gradient of one unit, and the analytic field it lies in."""

    gradient: torch.Tensor     # (H, W), on the CPU
    layer: str
    unit: tuple[int, int]
    rectangle: Rectangle       # the analytic receptive field, which may reach into the padding
    images: int                # how many inputs the gradient is averaged over
    initialisations: int       # 0: the model's own weights

    def support(self, threshold: float = 0.0) -> Rectangle | None:
        """The bounding box of the pixels whose gradient exceeds ``threshold`` times the largest."""
        rows, cols = (self.gradient > threshold * self.gradient.max()).nonzero(as_tuple=True)
        if rows.numel() == 0:
            return None
        return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))

    def inside_analytic_field(self) -> bool:
        """True when every pixel with a non-zero gradient lies in the analytic rectangle."""
        box = self.support()
        (top, bottom), (left, right) = self.rectangle
        return box is None or (top <= box[0][0] and box[0][1] <= bottom and left <= box[1][0] and box[1][1] <= right)

    def effective_size(self, mass: float = 0.9) -> int:
        """The side of the smallest square, centred on the analytic field, that holds ``mass`` of the gradient."""
        if not 0 < mass <= 1:
            raise ValueError(f"mass must be in (0, 1], got {mass}")
        total = float(self.gradient.sum())
        if total == 0:
            return 0
        (top, bottom), (left, right) = self.rectangle
        centre = ((top + bottom) / 2, (left + right) / 2)
        rows = torch.arange(self.gradient.shape[0], dtype=torch.float64)[:, None]
        cols = torch.arange(self.gradient.shape[1], dtype=torch.float64)[None, :]
        distance = torch.maximum((rows - centre[0]).abs(), (cols - centre[1]).abs())  # Chebyshev: squares
        order = distance.flatten().argsort()
        held = self.gradient.double().flatten()[order].cumsum(0) / total
        radius = float(distance.flatten()[order][int((held < mass - 1e-12).sum())])
        return int(round(2 * radius + 1))   # the centre is a pixel or between two: the side is 2r + 1 either way

    def fraction_of_analytic(self, mass: float = 0.9) -> float:
        """``effective_size`` as a fraction of the analytic field's side (the larger axis)."""
        side = max(b - a + 1 for a, b in self.rectangle)
        return self.effective_size(mass) / side


class _Stop(Exception):
    """Raised by a hook once the layer of interest has run: the rest of the model is not needed."""


def effective_receptive_field(model: nn.Module, layer: str | None = None, unit: tuple[int, int] | None = None,
                              *, images: torch.Tensor | None = None,
                              input_size: tuple[int, int, int] | None = None, samples: int = 16,
                              initialisations: int = 0, seed: int = 0,
                              fields: ReceptiveField | None = None) -> EffectiveReceptiveField:
    """The effective receptive field of ``unit`` = (row, col) of ``layer``, summed over its channels.

    ``layer`` is a module name (default: the last spatial layer); ``unit`` defaults
    to the centre of its map. The gradient is averaged over ``images`` (N, C, H, W)
    or, without them, over ``samples`` standard-normal images of ``input_size``, as
    in Luo et al. With ``initialisations=n`` it is also averaged over ``n`` fresh
    random initialisations (each layer's ``reset_parameters``) instead of using the
    model's weights: the untrained ERF. The model runs in eval mode. ``fields``,
    the model's ``receptive_field`` for this input size, saves tracing it again.
    """
    if images is not None:
        input_size = tuple(images.shape[1:])
    input_size = default_input_size(model) if input_size is None else tuple(input_size)
    layer = spatial_layers(model, input_size)[-1] if layer is None else layer
    find_layer(model, layer)
    generator = torch.Generator().manual_seed(seed)
    like = next(model.parameters(), torch.zeros(()))
    if images is None:
        images = torch.randn(samples, *input_size, generator=generator).to(like)
    fields = receptive_field(model, input_size) if fields is None else fields
    grid = fields.module_output(layer).output_shape[-2:]
    unit = (grid[0] // 2, grid[1] // 2) if unit is None else tuple(unit)
    rectangle = fields.rectangle(unit, fields.module_output(layer).name)   # checks the unit is on the map

    copies = [model] if initialisations == 0 else [_reinitialised(model,
                                                                  generator) for _ in range(initialisations)]
    gradient = sum(_mean_abs_gradient(m, layer, unit, images) for m in copies) / len(copies)
    return EffectiveReceptiveField(gradient.cpu(), layer, unit, rectangle, len(images), initialisations)


def _mean_abs_gradient(model: nn.Module, layer: str, unit: tuple[int, int],
                       images: torch.Tensor) -> torch.Tensor:
    outputs: list[torch.Tensor] = []

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        outputs.append(output)
        raise _Stop

    x = images.detach().clone().requires_grad_(True)
    handle = find_layer(model, layer).register_forward_hook(hook)
    training = model.training
    try:
        model.eval()
        with torch.enable_grad():
            try:
                model(x)
            except _Stop:
                pass
            outputs[0][:, :, unit[0], unit[1]].sum().backward()
    finally:
        handle.remove()
        model.train(training)
    return x.grad.abs().sum(dim=1).mean(dim=0)


def _reinitialised(model: nn.Module, generator: torch.Generator) -> nn.Module:
    fresh = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):   # leave the caller's random state alone
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
        for module in fresh.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return fresh
