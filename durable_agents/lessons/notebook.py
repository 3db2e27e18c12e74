"""Small display helpers for the notebooks: package code shown in place, plain tables, values in a sentence."""

from __future__ import annotations

import html
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from IPython.display import HTML, Markdown

PACKAGE = Path(__file__).parents[1]


def show_source(obj: Any) -> Markdown:
    """The source of a function, class or module from the package, as a highlighted code block.

    The code lives once, in the package, and the notebook shows it where it is discussed.
    """
    path = Path(inspect.getsourcefile(obj) or "")
    where = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path.name
    lines, start = inspect.getsourcelines(obj)
    anchor = f"{where}" + (f", line {start}" if start else "")
    return Markdown(f"`{anchor}`\n\n```python\n{''.join(lines).rstrip()}\n```")


def table(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> HTML:
    """An HTML table of dict rows (the keys of the first row are the columns, unless given)."""
    rows = list(rows)
    columns = columns or (list(rows[0]) if rows else [])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def listed(values: Iterable[Any], empty: str = "none") -> str:
    """Values as a sentence writes them: `2`, `'a.txt' and 'b.txt'`, `1, 2 and 3`; `empty` when there are none.

    A check's hint quotes what the history shows; `[]` or `['x']` in a sentence reads as code."""
    items = [repr(v) if isinstance(v, str) else str(v) for v in values]
    if not items:
        return empty
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
