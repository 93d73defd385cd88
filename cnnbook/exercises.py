"""Checkers for the chapters' exercises.

In a chapter, ``check("ch1.output-size", my_function)`` runs the checker of that
exercise on the reader's answer and shows feedback. A checker computes the right
answer from the library (a real layer, a real model), so it never disagrees with
what the book's code does.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any, Callable

import torch
from torch import nn

Checker = Callable[[Any], tuple[bool, str]]
_CHECKERS: dict[str, Checker] = {}


@dataclass(repr=False)
class Feedback:
    """The verdict on one answer; true when correct."""

    exercise: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"[{'correct' if self.correct else 'not yet'}] {self.exercise}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, mark = ("#1a7f37", "&#10004;") if self.correct else ("#b35900", "&#10008;")
        return (f'<div style="border-left:4px solid {color};padding:4px 8px">'
                f'<b style="color:{color}">{mark} {escape(self.exercise)}</b>: {escape(self.message)}</div>')


def checker(exercise: str) -> Callable[[Checker], Checker]:
    """Register a function ``answer -> (correct, message)`` as the checker of ``exercise``."""
    def register(function: Checker) -> Checker:
        _CHECKERS[exercise] = function
        return function
    return register


def exercises() -> list[str]:
    """The ids of all exercises that have a checker."""
    return sorted(_CHECKERS)


def check(exercise: str, answer: Any) -> Feedback:
    """Check ``answer`` to ``exercise``; an exception inside the answer counts as wrong."""
    if exercise not in _CHECKERS:
        chapter = exercise.split(".")[0]
        known = [e for e in _CHECKERS if e.startswith(chapter + ".")] or exercises()
        raise ValueError(f"no exercise {exercise!r}; checkable exercises: {', '.join(known)}")
    try:
        correct, message = _CHECKERS[exercise](answer)
    except Exception as error:  # the reader's code failed: that is feedback, not a crash
        correct, message = False, f"your answer raised {type(error).__name__}: {error}"
    return Feedback(exercise, correct, message)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _expect_number(answer: Any, expected: int, hint: str) -> tuple[bool, str]:
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    if answer == expected:
        return True, f"{expected:,} is right."
    return False, f"{answer:,} is not it. {hint}"


# Chapter 1: convolutions from first principles

@checker("ch1.output-size")
def _output_size(function: Callable[..., int]) -> tuple[bool, str]:
    """``function(w, f, s, p)`` must give the output width of a convolution."""
    cases = [(w, f, s, p) for w in (5, 7, 28, 32, 227) for f in (1, 3, 5, 11)
             for s in (1, 2, 4) for p in (0, 1, 2) if f <= w + 2 * p and 2 * p <= f]
    for w, f, s, p in cases:
        truth = nn.Conv2d(1, 1, f, stride=s, padding=p)(torch.zeros(1, 1, w, w)).shape[-1]
        got = function(w, f, s, p)
        if got != truth:
            return False, (f"for W={w}, F={f}, S={s}, P={p} PyTorch gives {truth}, you gave {got}. "
                           "Remember (W - F + 2P) / S + 1, rounded down.")
    return True, f"matches PyTorch on all {len(cases)} settings tried."


@checker("ch1.conv-params")
def _conv_params(answer: int) -> tuple[bool, str]:
    """Parameters of 10 filters of 5x5 on a 32x32x3 input, biases included."""
    expected = _count(nn.Conv2d(3, 10, 5))
    return _expect_number(answer, expected, "Each filter spans all 3 input channels and has one bias.")


@checker("ch1.stacked-rf")
def _stacked_receptive_field(function: Callable[[int], int]) -> tuple[bool, str]:
    """``function(n)``: receptive field of n stacked 3x3 convolutions with stride 1."""
    for n in range(1, 8):
        stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, bias=False) for _ in range(n)])
        for conv in stack:
            nn.init.constant_(conv.weight, 1.0)
        size = 2 * n + 9
        image = torch.zeros(1, 1, size, size, requires_grad=True)
        out = stack(image)
        out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()
        truth = int((image.grad[0, 0, size // 2] != 0).sum())
        if function(n) != truth:
            return False, (f"for n={n} a unit sees {truth}x{truth} pixels, you gave {function(n)}. "
                           "Each 3x3 layer adds one pixel on each side.")
    return True, "right for n = 1 to 7: each extra layer adds 2."


def _extent_1d(stack: nn.Module, size: int) -> int:
    """How many input positions (along one axis) the centre output of ``stack`` depends on."""
    image = torch.zeros(1, 1, size, requires_grad=True)
    out = stack(image)
    out[0, 0, out.shape[-1] // 2].backward()
    seen = image.grad[0, 0].nonzero().flatten()
    return int(seen.max() - seen.min() + 1)


@checker("ch1.dilated-rf")
def _dilated_receptive_field(function: Callable[[int], int]) -> tuple[bool, str]:
    """``function(n)``: receptive field of n stacked 3x3 convolutions with dilations 1, 3, 9, ..., 3^(n-1)."""
    for n in range(1, 7):
        stack = nn.Sequential(*[nn.Conv1d(1, 1, 3, dilation=3 ** i, bias=False) for i in range(n)])
        for conv in stack:
            nn.init.constant_(conv.weight, 1.0)
        truth = _extent_1d(stack, 2 * 3 ** n + 1)
        got = function(n)
        if got != truth:
            return False, (f"for n={n} a unit sees {truth}x{truth} pixels, you gave {got}. "
                           "A 3x3 layer with dilation d adds d pixels on each side.")
    return True, "right for n = 1 to 6: the receptive field triples with each layer, without gaps."


@checker("ch1.fc-conv-grid")
def _fc_conv_grid(function: Callable[[int], int]) -> tuple[bool, str]:
    """``function(size)``: side of the score grid of VGG-16 with its FC layers turned into convolutions."""
    from .models import create
    # The real VGG-16 layers at 1/64 of the width (the sizes do not depend on it), moved
    # to the meta device: shapes only, nothing is computed.
    vgg = create("vgg16", width=1 / 64)
    channels = vgg.classifier[0].in_features // 49
    head = nn.Sequential(nn.Conv2d(channels, 64, 7), nn.ReLU(), nn.Conv2d(64, 64, 1), nn.ReLU(),
                         nn.Conv2d(64, 1000, 1))
    vgg, head = vgg.to("meta"), head.to("meta")
    for size in (224, 256, 288, 300, 320, 384, 416, 448, 500, 512):
        truth = head(vgg.features(torch.zeros(1, 3, size, size, device="meta"))).shape[-1]
        got = function(size)
        if got != truth:
            return False, (f"for a {size}x{size} image the grid is {truth}x{truth}, you gave {got}. "
                           "Follow the size through five 2x2 poolings, then a 7x7 convolution.")
    return True, "right for every size tried from 224 to 512, multiples of 32 or not."


POOL_INPUT = [[1, 5, 2, 0],
              [3, 4, 8, 1],
              [0, 2, 6, 7],
              [9, 1, 3, 2]]


@checker("ch1.maxpool-grad")
def _maxpool_gradient(answer: Any) -> tuple[bool, str]:
    """The gradient of the sum of ``MaxPool2d(2, stride=1)(POOL_INPUT)`` with respect to its input."""
    x = torch.tensor(POOL_INPUT, dtype=torch.float32)[None, None].requires_grad_()
    nn.MaxPool2d(2, stride=1)(x).sum().backward()
    truth = x.grad[0, 0]
    got = torch.as_tensor(answer, dtype=torch.float32)
    if got.shape != truth.shape:
        return False, f"expected a 4x4 grid of numbers, got shape {tuple(got.shape)}"
    wrong = (got != truth).nonzero().tolist()
    if wrong:
        i, j = wrong[0]
        return False, (f"{len(wrong)} of 16 entries differ, e.g. at row {i}, column {j} you gave "
                       f"{got[i, j].item():g}. Count in how many of the 2x2 windows each pixel is the maximum.")
    return True, f"right: the 8 wins {int(truth.max())} overlapping windows and gets a gradient of {int(truth.max())}."


# Chapter 2: LeNet-5

@checker("ch2.full-c3-params")
def _full_c3_params(answer: int) -> tuple[bool, str]:
    """Parameters of C3 if every map saw all 6 S2 maps."""
    expected = _count(nn.Conv2d(6, 16, 5))
    return _expect_number(answer, expected, "16 maps, each with 6x5x5 weights and a bias.")


@checker("ch2.c1-connections")
def _c1_connections(answer: int) -> tuple[bool, str]:
    """Connections of C1: every output unit has 5x5 inputs plus a bias."""
    c1 = nn.Conv2d(1, 6, 5)
    outputs = c1(torch.zeros(1, 1, 32, 32)).numel()
    expected = outputs * (5 * 5 + 1)
    return _expect_number(answer, expected, f"C1 has {outputs:,} output units; how many inputs has each?")


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
    return True, f"it runs on 32x32 images and has {_count(model):,} parameters."
