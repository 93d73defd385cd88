"""Checkers for the chapters' exercises.

In a chapter, ``check("ch1.output-size", my_function)`` runs the checker of that
exercise on the reader's answer and shows feedback. A checker computes the right
answer from the library (a real layer, a real model), so it never disagrees with
what the book's code does. Each chapter's checkers live in their own module
(``ch01``, ``ch02``, ...), registered on import; ``expect_number`` and
``expect_tensor`` word the feedback of the usual answers.
"""

# Importing the chapters' modules registers their checkers.
from . import (  # noqa: F401
    ch01,
    ch02,
    ch03,
    ch04,
    ch05,
    ch06,
    ch07,
    ch08,
    ch09,
    ch10,
    ch11,
    ch12,
    ch13,
    ch14,
    ch15,
    ch16,
    ch17,
    ch91,
)
from ._core import Checker, Feedback, check, checker, exercises, expect_number, expect_tensor

__all__ = ["Checker", "Feedback", "check", "checker", "exercises", "expect_number", "expect_tensor"]
