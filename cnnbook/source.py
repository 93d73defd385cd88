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
    """The source of a class, function or method, with the file and line it comes from."""
    target = inspect.unwrap(obj)
    try:
        lines, start = inspect.getsourcelines(target)
        path = inspect.getsourcefile(target)
    except (TypeError, OSError) as error:
        raise TypeError(f"cannot show the source of {obj!r}: pass a class, function or method "
                        f"defined in Python code ({error})") from None
    module = inspect.getmodule(target)
    where = f"{module.__name__ if module else path}, line {start}"
    return Source(textwrap.dedent("".join(lines)).rstrip() + "\n", where)
