"""Chapter 15's checkers accept the right answers and reject wrong ones."""

import torch

from cnnbook.exercises import check


def test_dense_width():
    # DPN-92's third stage: bw 1024, inc 24, 20 blocks: 1024 + 3 x 24 + 19 x 24
    assert check("ch15.dense-width", 1024 + 22 * 24)
    assert not check("ch15.dense-width", 1024 + 20 * 24)     # one inc per block only
    assert not check("ch15.dense-width", 1024)                 # forgot the dense path


def test_block_params():
    bn = 2 * (112 + 32 + 32)
    convs = 112 * 32 + 32 * 16 * 9 + 32 * (64 + 16)
    assert check("ch15.block-params", convs + bn)
    assert not check("ch15.block-params", convs)                        # forgot the batch norms
    assert not check("ch15.block-params", 112 * 32 + 32 * 32 * 9 + 32 * 80 + bn)   # ungrouped 3x3
    assert not check("ch15.block-params", "13k")


def test_split():
    def merge(x, out, bw):
        return torch.cat([x[:, :bw] + out[:, :bw], x[:, bw:], out[:, bw:]], 1)

    assert check("ch15.split", merge)
    assert not check("ch15.split", lambda x, out,
                     bw: torch.cat([x[:, :bw] + out[:, :bw], out[:, bw:], x[:, bw:]], 1))
    assert not check("ch15.split", lambda x, out,
                     bw: torch.cat([x, out], 1))            # DenseNet: no addition
    assert not check("ch15.split", lambda x, out,
                     bw: x[:, :bw] + out[:, :bw])           # ResNet: no dense path
    assert not check("ch15.split", lambda x, out, bw: None)
