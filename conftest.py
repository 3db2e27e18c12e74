"""How the notebooks run as tests (this file is at the root so that it also applies to
`uv run pytest notebooks/NN_x.ipynb`: a conftest under `tests/` reaches only the items under it).

Each numbered notebook is one test item (`tests/notebook_items.py`): it runs in a fresh kernel, the
Web UI links it showed are checked while that kernel lives, and the histories it wrote are replayed,
all on whichever xdist worker ran it, with no ordering between items to keep. Importing this sets
`$DURABLE_AGENTS_HISTORY_DIR` for the whole session; each notebook writes to a folder of its own
under it. How many xdist workers `-n auto` starts is set here too, and the order they are given the
tests in (`tests/schedule.py`).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from durable_agents.history.store import HISTORY_DIR_ENV
from tests import schedule
from tests.notebook_items import NotebookFile, NotebookItem, run_all_seconds

os.environ.setdefault(HISTORY_DIR_ENV, str(Path(tempfile.gettempdir()) / f"durable-agents-histories-{os.getpid()}"))
NUMBERED = re.compile(r"^\d\d_\w+\.ipynb$")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject.toml's addopts): three xdist workers for every two cores, not one per core.

    The suite waits as well as computes (servers, kernels and browsers starting, runs on other
    processes), so one worker per core leaves the cores idle about a third of the time. Measured on
    2 cores, the same clone, /proc/stat around `uv run pytest`: 2 workers 302 s, 181 of 604
    CPU-seconds idle; 3 workers 263 s, 84 idle; 4 workers 253 s, 24 idle, but 485 busy CPU-seconds
    against 444 (each worker has its own lab and imports). Later, with the machine slower and busy
    for the same work: 2 workers 422 s, 3 workers 412 s. `PYTEST_XDIST_AUTO_NUM_WORKERS` still sets
    the number (xdist's own hook reads it).
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return max(2, (os.cpu_count() or 1) * 3 // 2)  # the cores `tests/conftest.py`'s `budget` counts


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> NotebookFile | None:
    if file_path.parent.name == "notebooks" and NUMBERED.match(file_path.name):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


def long_group(item: pytest.Item) -> tuple[str, float] | None:
    """A notebook, or a test of a module that says what it costs (`SECONDS`): the group it runs in, and
    its cost; None for any other test (`tests/schedule.py`)."""
    if isinstance(item, NotebookItem):
        return item.path.name, run_all_seconds(item.path)
    module = getattr(item, "module", None)
    if (seconds := getattr(module, "SECONDS", None)) is not None:
        return str(item.path), seconds
    return None


def run_elsewhere(items: list[pytest.Item]) -> set[str]:
    """The notebooks that a test among `items` runs in full, making every check their own items make: a
    `runs_notebook(name, here=True)` mark (tests/test_browser.py, where Chromium is)."""
    marks = (mark for item in items for mark in item.iter_markers("runs_notebook"))
    return {mark.args[0] for mark in marks if mark.kwargs.get("here", True)}


@pytest.hookimpl(trylast=True)  # after `-m`/`-k` have deselected: only a test that runs replaces an item
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the notebook items that another selected test runs (`run_elsewhere`). Then, on each xdist
    worker, the order (a worker's own `--dist` reads "no": the order is cut for pyproject.toml's
    `worksteal`, and any other scheduler only sees another order)."""
    if elsewhere := run_elsewhere(items):
        left_out = [item for item in items if isinstance(item, NotebookItem) and item.path.name in elsewhere]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if item not in left_out]
    if workers := getattr(config, "workerinput", {}).get("workercount"):
        items[:] = schedule.long_first(items, workers, long_group)
