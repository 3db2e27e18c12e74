"""How the notebooks run beside the tests (this file is at the root so that it also applies to
`uv run pytest notebooks/NN_x.ipynb`: a conftest under `tests/` reaches only the items under it).

Importing this sets `$DURABLE_AGENTS_HISTORY_DIR` for the whole session. Each notebook that nbmake
executes gets its own folder under it (its kernel inherits the variable), and once the notebook has
run, the same test item replays every history it wrote against today's workflow code (a hookwrapper
around the item's call): a notebook whose runs no longer replay fails as that notebook, on whichever
xdist worker ran it, with no ordering between items to keep.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from durable_agents.history.store import HISTORY_DIR_ENV

NOTEBOOK_HISTORIES = Path(
    os.environ.setdefault(HISTORY_DIR_ENV, str(Path(tempfile.gettempdir()) / f"durable-agents-histories-{os.getpid()}"))
)
NOTEBOOKS = Path(__file__).parent / "notebooks"


def histories_of(notebook: str) -> Path:
    """The folder where notebook `notebook` (its file's stem) writes its histories in a test session."""
    return NOTEBOOK_HISTORIES / notebook


def _notebook(item: pytest.Item) -> str | None:
    """The stem of the notebook an nbmake item executes (None for an ordinary test)."""
    path = Path(str(item.path))
    return path.stem if path.suffix == ".ipynb" else None


READERS_CODE = ("yours-", "yours_ptc-", "long_yours-", "mine-")
"""The workflow ids of runs whose code the reader wrote (an agent's tools, or 09's whole agent)."""


async def replay_notebooks_histories(notebook: str) -> int:
    """Replay every history notebook `notebook` wrote in this session; how many replayed.

    Runs of the reader's own code replay only where the reader's file is loaded (tests/test_exercises.py
    replays each in a process started that way): the `yours` agents' tools (02-05, 08), 09's own agent.
    01's from-scratch agent is a workflow of the reader's own module (notebooks/geography.py, which the
    notebook writes): it replays against that module's workflow.
    """
    from durable_agents.history.replay import replay
    from durable_agents.history.store import load_histories

    folder = histories_of(notebook)
    histories = {wid: h for wid, h in load_histories(folder).items() if not wid.startswith(READERS_CODE)}
    scratch = {wid: histories.pop(wid) for wid in list(histories) if wid.startswith("geography-")}
    if not histories:
        pytest.fail(f"Notebook {notebook} wrote no history to {folder}", pytrace=False)
    replayed = await replay(histories)
    if scratch:
        sys.path.insert(0, str(NOTEBOOKS))  # for the import here, and the workflow sandbox's own during the replay
        try:
            from geography import GeographyWorkflow  # type: ignore[import-not-found]  (written by the notebook)

            replayed += await replay(scratch, [GeographyWorkflow])
        finally:
            sys.path.remove(str(NOTEBOOKS))
    return replayed


def pytest_runtest_setup(item: pytest.Item) -> None:
    if notebook := _notebook(item):
        os.environ[HISTORY_DIR_ENV] = str(histories_of(notebook))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """After a notebook's cells ran (if one failed, that is the failure), replay what it wrote.

    In a thread of its own, with its own event loop: the session's loop (pytest-asyncio's) is left alone."""
    result = yield
    if notebook := _notebook(item):
        with ThreadPoolExecutor(1) as pool:
            replayed = pool.submit(asyncio.run, replay_notebooks_histories(notebook)).result()
        item.user_properties.append(("histories replayed", replayed))
    return result


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _notebook(item):
        os.environ[HISTORY_DIR_ENV] = str(NOTEBOOK_HISTORIES)
