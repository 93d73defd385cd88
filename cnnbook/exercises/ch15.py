"""Checkers for chapter 15: dual path networks."""

from __future__ import annotations

from typing import Callable

import torch

from .. import models
from ..models.dpn import DualPathBlock
from ._core import checker, expect_number, expect_tensor, parameter_count


@checker("ch15.dense-width")
def _dense_width(answer: int) -> tuple[bool, str]:
    """Channels leaving DPN-92's third stage (conv4_1 ... conv4_20): residual width plus dense path."""
    with torch.device("meta"):
        dpn92 = models.create("dpn92")
    expected = dpn92.features.conv5_1.c1x1_a.conv.in_channels
    return expect_number(answer, expected,
                         "the stage's first block projects to bw + 2 inc channels and adds inc "
                         "new ones; every later block adds inc more; bw stays fixed.")


@checker("ch15.block-params")
def _block_params(answer: int) -> tuple[bool, str]:
    """Parameters of block conv3_2 of dpn20_small (112 channels in, width 32 in 2 groups, bw 64, inc 16)."""
    expected = parameter_count(models.create("dpn20_small").features.conv3_2)
    return expect_number(answer, expected,
                         "count BN (2 per channel) and conv weights (no biases) of the three "
                         "BN-ReLU-conv units: 1x1 112->32, grouped 3x3 32->32 in 2 groups, "
                         "1x1 32->80; a normal block has no projection.")


@checker("ch15.split")
def _split(merge: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]) -> tuple[bool, str]:
    """``merge(x, out, bw)`` turns a normal block's input and transform output into the block's output."""
    torch.manual_seed(15)
    block = DualPathBlock(40, 32, bw=24, inc=8, groups=8, kind="normal").eval()
    x = torch.randn(2, 40, 5, 5)
    with torch.no_grad():
        out = block.c1x1_c(block.c3x3_b(block.c1x1_a(x)))
        expected = block(x)
    return expect_tensor(merge(x, out, 24), expected,
                         "it matches DualPathBlock: the first bw channels are added, the rest concatenated.",
                         "the shape is right but not the values: add the first bw channels of out to the first bw "
                         "of x, then append the rest of x, then the rest of out, in that order.",
                         " (the dense path grows by inc = out.shape[1] - bw channels)")
