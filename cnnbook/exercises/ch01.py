"""Checkers for chapter 1: convolutions from first principles."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from ._core import checker, expect_number, parameter_count


@checker("ch1.output-size")
def _output_size(function: Callable[..., int]) -> tuple[bool, str]:
    """``function(w, f, s, p)`` must give the output width of a convolution."""
    cases = [(w, f, s, p) for w in (5, 7, 28, 32, 227) for f in (1, 3, 5, 11)
             for s in (1, 2, 4) for p in (0, 1, 2) if f <= w + 2 * p and 2 * p <= f]
    for w, f, s, p in cases:
        truth = nn.Conv2d(1, 1, f, stride=s, padding=p)(torch.zeros(1, 1, w, w)).shape[-1]
        got = function(w, f, s, p)
        if got != truth:
            return False, (f"for W={w}, F={f}, S={s}, P={p} PyTorch gives {truth}, you gave {got}. "
                           "Remember (W - F + 2P) / S + 1, rounded down.")
    return True, f"matches PyTorch on all {len(cases)} settings tried."


@checker("ch1.conv-params")
def _conv_params(answer: int) -> tuple[bool, str]:
    """Parameters of 10 filters of 5x5 on a 32x32x3 input, biases included."""
    expected = parameter_count(nn.Conv2d(3, 10, 5))
    return expect_number(answer, expected, "Each filter spans all 3 input channels and has one bias.")


@checker("ch1.stacked-rf")
def _stacked_receptive_field(function: Callable[[int], int]) -> tuple[bool, str]:
    """``function(n)``: receptive field of n stacked 3x3 convolutions with stride 1."""
    for n in range(1, 8):
        stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, bias=False) for _ in range(n)])
        for conv in stack:
            nn.init.constant_(conv.weight, 1.0)
        size = 2 * n + 9
        image = torch.zeros(1, 1, size, size, requires_grad=True)
        out = stack(image)
        out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()
        truth = int((image.grad[0, 0, size // 2] != 0).sum())
        if function(n) != truth:
            return False, (f"for n={n} a unit sees {truth}x{truth} pixels, you gave {function(n)}. "
                           "Each 3x3 layer adds one pixel on each side.")
    return True, "right for n = 1 to 7: each extra layer adds 2."


def _extent_1d(stack: nn.Module, size: int) -> int:
    """How many input positions (along one axis) the centre output of ``stack`` depends on."""
    image = torch.zeros(1, 1, size, requires_grad=True)
    out = stack(image)
    out[0, 0, out.shape[-1] // 2].backward()
    seen = image.grad[0, 0].nonzero().flatten()
    return int(seen.max() - seen.min() + 1)


@checker("ch1.dilated-rf")
def _dilated_receptive_field(function: Callable[[int], int]) -> tuple[bool, str]:
    """``function(n)``: receptive field of n stacked 3x3 convolutions with dilations 1, 3, 9, ..., 3^(n-1)."""
    for n in range(1, 7):
        stack = nn.Sequential(*[nn.Conv1d(1, 1, 3, dilation=3 ** i, bias=False) for i in range(n)])
        for conv in stack:
            nn.init.constant_(conv.weight, 1.0)
        truth = _extent_1d(stack, 2 * 3 ** n + 1)
        got = function(n)
        if got != truth:
            return False, (f"for n={n} a unit sees {truth}x{truth} pixels, you gave {got}. "
                           "A 3x3 layer with dilation d adds d pixels on each side.")
    return True, "right for n = 1 to 6: the receptive field triples with each layer, without gaps."


@checker("ch1.fc-conv-grid")
def _fc_conv_grid(function: Callable[[int], int]) -> tuple[bool, str]:
    """``function(size)``: side of the score grid of VGG-16 with its FC layers turned into convolutions."""
    from ..models import create
    # The real VGG-16 layers at 1/64 of the width (the sizes do not depend on it), moved
    # to the meta device: shapes only, nothing is computed.
    vgg = create("vgg16", width=1 / 64)
    channels = vgg.classifier[0].in_features // 49
    head = nn.Sequential(nn.Conv2d(channels, 64, 7), nn.ReLU(), nn.Conv2d(64, 64, 1), nn.ReLU(),
                         nn.Conv2d(64, 1000, 1))
    vgg, head = vgg.to("meta"), head.to("meta")
    for size in (224, 256, 288, 300, 320, 384, 416, 448, 500, 512):
        truth = head(vgg.features(torch.zeros(1, 3, size, size, device="meta"))).shape[-1]
        got = function(size)
        if got != truth:
            return False, (f"for a {size}x{size} image the grid is {truth}x{truth}, you gave {got}. "
                           "Follow the size through five 2x2 poolings, then a 7x7 convolution.")
    return True, "right for every size tried from 224 to 512, multiples of 32 or not."


POOL_INPUT = [[1, 5, 2, 0],
              [3, 4, 8, 1],
              [0, 2, 6, 7],
              [9, 1, 3, 2]]


@checker("ch1.maxpool-grad")
def _maxpool_gradient(answer: Any) -> tuple[bool, str]:
    """The gradient of the sum of ``MaxPool2d(2, stride=1)(POOL_INPUT)`` with respect to its input."""
    x = torch.tensor(POOL_INPUT, dtype=torch.float32)[None, None].requires_grad_()
    nn.MaxPool2d(2, stride=1)(x).sum().backward()
    truth = x.grad[0, 0]
    got = torch.as_tensor(answer, dtype=torch.float32)
    if got.shape != truth.shape:
        return False, f"expected a 4x4 grid of numbers, got shape {tuple(got.shape)}"
    wrong = (got != truth).nonzero().tolist()
    if wrong:
        i, j = wrong[0]
        return False, (f"{len(wrong)} of 16 entries differ, e.g. at row {i}, column {j} you gave "
                       f"{got[i, j].item():g}. Count in how many of the 2x2 windows each pixel is the maximum.")
    return True, f"right: the 8 wins {int(truth.max())} overlapping windows and gets a gradient of {int(truth.max())}."


