"""Small display helpers for the notebooks: package code shown in place, plain tables, values in a sentence."""

from __future__ import annotations

import html
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from IPython.display import HTML
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

PACKAGE = Path(__file__).parents[1]

CODE_STYLE = "white-space: pre; overflow-x: auto; word-break: normal; overflow-wrap: normal; padding: 0.5em 0.8em;"
"""Code keeps its lines: too wide for the page, it scrolls sideways instead of breaking mid-word."""


def show_source(obj: Any) -> HTML:
    """The source of a function, class or module from the package, as a highlighted code block.

    The code lives once, in the package, and the notebook shows it where it is discussed.
    """
    path = Path(inspect.getsourcefile(obj) or "")
    where = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path.name
    lines, start = inspect.getsourcelines(obj)
    anchor = f"{where}" + (f", line {start}" if start else "")
    code = highlight("".join(lines).rstrip(), PythonLexer(), HtmlFormatter(nowrap=True, noclasses=True))
    return HTML(f"<p><code>{html.escape(anchor)}</code></p><pre style='{CODE_STYLE}'>{code}</pre>")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value).replace(",", ""))
    except ValueError:
        return False
    return True


def _cell(tag: str, value: Any, align: str) -> str:
    text = str(value)
    # A name or an id (no spaces) stays on one line; a sentence wraps.
    wrap = "nowrap" if text and not any(c.isspace() for c in text) and len(text) <= 80 else "normal"
    return f"<{tag} style='text-align: {align}; white-space: {wrap}; vertical-align: top'>{html.escape(text)}</{tag}>"


def table(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> HTML:
    """An HTML table of dict rows (the keys of the first row are the columns, unless given).

    Columns of numbers are right-aligned, text columns left-aligned; names and ids are not wrapped.
    """
    rows = list(rows)
    columns = columns or (list(rows[0]) if rows else [])
    align = {
        c: "right" if all(_is_number(r.get(c)) for r in rows if r.get(c) not in (None, "")) else "left" for c in columns
    }
    head = "".join(_cell("th", c, align[c]) for c in columns)
    body = "".join("<tr>" + "".join(_cell("td", row.get(c, ""), align[c]) for c in columns) + "</tr>" for row in rows)
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def listed(values: Iterable[Any], empty: str = "none") -> str:
    """Values as a sentence writes them: `2`, `'a.txt' and 'b.txt'`, `1, 2 and 3`; `empty` when there are none.

    A check's hint quotes what the history shows; `[]` or `['x']` in a sentence reads as code."""
    items = [repr(v) if isinstance(v, str) else str(v) for v in values]
    if not items:
        return empty
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
