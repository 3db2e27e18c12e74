"""A static site of the executed notebooks, for reading before a workshop.

    uv run python -m durable_agents.maintenance.site            # writes site/index.html and one page per notebook
    uv run python -m durable_agents.maintenance.site out 01 03  # elsewhere, only some notebooks

Built with nbconvert, which comes with JupyterLab: no new dependency and no Node toolchain, each
notebook executed in a fresh kernel exactly as the tests run it, and every output kept as the
notebook shows it, diagrams included. (jupyter-book 2 needs Node; mkdocs-jupyter adds a theme and a
site generator for what is a list of pages.) A widget needs a kernel or JavaScript from a CDN, so
each widget output is replaced by the picture it carries: the timeline shows its last frame.
"""

from __future__ import annotations

import argparse
import html
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"


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


def page(path: Path, timeout: int = 300) -> tuple[str, str]:
    """Execute one notebook in a fresh kernel; its HTML page (links between notebooks kept) and its title."""
    notebook = nbformat.read(path, as_version=4)
    ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
        notebook, {"metadata": {"path": str(path.parent)}}
    )
    static_widgets(notebook)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return re.sub(r'href="(\d\d_[\w-]+)\.ipynb"', r'href="\1.html"', body), _title(notebook)


def build(out: Path, only: list[str] | None = None, timeout: int = 300, jobs: int | None = None) -> list[Path]:
    """Execute the notebooks (those whose names start with one of `only`, or all) and write their pages.

    `jobs` notebooks run at a time, each in a process of its own (default: one per core): a notebook
    spends much of its time waiting on its Temporal server, so two of them share a core well.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if not only or p.name.startswith(tuple(only))]
    if not paths:
        raise SystemExit(f"No notebook in {NOTEBOOKS} starts with {only}.")
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        futures = {path: pool.submit(page, path, timeout) for path in paths}
        pages, entries = [], []
        for path, future in futures.items():
            body, title = future.result()
            target = out / path.with_suffix(".html").name
            target.write_text(body)
            print(f"executed {path.name} -> {target}", flush=True)
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
    args = parser.parse_args()
    for page in build(args.out, args.only):
        print(page)


if __name__ == "__main__":
    main()
