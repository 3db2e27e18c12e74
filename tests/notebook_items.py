"""Each numbered notebook as one test item: it runs top to bottom in a fresh kernel, and no solution
cell may display anything; then, while that kernel (and the lab the notebook left running) is alive,
every Web UI link it showed must answer; then every history it wrote must replay against today's
workflow code.

The checks belong in one item because the links live only as long as the kernel: they are the point
of leaving the lab running (notebooks/README.md), and 07 and 08 once ended with `lab.stop()`, every
link they had printed dead. nbmake, which ran the notebooks before, shuts the kernel down as the last
cell ends, so a second run of 00 and 07 in a kernel of its own checked a sample of links (~40 s of
the suite's time). Here every notebook's links are checked in the run that is there anyway.

The links come in two forms, both built from `lab.ui_url`: the UI's root (the set-up cell shows it)
and a run's page, `<ui>/namespaces/<namespace>/workflows/<id>` (`run.ui_url`, `lab.run_url`, or the
same f-string in 00 and 08). A run's page must name a run the server behind that UI knows.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from durable_agents.history.store import HISTORY_DIR_ENV
from durable_agents.maintenance.site import EXECUTED_DIR_ENV
from tests.conftest import NOTEBOOKS

RUN_ALL_FIGURE = re.compile(r"\*\*Run all:\*\* about (\d+) s on a 2-core machine")
"""What a notebook's header says Run all takes (tests/test_notebooks.py: every header says it)."""

CELL_TIMEOUT = 180
"""Seconds one cell may run (09's checks start worker processes; none takes a tenth of this)."""

LINK = re.compile(r"http://127\.0\.0\.1:\d+[^\s'\"<>)\]\\]*")
RUN_PAGE = re.compile(r"^/namespaces/(?P<namespace>[^/]+)/workflows/(?P<workflow_id>[^/]+)/?$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookFailed(Exception):
    """A cell failed (or timed out), a solution displayed something, or a link the notebook showed was
    dead once it had run."""


def shown(cell: nbformat.NotebookNode) -> str:
    """Everything a cell's outputs show a reader: streams, values, Markdown and HTML, as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        for mime in ("text/plain", "text/markdown", "text/html"):
            parts.append(output.get("data", {}).get(mime, ""))
    return "\n".join(parts)


def links(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """{link: the id of the first cell that shows it}."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        for link in LINK.findall(shown(cell)):
            found.setdefault(link.rstrip(".,;:"), cell.id)
    return found


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


def check_link(link: str) -> None:
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


def check_links(notebook: nbformat.NotebookNode, name: str) -> int:
    """Every Web UI link `notebook` shows answers (`check_link`); how many it showed. Raises `NotebookFailed`."""
    found = links(notebook)
    for link, cell_id in found.items():
        try:
            check_link(link)
        except (OSError, AssertionError, KeyError, ValueError) as exc:
            raise NotebookFailed(
                f"{name}, cell {cell_id}: the Web UI link {link} is dead after the run: {exc}"
            ) from exc
    return len(found)


async def run_notebook(path: Path, env: dict[str, str]) -> tuple[nbformat.NotebookNode, int]:
    """Run `path` top to bottom in a fresh kernel (in its folder, with environment `env`); then check its
    solutions displayed nothing and, while that kernel lives, the Web UI links it showed (`check_links`);
    the executed notebook and how many links it showed. A failed cell raises `NotebookFailed`, saying
    which and why."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    async with client.async_setup_kernel(env=env):
        for index, cell in enumerate(notebook.cells):
            try:
                await client.async_execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError) as exc:
                raise NotebookFailed(
                    f"{path.name}, cell {index + 1} (id {cell.id}):\n{ANSI.sub('', str(exc))}"
                ) from None
        check_solutions_quiet(notebook, path.name)
        return notebook, check_links(notebook, path.name)


def check_solutions_quiet(notebook: nbformat.NotebookNode, name: str) -> None:
    """No solution cell displayed anything when it ran. JupyterLab's Run All clears a cell's "outputs
    hidden" flag (tests/test_browser.py shows it), so whatever a solution displays, a printout, a
    warning on stderr, a diagram, shows under it and gives the answer away. Raises `NotebookFailed`."""
    for cell in notebook.cells:
        if "solution" in cell.metadata.get("tags", []) and cell.get("outputs"):
            raise NotebookFailed(
                f"{name}, solution cell {cell.id} displayed {shown(cell)[:300]!r}: after Run All it shows "
                "under the cell. End it with `.assert_passed()`, print nothing, and keep warnings off."
            )


READERS_CODE = ("yours-", "yours_ptc-", "long_yours-", "mine-")
"""The workflow ids of runs whose code the reader wrote (an agent's tools, or 09's whole agent)."""


async def replay_histories(folder: Path, notebooks: Path) -> int:
    """Replay every history a notebook wrote to `folder`; how many replayed.

    Runs of the reader's own code replay only where the reader's file is loaded (tests/test_exercises.py
    replays each in a process started that way): the `yours` agents' tools (02-05, 08), 09's own agent.
    01's from-scratch agent is a workflow of the reader's own module (notebooks/geography.py, which the
    notebook writes): it replays against that module's workflow.
    """
    from durable_agents.history.replay import replay
    from durable_agents.history.store import load_histories

    histories = {wid: h for wid, h in load_histories(folder).items() if not wid.startswith(READERS_CODE)}
    scratch = {wid: histories.pop(wid) for wid in list(histories) if wid.startswith("geography-")}
    if not histories:
        raise NotebookFailed(f"The notebook wrote no history to {folder}")
    replayed = await replay(histories)
    if scratch:
        sys.path.insert(0, str(notebooks))  # for the import here, and the workflow sandbox's own during the replay
        try:
            from geography import GeographyWorkflow  # type: ignore[import-not-found]  (written by the notebook)

            replayed += await replay(scratch, [GeographyWorkflow])
        finally:
            sys.path.remove(str(notebooks))
    return replayed


def replay_folder(folder: Path, notebooks: Path) -> int:
    """`replay_histories` on a thread with its own event loop: pytest-asyncio's session loop (and, in the
    browser's tests, Playwright's) is left alone."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, replay_histories(folder, notebooks)).result()


def run_all_seconds(path: Path) -> int:
    """The seconds `path`'s header says Run all takes (measured by durable_agents.maintenance.benchmark)."""
    header = nbformat.read(path, as_version=4).cells[0].source
    if match := RUN_ALL_FIGURE.search(header):
        return int(match[1])
    raise ValueError(f"{path.name}: the header does not say what Run all takes ('**Run all:** about N s ...')")


class NotebookFile(pytest.File):
    """A numbered notebook (the root conftest collects `notebooks/NN_*.ipynb`): one item."""

    def collect(self) -> list[NotebookItem]:
        return [NotebookItem.from_parent(self, name=self.path.name)]


def history_folder(path: Path) -> Path:
    """The folder the run of notebook `path` writes its histories to: its own, under `$DURABLE_AGENTS_HISTORY_DIR`."""
    return Path(os.environ[HISTORY_DIR_ENV]) / path.stem


def keep_executed(notebook: nbformat.NotebookNode, name: str) -> None:
    """Write the executed notebook to `$DURABLE_AGENTS_EXECUTED_DIR`, when that is set: CI builds the static
    site from those (durable_agents/maintenance/site.py) instead of running the notebooks again."""
    if executed := os.environ.get(EXECUTED_DIR_ENV):
        Path(executed).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, Path(executed) / name)


def check_run_elsewhere(executed: nbformat.NotebookNode, path: Path, written_to: Path, since_ns: int) -> int:
    """`NotebookItem`'s checks, on a run its item did not make: tests/test_browser.py's, in JupyterLab, of
    `path` (a copy of a committed notebook), its kernel writing histories to `written_to`; how many
    histories replayed. Call it while the kernel lives: the links must still answer.

    The histories written since `since_ns` are the run's (the browser's tests run one at a time): they
    are copied to the notebook's own `history_folder` and replayed there. The notebook kept for the site
    has the committed cells' metadata: Run All clears a cell's "outputs hidden" flag.
    """
    name = path.name
    committed = nbformat.read(NOTEBOOKS / name, as_version=4)
    check_solutions_quiet(executed, name)
    check_links(executed, name)
    folder = history_folder(path)
    folder.mkdir(parents=True, exist_ok=True)
    for history in written_to.glob("*.json"):
        if history.stat().st_mtime_ns >= since_ns:
            shutil.copy2(history, folder)
    replayed = replay_folder(folder, path.parent)
    for cell, as_committed in zip(executed.cells, committed.cells, strict=True):
        cell.metadata = as_committed.metadata
    keep_executed(executed, name)
    return replayed


class NotebookItem(pytest.Item):
    """Run the notebook, writing its histories to `history_folder` (its kernel is given the folder); check
    its solutions and its links; replay the folder; once all pass, `keep_executed`.

    Where tests/test_browser.py runs a notebook in JupyterLab, the same checks follow that run, and
    the notebook's item is not run a second time (the root conftest's `pytest_collection_modifyitems`).
    """

    def runtest(self) -> None:
        folder = history_folder(self.path)
        env = {**os.environ, HISTORY_DIR_ENV: str(folder)}

        # A thread with its own event loop: pytest-asyncio's session loop is left alone.
        with ThreadPoolExecutor(1) as pool:
            notebook, shown_links = pool.submit(asyncio.run, run_notebook(self.path, env)).result()
        replayed = replay_folder(folder, self.path.parent)
        keep_executed(notebook, self.path.name)
        self.user_properties += [("web ui links", shown_links), ("histories replayed", replayed)]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, NotebookFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.path.name
