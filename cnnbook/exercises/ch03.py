"""Checkers for chapter 3: AlexNet."""

from __future__ import annotations

from typing import Callable

from torch import nn

from ..analysis import conv_output_size
from ..models import create
from ._core import checker, expect_number, parameter_count


@checker("ch3.fc8-params")
def _fc8_params(answer: int) -> tuple[bool, str]:
    """Parameters of the paper's logits layer, 4,096 units to 1,000 classes."""
    expected = parameter_count(create("alexnet_paper").classifier.fc8)
    return expect_number(answer, expected, "4,096 inputs times 1,000 outputs, plus one bias per output.")


# Settings of (c_in, c_out, k, groups): AlexNet's conv2, conv4 and conv5, then ResNeXt- and depthwise-like ones.
GROUPED_CASES = [(96, 256, 5, 2), (384, 384, 3, 2), (384, 256, 3, 2), (256, 256, 3, 1),
                 (128, 128, 3, 32), (64, 64, 3, 64), (12, 6, 1, 3)]


@checker("ch3.grouped-params")
def _grouped_params(conv_params: Callable[[int, int, int, int], int]) -> tuple[bool, str]:
    """``conv_params(c_in, c_out, k, groups)`` counts a grouped convolution's weights and biases."""
    for c_in, c_out, k, groups in GROUPED_CASES:
        expected = parameter_count(nn.Conv2d(c_in, c_out, k, groups=groups))
        got = conv_params(c_in, c_out, k, groups)
        if got != expected:
            return False, (f"conv_params({c_in}, {c_out}, {k}, {groups}) returned {got!r}, but that layer has "
                           f"{expected:,} parameters. Each filter sees c_in // groups channels; "
                           "do not forget the biases.")
    return True, f"right for all {len(GROUPED_CASES)} layers tried, AlexNet's grouped conv2, conv4 and conv5 among them."


@checker("ch3.crops")
def _crop_count(answer: int) -> tuple[bool, str]:
    """Different 224x224 patches of a 256x256 image, mirrored or not."""
    positions = conv_output_size(256, 224, stride=1)
    return expect_number(answer, positions * positions * 2,
                         "At how many positions does a 224-wide window fit in 256 pixels? "
                         "Think of the output-size formula with stride 1; then count the mirrors.")
