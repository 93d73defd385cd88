"""Checkers for chapter 6: GoogLeNet."""

from __future__ import annotations

import math

from torch import nn

from ..analysis import summary
from ..models import create
from ._core import checker, expect_number, parameter_count


def _conv_macs(in_channels: int, grid: int, *filters: tuple[int, int]) -> int:
    """MACs of convolutions (out_channels, kernel) side by side on an in_channels x grid x grid input."""
    convs = nn.ModuleList(nn.Conv2d(in_channels, out, k, padding=k // 2) for out, k in filters)
    return sum(summary(nn.Sequential(conv), (in_channels, grid, grid)).total_macs for conv in convs)


@checker("ch6.naive-3a-macs")
def _naive_3a_macs(answer: int) -> tuple[bool, str]:
    """Module 3a without reductions: 64 1x1, 128 3x3 and 32 5x5 filters on 28x28x192."""
    expected = _conv_macs(192, 28, (64, 1), (128, 3), (32, 5))
    return expect_number(answer, expected, "each output value of a k x k filter costs 192 k^2 multiply-adds; "
                                           "count 28 x 28 outputs per filter.")


@checker("ch6.reduced-seed-macs")
def _reduced_seed_macs(answer: int) -> tuple[bool, str]:
    """The reduced module of the source article's example on 28x28x256."""
    expected = _conv_macs(256, 28, (128, 1), (64, 1), (64, 1), (64, 1)) + _conv_macs(64, 28,
                                                                                     (192, 3), (96, 5))
    return expect_number(answer, expected, "four 1x1 layers read the 256 input channels; the 3x3 and the 5x5 "
                                           "read the 64 channels of their reductions.")


@checker("ch6.aux-params")
def _aux_params(answer: int) -> tuple[bool, str]:
    """Parameters of GoogLeNet's auxiliary classifier on module 4a (1,000 classes)."""
    expected = parameter_count(create("googlenet").aux1)
    return expect_number(answer, expected,
                         "add the 1x1 convolution with its normalisation, the 2,048 -> 1,024 "
                         "layer and the 1,024 -> 1,000 layer, biases included.")


@checker("ch6.lr-halving-epochs")
def _lr_halving_epochs(answer: int) -> tuple[bool, str]:
    """Epochs until a learning rate cut by 4% every 8 epochs is first below half its start."""
    cuts = math.ceil(math.log(0.5) / math.log(0.96))
    return expect_number(answer, cuts * 8, "after n cuts the rate is 0.96^n of the start; find the first n "
                                           "with 0.96^n < 0.5, and count 8 epochs per cut.")
