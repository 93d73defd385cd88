"""Checkers for chapter 5: Network in Network."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..analysis import summary
from ..models import create
from ._core import checker, expect_number, parameter_count


@checker("ch5.fc-head-params")
def _fc_head_params(answer: int) -> tuple[bool, str]:
    """Parameters of a fully connected layer from the CIFAR-10 NiN's class maps to 10 logits."""
    nin = create("nin", small_input=True, num_classes=10)
    with torch.no_grad():
        maps = nin.features(torch.zeros(1, 3, 32, 32))
    expected = parameter_count(nn.Linear(maps.numel(), 10))
    return expect_number(answer, expected, f"the maps hold {maps.numel()} numbers; each of the 10 logits "
                                           "has a weight for every one of them, and a bias.")


@checker("ch5.conv1x1-as-linear")
def _conv1x1_as_linear(to_linear: Callable[[nn.Conv2d], nn.Linear]) -> tuple[bool, str]:
    """``to_linear(conv)`` returns the nn.Linear that equals a 1x1 convolution at every pixel."""
    torch.manual_seed(0)
    conv = nn.Conv2d(7, 5, kernel_size=1)
    linear = to_linear(conv)
    if not isinstance(linear, nn.Linear):
        return False, f"expected an nn.Linear, got {type(linear).__name__}"
    x = torch.randn(2, 7, 6, 4)
    with torch.no_grad():
        expected, got = conv(x), linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    if got.shape != expected.shape:
        return False, f"the output has shape {tuple(got.shape)}, the convolution's {tuple(expected.shape)}"
    error = (got - expected).abs().max().item()
    if error > 1e-5:
        return False, f"the outputs differ by up to {error:.3g}: copy conv.weight[:, :, 0, 0] and the bias"
    return True, "the linear layer computes the convolution at every pixel."


@checker("ch5.mlpconv1-macs")
def _mlpconv1_macs(answer: int) -> tuple[bool, str]:
    """Multiply-accumulates of the CIFAR-10 NiN's first mlpconv block on a 32x32 RGB image."""
    nin = create("nin", small_input=True, num_classes=10)
    expected = summary(nin, (3, 32, 32), depth=2).row("features.mlpconv1").macs
    return expect_number(answer, expected, "count 5x5x3 MACs per output of the first layer, then the "
                                           "input channels of each 1x1 layer, at all 32x32 positions.")
