"""A static site of the executed notebooks, for reading before a workshop.

    uv run python -m durable_agents.maintenance.site            # writes site/index.html and one page per notebook
    uv run python -m durable_agents.maintenance.site out 01 03  # elsewhere, only some notebooks
    uv run python -m durable_agents.maintenance.site --executed DIR  # the test run's notebooks, not run again

Built with nbconvert, which comes with JupyterLab: no new dependency and no Node toolchain, each
notebook executed in a fresh kernel exactly as the tests run it, and every output kept as the
notebook shows it, diagrams included. (jupyter-book 2 needs Node; mkdocs-jupyter adds a theme and a
site generator for what is a list of pages.) CI builds it from the notebooks its test run has just
executed (`$DURABLE_AGENTS_EXECUTED_DIR`: tests/notebook_items.py writes each one there once all its
checks pass), rather than running all eleven a second time. A widget needs a kernel or JavaScript
from a CDN, so each widget output is replaced by the picture it carries: the timeline shows its last frame.
"""

from __future__ import annotations

import argparse
import html
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"
EXECUTED_DIR_ENV = "DURABLE_AGENTS_EXECUTED_DIR"
"""Where the notebook test items write each notebook they ran and checked, when it is set."""


def static_widgets(notebook: nbformat.NotebookNode) -> int:
    """Drop each widget view that carries a static alternative (and the widget state); returns how many."""
    dropped = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET in data and ("text/html" in data or "image/svg+xml" in data):
                del data[WIDGET]
                dropped += 1
    notebook.metadata.pop("widgets", None)
    return dropped


def _title(notebook: nbformat.NotebookNode) -> str:
    first = "".join(notebook.cells[0].source).splitlines()[0] if notebook.cells else ""
    return first.lstrip("# ").strip()


def render(notebook: nbformat.NotebookNode) -> tuple[str, str]:
    """An executed notebook's HTML page (links between notebooks kept) and its title."""
    from nbconvert import HTMLExporter  # here, not above: the tests import EXECUTED_DIR_ENV, not nbconvert

    static_widgets(notebook)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return re.sub(r'href="(\d\d_[\w-]+)\.ipynb"', r'href="\1.html"', body), _title(notebook)


def page(path: Path, timeout: int = 300) -> tuple[str, str]:
    """Execute one notebook in a fresh kernel; its page and title (`render`)."""
    from nbconvert.preprocessors import ExecutePreprocessor

    notebook = nbformat.read(path, as_version=4)
    ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
        notebook, {"metadata": {"path": str(path.parent)}}
    )
    return render(notebook)


def _pages(paths: list[Path], timeout: int, jobs: int | None, executed: Path | None) -> Iterator[tuple[str, str]]:
    """Each notebook's page, in order: `jobs` kernels at a time, or, from `executed`, one after another
    in this process (only nbconvert's HTML to make)."""
    if executed is not None:
        yield from (render(nbformat.read(executed / path.name, as_version=4)) for path in paths)
        return
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        yield from pool.map(page, paths, [timeout] * len(paths))


def build(
    out: Path,
    only: list[str] | None = None,
    timeout: int = 300,
    jobs: int | None = None,
    executed: Path | None = None,
) -> list[Path]:
    """Execute the notebooks (those whose names start with one of `only`, or all) and write their pages;
    with `executed`, the folder of those notebooks already executed (by the tests), run none.

    `jobs` notebooks run at a time, each in a process of its own (default: one per core): a notebook
    spends much of its time waiting on its Temporal server, so two of them share a core well.
    """
    paths = [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if not only or p.name.startswith(tuple(only))]
    if not paths:
        raise SystemExit(f"No notebook in {NOTEBOOKS} starts with {only}.")
    if executed is not None and (missing := [p.name for p in paths if not (executed / p.name).is_file()]):
        raise SystemExit(
            f"{executed} lacks the executed {', '.join(missing)}: run `{EXECUTED_DIR_ENV}={executed} uv run "
            "pytest notebooks/` first (a notebook is written there once its checks pass), or build without "
            "--executed to run them here."
        )
    out.mkdir(parents=True, exist_ok=True)
    pages, entries = [], []
    for path, (body, title) in zip(paths, _pages(paths, timeout, jobs, executed), strict=True):
        target = out / path.with_suffix(".html").name
        target.write_text(body)
        print(f"{'rendered' if executed else 'executed'} {path.name} -> {target}", flush=True)
        pages.append(target)
        entries.append(f'<li><a href="{target.name}">{html.escape(title)}</a></li>')
    index = out / "index.html"
    index.write_text(
        "<!doctype html><meta charset='utf-8'><title>Durable agents workbook</title>"
        "<body style='font-family: sans-serif; max-width: 50em; margin: 2em auto'>"
        "<h1>Durable agents workbook</h1><p>The notebooks, executed, with their diagrams.</p>"
        f"<ol>{''.join(entries)}</ol></body>"
    )
    return [index, *pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="site", type=Path)
    parser.add_argument("only", nargs="*", help="notebook number prefixes, e.g. 01 03 (default: all)")
    parser.add_argument(
        "--executed",
        type=Path,
        metavar="DIR",
        help=f"render the notebooks the tests executed there (${EXECUTED_DIR_ENV}), running none",
    )
    args = parser.parse_args()
    for page in build(args.out, args.only, executed=args.executed):
        print(page)


if __name__ == "__main__":
    main()
