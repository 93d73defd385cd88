"""Checkers for chapter 9: identity mappings (pre-activation ResNet)."""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ..models import create
from ..models.blocks import PreActBasicBlock, PreActBottleneck
from ._core import checker, expect_number, expect_tensor, parameter_count


@checker("ch9.resnet1001-blocks")
def _resnet1001_blocks(answer: int) -> tuple[bool, str]:
    """Residual blocks in the CIFAR pre-activation ResNet-1001."""
    with torch.device("meta"):            # only the structure is needed, not 10M random weights
        model = create("preact_resnet1001")
    blocks = sum(len(stage.blocks) for stage in model.stages)
    return expect_number(answer, blocks, "1001 = 9n + 2: three stages of n bottleneck blocks, three weighted "
                                         "layers per block, plus the stem convolution and the classifier.")


@checker("ch9.preact-bottleneck-params")
def _preact_bottleneck_params(answer: int) -> tuple[bool, str]:
    """Parameters of a pre-activation bottleneck with 64 channels in and out (16 in the middle)."""
    expected = parameter_count(PreActBottleneck(64, 64))
    return expect_number(answer, expected,
                         "a 1x1 convolution 64->16, a 3x3 16->16 and a 1x1 16->64, no biases; "
                         "a batch norm (scale and shift per channel) before each convolution, "
                         "on that convolution's input.")


@checker("ch9.scaled-shortcut")
def _scaled_shortcut(answer: float) -> tuple[bool, str]:
    """The factor on the shortcut-only path across the identity blocks of one stage of ResNet-164, lambda = 0.95."""
    with torch.device("meta"):
        model = create("preact_resnet164")
    stage = model.stages[1].blocks
    identities = sum(block.downsample is None for block in stage)
    expected = 0.95 ** identities
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    if math.isclose(answer, expected, rel_tol=1e-3):
        return True, (f"{expected:.4f} is right: {identities} identity shortcuts, each multiplying by 0.95 "
                      f"(the stage's first block projects).")
    return False, (f"{answer:g} is not it. Count the stage's blocks whose shortcut is the identity "
                   f"(the first block of a stage projects) and multiply 0.95 once per block.")


@checker("ch9.preact-forward")
def _preact_forward(forward: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> tuple[bool, str]:
    """``forward(block, x)``: a full pre-activation basic block with an identity shortcut."""
    generator = torch.Generator().manual_seed(9)
    block = PreActBasicBlock(8, 8).eval()
    for norm in (block.norm1, block.norm2):    # non-trivial statistics, so that BN's place matters
        norm.running_mean.normal_(0, 0.5, generator=generator)
        norm.running_var.uniform_(0.5, 2.0, generator=generator)
        norm.bias.data.normal_(0, 0.5, generator=generator)
    x = torch.randn(2, 8, 6, 6, generator=generator)
    with torch.no_grad():
        expected = block(x)
        got = forward(block, x.clone())
    return expect_tensor(got, expected,
                         "it matches PreActBasicBlock: the addition is the last thing the block does.",
                         "the output differs from the block's: BN then ReLU before each convolution, "
                         "and nothing after adding x.")
