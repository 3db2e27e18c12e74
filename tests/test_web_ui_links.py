"""Every Web UI link a notebook prints still answers once the notebook has run to its end.

Each notebook's own test item checks its links while its kernel is alive (`tests/notebook_items.py`).
Here: that check fails on a dead link, a page that is not the Web UI, or a run the server does not
know; and no notebook stops its lab at the end (its links would die with the kernel's last cell).
"""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest

from durable_agents.lab import Lab
from durable_agents.lab.servers import free_port
from tests.conftest import NOTEBOOKS
from tests.notebook_items import NotebookFailed, check_links, links


def _notebook(*texts: str) -> nbformat.NotebookNode:
    """A notebook whose cells showed `texts` (a print each), as a kernel left them."""
    cells = []
    for n, text in enumerate(texts):
        cell = nbformat.v4.new_code_cell("print(...)")
        cell.id = f"c{n}"
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture(scope="module")
async def ui_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A dev server with its Web UI, as a notebook's set-up cell starts it."""
    async with await Lab.start("dev", sandbox_root=tmp_path_factory.mktemp("ui"), replace_current=False) as lab:
        yield lab


@pytest.fixture(scope="module")
def not_the_ui() -> Iterator[str]:
    """A web server on 127.0.0.1 that answers every page with 200 and a page that is not the Web UI."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>some other app</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_links_a_notebook_showed_are_found_in_text_markdown_and_html():
    notebook = _notebook(
        "Temporal Web UI: http://127.0.0.1:8233", "see http://127.0.0.1:8233/namespaces/default/workflows/a-1."
    )
    notebook.cells[1].outputs.append(
        nbformat.v4.new_output("display_data", data={"text/html": '<a href="http://127.0.0.1:8234/">UI</a>'})
    )
    assert links(notebook) == {
        "http://127.0.0.1:8233": "c0",
        "http://127.0.0.1:8233/namespaces/default/workflows/a-1": "c1",
        "http://127.0.0.1:8234/": "c1",
    }


def test_a_dead_link_fails_the_notebook_naming_its_cell():
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NotebookFailed, match=rf"NN.ipynb, cell c1: the Web UI link {re.escape(dead)} is dead"):
        check_links(_notebook("nothing here", f"Temporal Web UI: {dead}"), "NN.ipynb")


def test_a_page_that_is_not_the_web_ui_fails(not_the_ui):
    with pytest.raises(NotebookFailed, match="not with the Web UI's app"):
        check_links(_notebook(f"{not_the_ui}/namespaces/default/workflows/a-1"), "NN.ipynb")


async def test_a_run_the_server_does_not_know_fails_and_one_it_knows_passes(ui_lab):
    from durable_agents.lessons.workbook import final

    run = await ui_lab.run([final("here")])
    assert check_links(_notebook(f"Web UI: {ui_lab.ui_url}", f"The run: {run.ui_url}"), "NN.ipynb") == 2
    unknown = f"{ui_lab.ui_url}/namespaces/default/workflows/never-started"
    with pytest.raises(NotebookFailed, match="never-started"):
        check_links(_notebook(unknown), "NN.ipynb")


def _last_code_cells(path: Path, n: int = 3) -> list[str]:
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return code[-n:]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))])
def test_no_notebook_stops_its_lab_at_the_end(path):
    """The links a notebook printed must outlive it: its last cells leave the lab running."""
    stops = [s for s in _last_code_cells(path) if re.search(r"\blab\.stop\(\)", s)]
    assert not stops, f"{path.name} ends by stopping its lab, and every Web UI link it printed with it: {stops}"
