"""Checkers for chapter 12: ResNeXt."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ..models.blocks import Bottleneck
from ._core import checker, expect_number, expect_tensor, parameter_count


def matched_group_width(cardinality: int, in_channels: int = 256, planes: int = 64) -> int:
    """The group width d whose ResNeXt block (``cardinality`` x d) has the parameter count
    closest to that of the ResNet bottleneck (1 x 64d) with the same input and output."""
    if cardinality < 1:
        raise ValueError(f"cardinality must be at least 1, got {cardinality}")
    target = parameter_count(Bottleneck(in_channels, planes))
    return min(range(1, planes + 1), key=lambda d: abs(
        parameter_count(Bottleneck(in_channels, planes, groups=cardinality, width_per_group=d)) - target))


@checker("ch12.grouped-conv-params")
def _grouped_conv_params(answer: int) -> tuple[bool, str]:
    """Weights of a 3x3 convolution from 128 to 128 channels in 32 groups, without bias."""
    expected = parameter_count(nn.Conv2d(128, 128, 3, groups=32, bias=False))
    return expect_number(answer, expected, "each of the 128 filters sees only the 128 / 32 = 4 channels "
                                           "of its own group, over 3x3 positions.")


@checker("ch12.block-params")
def _block_params(answer: int) -> tuple[bool, str]:
    """Parameters of a ResNeXt-50 (32x4d) block with 256 channels in and out (identity shortcut)."""
    expected = parameter_count(Bottleneck(256, 64, groups=32, width_per_group=4))
    return expect_number(answer, expected, "the block is 1x1 256->128, a 3x3 128->128 in 32 groups, "
                                           "1x1 128->256, no biases, and a batch norm (2 per channel) after each.")


@checker("ch12.matched-width")
def _matched_width(answer: int) -> tuple[bool, str]:
    """Group width d of a 16 x d block whose parameters come closest to ResNet-50's first-stage block."""
    expected = matched_group_width(16)
    return expect_number(answer, expected, "count 256*(C*d) + 9*C*d*d + (C*d)*256 weights plus the batch "
                                           "norms for a few d, and compare with the 1 x 64d block.")


@checker("ch12.grouped-by-hand")
def _grouped_by_hand(grouped: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]) -> tuple[bool, str]:
    """``grouped(x, weight, groups)`` computes a grouped 3x3 convolution (padding 1) with ordinary ones."""
    generator = torch.Generator().manual_seed(12)
    x = torch.randn(2, 16, 6, 6, generator=generator)
    weight = torch.randn(16, 4, 3, 3, generator=generator)
    expected = F.conv2d(x, weight, padding=1, groups=4)
    got = grouped(x, weight, 4)
    return expect_tensor(got, expected,
                         "it matches F.conv2d(..., groups=4): a grouped convolution is separate "
                         "paths, concatenated.",
                         "the shapes are right but not the values: group i takes input channels and filters "
                         "i*n ... (i+1)*n - 1, and the groups' outputs are concatenated in order.")
