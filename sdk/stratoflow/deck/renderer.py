"""``flytekit.deck.renderer``: flytekit's core renderers, value -> HTML text for a :class:`Deck`.

Their libraries are imported when a renderer is used: pandas / pyarrow (the ``dataframe``
extra) for frames, markdown-it-py and Pygments (both installed with rich, a stratoflow
dependency) for Markdown and source code.
"""

from __future__ import annotations

import html
from typing import Any, Protocol, runtime_checkable

from stratoflow.values import frame_kind

__all__ = [
    "DEFAULT_MAX_COLS",
    "DEFAULT_MAX_ROWS",
    "ArrowRenderer",
    "MarkdownRenderer",
    "Renderable",
    "SourceCodeRenderer",
    "TopFrameRenderer",
]

DEFAULT_MAX_ROWS = 10
DEFAULT_MAX_COLS = 100


@runtime_checkable
class Renderable(Protocol):
    """Anything with ``to_html(value) -> str`` (flytekit's renderer protocol)."""

    def to_html(self, python_value: Any) -> str:
        """The value as HTML text."""
        ...


class TopFrameRenderer:
    """The first ``max_rows`` rows of a DataFrame as an HTML table.

    Example:
        >>> import pandas as pd  # doctest: +SKIP
        >>> TopFrameRenderer(max_rows=2).to_html(pd.DataFrame({"a": [1, 2, 3]}))  # doctest: +SKIP
    """

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, max_cols: int = DEFAULT_MAX_COLS) -> None:
        self._max_rows = max_rows
        self._max_cols = max_cols

    def to_html(self, df: Any) -> str:
        """``df`` (a pandas DataFrame) as an HTML table."""
        if frame_kind(type(df)) != "dataframe":
            raise TypeError(f"TopFrameRenderer renders a pandas DataFrame, not {type(df).__name__}")
        text: str = df.to_html(max_rows=self._max_rows, max_cols=self._max_cols)
        return text


class ArrowRenderer:
    """A pyarrow Table as text (flytekit's: the table's ``to_string()``), escaped for HTML."""

    def to_html(self, df: Any) -> str:
        """``df`` (a pyarrow Table) as preformatted text."""
        if frame_kind(type(df)) != "arrow_table":
            raise TypeError(f"ArrowRenderer renders a pyarrow Table, not {type(df).__name__}")
        return f"<pre>{html.escape(df.to_string())}</pre>"


class MarkdownRenderer:
    """Markdown text as HTML (CommonMark, by markdown-it-py as in flytekit).

    Example:
        >>> MarkdownRenderer().to_html("# Hello")
        '<h1>Hello</h1>\\n'
    """

    def to_html(self, text: str) -> str:
        """``text`` (Markdown) as HTML."""
        from markdown_it import MarkdownIt  # noqa: PLC0415 - only when a task renders Markdown

        rendered: str = MarkdownIt().render(text)
        return rendered


class SourceCodeRenderer:
    """Python source as highlighted HTML (Pygments' ``colorful`` style, as in flytekit)."""

    def __init__(self, title: str = "Source Code") -> None:
        self._title = title

    def to_html(self, source_code: str) -> str:
        """``source_code`` as HTML with its stylesheet."""
        from pygments import highlight  # noqa: PLC0415 - only when a task renders source
        from pygments.formatters.html import HtmlFormatter  # noqa: PLC0415
        from pygments.lexers.python import PythonLexer  # noqa: PLC0415

        formatter = HtmlFormatter(style="colorful")
        css = formatter.get_style_defs(".highlight").replace("#fff0f0", "#ffffff")
        return f"<style>{css}</style>{highlight(source_code, PythonLexer(), formatter)}"
