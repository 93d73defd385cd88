"""Chapter 8's checkers accept the right answers and reject wrong ones."""

import torch
import torch.nn.functional as F

from cnnbook.exercises import check


def test_basic_block_params():
    assert check("ch8.basic-block-params", 2 * 9 * 64 * 64 + 2 * 2 * 64)
    assert not check("ch8.basic-block-params", 2 * 9 * 64 * 64)          # forgot the batch norms
    assert not check("ch8.basic-block-params", 2 * (9 * 64 * 64 + 64))   # counted conv biases instead


def test_bottleneck_params():
    convs = 256 * 64 + 9 * 64 * 64 + 64 * 256
    assert check("ch8.bottleneck-params", convs + 2 * (64 + 64 + 256))
    assert not check("ch8.bottleneck-params", convs)
    assert not check("ch8.bottleneck-params", "69632")


def test_resnet152_blocks():
    assert check("ch8.resnet152-blocks", 3 + 8 + 36 + 3)
    assert not check("ch8.resnet152-blocks", 152)
    assert not check("ch8.resnet152-blocks", 152 // 2)   # as if the blocks were basic (two layers)


def test_zero_pad_shortcut():
    assert check("ch8.zero-pad-shortcut", lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, x.shape[1])))
    zeros_first = lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, x.shape[1], 0))
    assert not check("ch8.zero-pad-shortcut", zeros_first)
    pooled = lambda x: F.pad(F.avg_pool2d(x, 2), (0, 0, 0, 0, 0, x.shape[1]))
    assert not check("ch8.zero-pad-shortcut", pooled)
    assert not check("ch8.zero-pad-shortcut", lambda x: x[:, :, ::2, ::2])
    assert not check("ch8.zero-pad-shortcut", lambda x: torch.cat([x, x], 1).shape)
