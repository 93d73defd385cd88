"""Show the real source of a ``cnnbook`` object in a chapter, highlighted.

The book never pastes copies of the package's code: it shows the code itself,
so what the reader reads is what runs.
"""

from __future__ import annotations

import inspect
import textwrap

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer


class Source:
    """Source text that renders highlighted in Jupyter and plain in a terminal."""

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where

    def __str__(self) -> str:
        return f"# {self.where}\n{self.text}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        code = highlight(self.text, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))
        return f'<div style="font-size:85%"><p><code>{self.where}</code></p>{code}</div>'


def show_source(obj: object) -> Source:
    """The source of a class, function or method, headed by its qualified name."""
    target = inspect.unwrap(obj)
    try:
        text = inspect.getsource(target)
    except (TypeError, OSError) as error:
        raise TypeError(f"cannot show the source of {obj!r}: pass a class, function or method "
                        f"defined in Python code ({error})") from None
    where = f"{target.__module__}.{target.__qualname__}"
    return Source(textwrap.dedent(text).rstrip() + "\n", where)
