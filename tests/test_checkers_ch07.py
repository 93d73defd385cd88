"""Chapter 7's checkers accept the right answers and reject wrong ones."""

import torch

from cnnbook.exercises import check


def test_bn_params():
    assert check("ch7.bn-params", 128)
    assert not check("ch7.bn-params", 256)   # counting the running statistics


def normalise(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    return gamma[:, None, None] * (x - mean) / torch.sqrt(var + eps) + beta[:, None, None]


def test_batch_norm():
    assert check("ch7.batch-norm", normalise)
    unbiased = lambda x, g, b, eps: g[:, None, None] * (x - x.mean((0, 2, 3), keepdim=True)) / torch.sqrt(
        x.var((0, 2, 3), keepdim=True) + eps) + b[:, None, None]
    assert not check("ch7.batch-norm", unbiased)
    per_sample = lambda x, g, b, eps: (x - x.mean((1, 2, 3), keepdim=True)) / x.std((1, 2, 3), keepdim=True)
    assert not check("ch7.batch-norm", per_sample)
    assert not check("ch7.batch-norm", lambda x, g, b, eps: x.mean())


def test_factorised_7x7():
    assert check("ch7.factorised-7x7", 49 * 192 ** 2 - 14 * 192 ** 2)
    assert not check("ch7.factorised-7x7", 14 * 192 ** 2)


def test_smoothed_target():
    assert check("ch7.smoothed-target", 0.91)
    assert not check("ch7.smoothed-target", 0.9)
    assert not check("ch7.smoothed-target", "0.91")
