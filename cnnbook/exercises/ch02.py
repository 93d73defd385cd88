"""Checkers for chapter 2: LeNet-5."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ._core import checker, expect_number, parameter_count


@checker("ch2.full-c3-params")
def _full_c3_params(answer: int) -> tuple[bool, str]:
    """Parameters of C3 if every map saw all 6 S2 maps."""
    expected = parameter_count(nn.Conv2d(6, 16, 5))
    return expect_number(answer, expected, "16 maps, each with 6x5x5 weights and a bias.")


@checker("ch2.c1-connections")
def _c1_connections(answer: int) -> tuple[bool, str]:
    """Connections of C1: every output unit has 5x5 inputs plus a bias."""
    c1 = nn.Conv2d(1, 6, 5)
    outputs = c1(torch.zeros(1, 1, 32, 32)).numel()
    expected = outputs * (5 * 5 + 1)
    return expect_number(answer, expected, f"C1 has {outputs:,} output units; how many inputs has each?")


@checker("ch2.lenet-32")
def _lenet_for_32(build: Callable[[], nn.Module]) -> tuple[bool, str]:
    """``build()`` returns a modern LeNet for 32x32 inputs without padding in C1."""
    model = build()
    logits = model(torch.zeros(2, 1, 32, 32))
    if tuple(logits.shape) != (2, 10):
        return False, f"the output has shape {tuple(logits.shape)}, expected (2, 10)"
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    if first.padding != (0, 0):
        return False, "the first convolution should not pad: the 32x32 input already has the border."
    return True, f"it runs on 32x32 images and has {parameter_count(model):,} parameters."
