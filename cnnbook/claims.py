"""Claims: the conclusions the prose draws from a run, checked against that run.

A chapter states each conclusion it draws from its own results in a cell::

    claim("the wide network is more accurate than the deep one", wide_acc > deep_acc)

In full mode, the mode the book is committed in, a claim that the run contradicts
stops the execution, so a notebook cannot be committed with a sentence its own run
contradicts. In quick mode the runs are too short to support any conclusion, so the
claim is printed as unchecked.
"""

from __future__ import annotations

from .data import quick_mode

HOLDS, UNCHECKED = "holds:", "unchecked in quick mode:"


class ClaimFailed(AssertionError):
    """A sentence of the text that the chapter's own run contradicts."""


def claim(statement: str, holds: bool, *, quick: bool | None = None) -> None:
    """Print ``statement`` as checked; raise ClaimFailed if the run contradicts it (full mode only).

    ``quick`` defaults to ``CNNBOOK_QUICK`` (``cnnbook.data.quick_mode``).
    """
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError("claim() needs the sentence it checks, as a non-empty string.")
    if quick_mode() if quick is None else quick:
        print(UNCHECKED, statement)
    elif bool(holds):
        print(HOLDS, statement)
    else:
        raise ClaimFailed(f"the run contradicts the text: {statement!r}. Change the run or the sentence.")
