"""Chapter 16's checkers accept the right answers and reject wrong ones."""

import torch

from cnnbook.exercises import check
from cnnbook.exercises.ch16 import attention_mlp_params, uniform_split_weight
from cnnbook.models.resnest import SplitAttention


def test_attention_params():
    hidden = 32                                   # max(32, int(64 * 2 / 4 + 4) // 8 * 8) = max(32, 32)
    right = (64 * hidden + hidden) + 2 * hidden + (hidden * 128 + 128)
    assert attention_mlp_params(SplitAttention(64, 64, radix=2)) == right
    assert check("ch16.attention-params", right)
    assert not check("ch16.attention-params", right - 2 * hidden)            # forgot the batch norm
    assert not check("ch16.attention-params", 64 * hidden + hidden * 128)    # no biases, no batch norm
    assert not check("ch16.attention-params", "6368")


def test_zero_scores():
    assert [uniform_split_weight(r) for r in (1, 2, 4)] == [0.5, 0.5, 0.25]
    assert check("ch16.zero-scores", 0.25)
    assert not check("ch16.zero-scores", 0.5)     # the sigmoid of zero: radix 1, not 4
    assert not check("ch16.zero-scores", 1)
    assert not check("ch16.zero-scores", True)


def test_r_softmax():
    def r_softmax(scores, radix, cardinality):
        n = scores.shape[0]
        if radix == 1:
            return torch.sigmoid(scores).view(n, 1, -1)
        per_group = scores.view(n, cardinality, radix, -1).transpose(1, 2)   # (N, radix, card, C/card)
        return per_group.softmax(1).reshape(n, radix, -1)

    assert check("ch16.r-softmax", r_softmax)

    def split_major(scores, radix, cardinality):     # ignores the cardinal groups' order
        n = scores.shape[0]
        if radix == 1:
            return torch.sigmoid(scores).view(n, 1, -1)
        return scores.view(n, radix, -1).softmax(1)

    assert not check("ch16.r-softmax", split_major)

    def softmax_everywhere(scores, radix, cardinality):   # softmax even at radix 1
        n = scores.shape[0]
        return scores.view(n, cardinality, radix, -1).transpose(1, 2).softmax(1).reshape(n, radix, -1)

    assert not check("ch16.r-softmax", softmax_everywhere)
    assert not check("ch16.r-softmax", lambda s, r, c: s.softmax(1))   # over all channels: wrong shape
