"""Checkers for chapter 7: batch normalisation and Inception v2/v3."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ._core import checker, expect_number, parameter_count


@checker("ch7.bn-params")
def _bn_params(answer: int) -> tuple[bool, str]:
    """Trainable parameters of nn.BatchNorm2d(64)."""
    return expect_number(answer, parameter_count(nn.BatchNorm2d(64)),
                         "count what the optimiser updates: the running statistics are buffers.")


@checker("ch7.batch-norm")
def _batch_norm(normalise: Callable[..., torch.Tensor]) -> tuple[bool, str]:
    """``normalise(x, gamma, beta, eps)``: batch normalisation in training mode."""
    torch.manual_seed(0)
    x = torch.randn(6, 3, 5, 4) * torch.tensor([1.0, 4.0, 0.5])[:, None, None] + 2
    gamma, beta = torch.rand(3) + 0.5, torch.randn(3)
    expected = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    got = normalise(x, gamma, beta, 1e-5)
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        return False, f"expected a tensor of shape {tuple(x.shape)}"
    error = (got - expected).abs().max().item()
    if error > 1e-4:
        return False, (f"the output differs from batch normalisation by up to {error:.3g}: divide by the "
                       "square root of the (biased) variance plus eps, then scale by gamma and add beta")
    return True, "it matches PyTorch's batch normalisation in training mode."


@checker("ch7.factorised-7x7")
def _factorised_7x7(answer: int) -> tuple[bool, str]:
    """Weights saved by 1x7 + 7x1 instead of 7x7, 192 -> 192 channels, no biases."""
    full = parameter_count(nn.Conv2d(192, 192, 7, bias=False))
    pair = parameter_count(nn.Conv2d(192, 192, (1, 7), bias=False)) + parameter_count(
        nn.Conv2d(192, 192, (7, 1), bias=False))
    return expect_number(answer, full - pair,
                         "a k x l convolution from 192 to 192 channels has k l 192^2 weights.")


@checker("ch7.smoothed-target")
def _smoothed_target(answer: float) -> tuple[bool, str]:
    """The target probability of the true class with label smoothing 0.1 over 10 classes."""
    target = F.one_hot(torch.tensor(0), 10).double() * 0.9 + 0.1 / 10
    expected = target[0].item()
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    if abs(answer - expected) < 1e-9:
        return True, f"{expected:g} is right: the other nine classes get {target[1].item():g} each."
    return False, f"{answer:g} is not it: the target is (1 - 0.1) times the one-hot vector plus 0.1 / 10 everywhere."
