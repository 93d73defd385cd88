"""Checkers for chapter 8: ResNet."""

from __future__ import annotations

from typing import Callable

import torch

from ..models.blocks import BasicBlock, Bottleneck, ZeroPadShortcut
from ..models.resnet import LAYERS
from ._core import checker, expect_number, expect_tensor, parameter_count


@checker("ch8.basic-block-params")
def _basic_block_params(answer: int) -> tuple[bool, str]:
    """Parameters of a basic block with 64 channels in and out (identity shortcut)."""
    expected = parameter_count(BasicBlock(64, 64))
    return expect_number(answer, expected, "two 3x3 convolutions of 64x64 channels without biases, "
                                           "and two batch norms with a scale and a shift per channel.")


@checker("ch8.bottleneck-params")
def _bottleneck_params(answer: int) -> tuple[bool, str]:
    """Parameters of a bottleneck block with 256 channels in and out (64 in the middle)."""
    expected = parameter_count(Bottleneck(256, 64))
    return expect_number(answer, expected, "a 1x1 convolution 256->64, a 3x3 64->64, a 1x1 64->256, "
                                           "no biases, and a batch norm (2 parameters per channel) after each.")


@checker("ch8.resnet152-blocks")
def _resnet152_blocks(answer: int) -> tuple[bool, str]:
    """Residual blocks in ResNet-152."""
    _, layers = LAYERS[152]
    return expect_number(answer, sum(layers), "each bottleneck block has three weighted layers; "
                                              "the stem's convolution and the final linear layer make two more.")


@checker("ch8.zero-pad-shortcut")
def _zero_pad_shortcut(shortcut: Callable[[torch.Tensor], torch.Tensor]) -> tuple[bool, str]:
    """``shortcut(x)`` halves the resolution of x (N, C, H, W) and doubles its channels with zeros."""
    x = torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(8))
    expected = ZeroPadShortcut(16, 32, 2)(x)
    got = shortcut(x)
    return expect_tensor(got, expected,
                         "it matches option A: no parameters, and the old channels pass unchanged.",
                         "the shapes are right but not the values: keep every second row and column "
                         "(starting at 0) and put the new zero channels after the old ones.")
