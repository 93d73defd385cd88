"""Checkers for the chapters' exercises.

In a chapter, ``check("ch1.output-size", my_function)`` runs the checker of that
exercise on the reader's answer and shows feedback. A checker computes the right
answer from the library (a real layer, a real model), so it never disagrees with
what the book's code does. Each chapter's checkers live in their own module
(``ch01``, ``ch02``, ...), registered on import; ``expect_number`` and
``expect_tensor`` word the feedback of the usual answers.
"""

from ._core import Checker, Feedback, check, checker, exercises, expect_number, expect_tensor
from . import ch01, ch02  # noqa: F401  (registers the checkers)
from . import ch03  # noqa: F401
from . import ch04  # noqa: F401
from . import ch05  # noqa: F401
from . import ch06  # noqa: F401
from . import ch07  # noqa: F401
from . import ch08  # noqa: F401
from . import ch09  # noqa: F401
from . import ch10  # noqa: F401
from . import ch11  # noqa: F401
from . import ch12  # noqa: F401
from . import ch13  # noqa: F401
from . import ch14  # noqa: F401
from . import ch15  # noqa: F401
from . import ch16  # noqa: F401
from . import ch17  # noqa: F401
from . import ch91  # noqa: F401

__all__ = ["Checker", "Feedback", "check", "checker", "exercises", "expect_number", "expect_tensor"]
