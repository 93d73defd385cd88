"""Chapter 11's checkers accept the right answers and reject wrong ones."""

import pytest

from cnnbook.exercises import check
from cnnbook.exercises.ch11 import matched_depth


def test_blocks_per_stage():
    assert check("ch11.blocks-per-stage", (28 - 4) // 6)
    assert not check("ch11.blocks-per-stage", (28 - 4) // 2)    # all stages together, as if 2 layers each
    assert not check("ch11.blocks-per-stage", 28 // 2)          # every pair of layers taken for a block
    assert not check("ch11.blocks-per-stage", "4")


def test_block_params():
    convs = 2 * 9 * 320 * 320
    assert check("ch11.block-params", convs + 2 * 2 * 320)
    assert not check("ch11.block-params", convs)                  # batch norms forgotten
    assert not check("ch11.block-params", convs + 2 * 4 * 320)    # running statistics counted as parameters


def test_matched_depth():
    assert check("ch11.matched-depth", 46)
    assert not check("ch11.matched-depth", 40)
    assert not check("ch11.matched-depth", 52)
    assert not check("ch11.matched-depth",
                     16 * 4)    # four times the depth overshoots: the stem and shortcuts


def test_matched_depth_rejects_bad_width():
    with pytest.raises(ValueError, match="widen_factor"):
        matched_depth(0, 1000)


def wide_block(block, x):
    out = block.conv1(block.relu(block.norm1(x)))
    return block.conv2(block.dropout(block.relu(block.norm2(out)))) + x


def dropout_after_second_conv(block, x):
    out = block.conv1(block.relu(block.norm1(x)))
    return block.dropout(block.conv2(block.relu(block.norm2(out)))) + x


def dropout_on_shortcut(block, x):
    out = block.conv1(block.relu(block.norm1(x)))
    return block.conv2(block.relu(block.norm2(out))) + block.dropout(x)


def without_dropout(block, x):
    out = block.conv1(block.relu(block.norm1(x)))
    return block.conv2(block.relu(block.norm2(out))) + x


def test_wide_block_forward():
    assert check("ch11.wide-block-forward", wide_block)
    assert not check("ch11.wide-block-forward", dropout_after_second_conv)
    assert not check("ch11.wide-block-forward", dropout_on_shortcut)
    assert not check("ch11.wide-block-forward", without_dropout)
    assert not check("ch11.wide-block-forward", lambda block, x: x.sum())
