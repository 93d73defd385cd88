"""Checkers for chapter 10: Inception-v4 and Inception-ResNet."""

from __future__ import annotations

import torch

from ..models.inception import InceptionResNetA, InceptionV4, ReductionA
from ._core import checker, expect_number, parameter_count


def stem_output_side(image_side: int = 299) -> int:
    """Side of the maps that Inception-v4's stem hands to the first Inception-A block."""
    with torch.device("meta"):
        stem = InceptionV4().features[:6]
        return stem(torch.zeros(1, 3, image_side, image_side)).shape[-1]


@checker("ch10.projection-params")
def _projection_params(answer: int) -> tuple[bool, str]:
    """Parameters of the 1x1 projection that ends an Inception-ResNet-A block (full width)."""
    expected = parameter_count(InceptionResNetA(scale=0.17).conv2d)
    return expect_number(answer, expected, "the three branches concatenate 32 + 32 + 64 = 128 channels; the "
                                           "projection maps them to the block's 320 and, without a batch norm "
                                           "after it, keeps its bias.")


@checker("ch10.reduction-a-channels")
def _reduction_a_channels(answer: int) -> tuple[bool, str]:
    """Output channels of Inception-v4's Reduction-A (k, l, m, n = 192, 224, 256, 384) on 384 channels."""
    with torch.device("meta"):
        out = ReductionA(384, 192, 224, 256, 384)(torch.zeros(1, 384, 35, 35))
    return expect_number(answer, out.shape[1],
                         "the block concatenates n channels from the 3x3/2 convolution, "
                         "m from the 1x1 -> 3x3 -> 3x3/2 branch, and the max pooling's "
                         "input channels, unchanged.")


@checker("ch10.stem-grid")
def _stem_grid(answer: int) -> tuple[bool, str]:
    """Side of the grid on which Inception-v4's first Inception-A block runs, for 299x299 images."""
    return expect_number(answer, stem_output_side(299), "follow the stem: an unpadded 3x3 convolution leaves "
                                                        "n - 2, an unpadded 3x3/2 one (n - 3) // 2 + 1; the "
                                                        "stem has four stride-2 steps and three unpadded 3x3s.")
