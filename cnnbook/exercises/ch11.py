"""Checkers for chapter 11: wide residual networks."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..models import create
from ..models.blocks import PreActBasicBlock
from ..models.wide_resnet import wide_resnet
from ._core import checker, expect_number, expect_tensor, parameter_count


def matched_depth(widen_factor: int, target: int, depths: range = range(10, 203, 6)) -> int:
    """The depth d (6n + 4) whose CIFAR WRN-d-``widen_factor`` has the parameter count closest to ``target``."""
    if widen_factor < 1:
        raise ValueError(f"widen_factor must be at least 1, got {widen_factor}")
    with torch.device("meta"):            # only the counts are needed, not the weights
        return min(depths, key=lambda d: abs(parameter_count(wide_resnet(d, widen_factor)) - target))


@checker("ch11.blocks-per-stage")
def _blocks_per_stage(answer: int) -> tuple[bool, str]:
    """Blocks in each of the three stages of WRN-28-10."""
    with torch.device("meta"):
        model = create("wrn28_10")
    return expect_number(answer, len(model.stages[0].blocks),
                         "a WRN has 6n + 4 layers: three stages of n blocks of two convolutions, plus the stem "
                         "convolution, the classifier and the two projection shortcuts that change the width.")


@checker("ch11.block-params")
def _block_params(answer: int) -> tuple[bool, str]:
    """Parameters of an identity block of WRN-28-10's second stage (320 channels in and out)."""
    expected = parameter_count(PreActBasicBlock(320, 320))
    return expect_number(answer, expected,
                         "two 3x3 convolutions of 320 x 320 channels without biases, and two "
                         "batch norms (a scale and a shift per channel) on 320 channels each.")


@checker("ch11.matched-depth")
def _matched_depth(answer: int) -> tuple[bool, str]:
    """The depth of the thin WRN-d-1 whose parameter count is closest to WRN-16-2's."""
    with torch.device("meta"):
        target = parameter_count(wide_resnet(16, 2))
    expected = matched_depth(1, target)
    return expect_number(answer, expected,
                         "doubling the width multiplies a stage's parameters by about 4, so the "
                         "thin network needs about four times as many blocks; compare the counts "
                         "of WRN-d-1 for d = 6n + 4 near that.")


@checker("ch11.wide-block-forward")
def _wide_block_forward(forward: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> tuple[bool, str]:
    """``forward(block, x)``: a wide block in training mode, dropout between the two convolutions."""
    block = PreActBasicBlock(8, 8, dropout=0.3).train()
    x = torch.randn(4, 8, 6, 6, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        torch.manual_seed(0)              # the same dropout mask for the block and for the answer
        expected = block(x.clone())
        torch.manual_seed(0)
        got = forward(block, x.clone())
    return expect_tensor(got, expected, "it matches the wide block: dropout acts on the first convolution's "
                                        "activated output only.",
                         "the output differs from the wide block's: BN-ReLU-conv, BN-ReLU, dropout, conv, and then "
                         "add x; the shortcut carries x untouched.")
