"""The machinery of exercise checkers: registration, checking and feedback.

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
    return Feedback(exercise, bool(correct), str(message))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def expect_number(answer: Any, expected: int, hint: str) -> tuple[bool, str]:
    """Right when the reader's ``answer`` is the number ``expected``; otherwise the ``hint``."""
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return False, f"expected a number, got {type(answer).__name__}"
    if answer == expected:
        return True, f"{expected:,} is right."
    return False, f"{answer:,} is not it. {hint}"


def expect_tensor(got: Any, expected: torch.Tensor, right: str, wrong: str,
                  shape_hint: str = "") -> tuple[bool, str]:
    """Compare the reader's tensor with the library's: its type, its shape, then its values."""
    if not isinstance(got, torch.Tensor):
        return False, f"expected a tensor, got {type(got).__name__}"
    if got.shape != expected.shape:
        return False, f"the output has shape {tuple(got.shape)}, expected {tuple(expected.shape)}{shape_hint}"
    if not torch.allclose(got, expected, atol=1e-5):
        return False, wrong
    return True, right
