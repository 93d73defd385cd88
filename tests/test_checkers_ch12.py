"""Chapter 12's checkers accept the right answers and reject wrong ones."""

import pytest
import torch
import torch.nn.functional as F

from cnnbook.exercises import check
from cnnbook.exercises.ch12 import matched_group_width


def test_grouped_conv_params():
    assert check("ch12.grouped-conv-params", 9 * 128 * 4)
    assert not check("ch12.grouped-conv-params", 9 * 128 * 128)      # as if it were not grouped
    assert not check("ch12.grouped-conv-params", 9 * 128 * 128 // 32 + 128)   # added biases


def test_block_params():
    convs = 256 * 128 + 9 * 128 * 4 + 128 * 256
    assert check("ch12.block-params", convs + 2 * (128 + 128 + 256))
    assert not check("ch12.block-params", convs)                     # forgot the batch norms
    assert not check("ch12.block-params", 256 * 128 + 9 * 128 * 128 + 128 * 256 + 1024)   # ungrouped 3x3


def test_matched_width_reproduces_the_papers_templates():
    # The paper's Table 2: 1x64d, 2x40d, 4x24d, 8x14d, 32x4d keep ResNet-50's complexity.
    assert [matched_group_width(c) for c in (1, 2, 4, 8, 32)] == [64, 40, 24, 14, 4]
    assert check("ch12.matched-width", 7)
    assert not check("ch12.matched-width", 4)
    assert not check("ch12.matched-width", 64 // 16)
    with pytest.raises(ValueError, match="cardinality"):
        matched_group_width(0)


def test_grouped_by_hand():
    def by_hand(x, weight, groups):
        xs, ws = x.chunk(groups, 1), weight.chunk(groups, 0)
        return torch.cat([F.conv2d(xi, wi, padding=1) for xi, wi in zip(xs, ws)], 1)

    assert check("ch12.grouped-by-hand", by_hand)
    assert check("ch12.grouped-by-hand", lambda x, w, g: F.conv2d(x, w, padding=1, groups=g))

    def same_input_for_all(x, weight, groups):
        return torch.cat([F.conv2d(x[:, :4], wi, padding=1) for wi in weight.chunk(groups, 0)], 1)

    assert not check("ch12.grouped-by-hand", same_input_for_all)
    assert not check("ch12.grouped-by-hand", lambda x, w, g: F.conv2d(x, w, groups=g))   # no padding
    assert not check("ch12.grouped-by-hand", lambda x, w, g: "a string")
