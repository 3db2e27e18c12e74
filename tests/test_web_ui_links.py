"""Every Web UI link a notebook prints still answers once the notebook has run to its end.

The notebooks leave their lab running (notebooks/README.md), so "open the Web UI link" works after
*Run All*; 07 and 08 once ended with `lab.stop()`, and every link they printed was dead. Here a
notebook runs top to bottom in a kernel (nbclient, as nbmake runs it) and, while that kernel is still
alive, every `http://127.0.0.1:…` link in its outputs (printed text, a value shown, Markdown) is
fetched: the page must be the Temporal Web UI, and a run's page must name a run the server behind
that UI knows.

The links come in two forms, both built from `lab.ui_url`: the UI's root (the set-up cell prints
it) and a run's page, `<ui>/namespaces/<namespace>/workflows/<id>` (`run.ui_url`, `lab.run_url`,
or the same f-string in 00 and 08). So a sample of notebooks suffices: 00 shows a run's link as
Markdown, 07 prints both forms (its server crash and its deploy included) and is one of the two that
stopped its lab. What the sample cannot see is a notebook stopping its lab at the end: the static
test below holds every notebook to that.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import NOTEBOOKS

SAMPLE = ["00_orientation", "07_durability"]
LINK = re.compile(r"http://127\.0\.0\.1:\d+[^\s'\"<>)\]\\]*")
RUN_PAGE = re.compile(r"^/namespaces/(?P<namespace>[^/]+)/workflows/(?P<workflow_id>[^/]+)/?$")


def _shown(cell: nbformat.NotebookNode) -> str:
    """Everything a cell's outputs show a reader: streams, values, Markdown and HTML, as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        for mime in ("text/plain", "text/markdown", "text/html"):
            parts.append(output.get("data", {}).get(mime, ""))
    return "\n".join(parts)


def _links(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """{link: the id of the first cell that shows it}."""
    links: dict[str, str] = {}
    for cell in notebook.cells:
        for link in LINK.findall(_shown(cell)):
            links.setdefault(link.rstrip(".,;:"), cell.id)
    return links


def _get(url: str, patience: float = 5) -> tuple[int, str]:
    """GET `url`; a 503 is asked again for `patience` seconds: the UI's server answers so while its own
    connection to the Temporal server is still being made (seen once for a run's API, the page and
    settings already answering), and the browser's page asks again too."""
    deadline = time.monotonic() + patience
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _check(link: str) -> None:
    """The link is a page of the Temporal Web UI (its app, and the UI server's settings API beside it);
    a run's page names a run the server behind that UI knows."""
    status, page = _get(link)
    assert status == 200 and "/_app/immutable/" in page, f"{link} answered {status}, not with the Web UI's app"
    parts = urlsplit(link)
    origin = f"{parts.scheme}://{parts.netloc}"
    settings = json.loads(_get(f"{origin}/api/v1/settings")[1])
    assert "ShowTemporalSystemNamespace" in settings, f"{origin} is not the Temporal Web UI's server: {settings}"
    if match := RUN_PAGE.match(parts.path):
        api = f"{origin}/api/v1/namespaces/{match['namespace']}/workflows/{match['workflow_id']}"
        execution = json.loads(_get(api)[1])["workflowExecutionInfo"]["execution"]
        assert execution["workflowId"] == unquote(match["workflow_id"]), f"{link}: the UI's server shows {execution}"
    else:
        assert parts.path in ("", "/"), f"{link}: neither the UI's root nor a run's page (update RUN_PAGE)"


@pytest.mark.parametrize("stem", SAMPLE)
async def test_every_web_ui_link_answers_after_the_notebook_ran(stem, tmp_path):
    # A copy of the notebooks folder, so that this run's `.sandbox/` (07's database file among it) is not the
    # one nbmake's run of the same notebook uses at the same time on another xdist worker.
    folder = shutil.copytree(NOTEBOOKS, tmp_path / "notebooks", ignore=shutil.ignore_patterns(".sandbox", ".*"))
    notebook = nbformat.read(folder / f"{stem}.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    async with client.async_setup_kernel():  # the kernel, and the lab the notebook left running, live until the end
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                await client.async_execute_cell(cell, index)
        links = _links(notebook)
        assert any(RUN_PAGE.match(urlsplit(link).path) for link in links), f"{stem} printed no run's link: {links}"
        for link, cell_id in links.items():
            try:
                _check(link)
            except (OSError, AssertionError) as exc:
                raise AssertionError(
                    f"{stem}, cell {cell_id}: the Web UI link {link} is dead after the run: {exc}"
                ) from exc


def _last_code_cells(path: Path, n: int = 3) -> list[str]:
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return code[-n:]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))])
def test_no_notebook_stops_its_lab_at_the_end(path):
    """The links a notebook printed must outlive it: its last cells leave the lab running."""
    stops = [s for s in _last_code_cells(path) if re.search(r"\blab\.stop\(\)", s)]
    assert not stops, f"{path.name} ends by stopping its lab, and every Web UI link it printed with it: {stops}"
