"""Shared fixtures, and how the notebooks run beside the tests.

Importing this sets `$DURABLE_AGENTS_HISTORY_DIR` for the whole session. Each notebook that nbmake
executes gets its own folder under it (its kernel inherits the variable), where
`test_history.py::test_each_notebooks_histories_replay[<notebook>]` replays what it wrote. Under
pytest-xdist (`-n auto`, the default here) a notebook and that test are one work unit: the same
worker runs them, the notebook first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from durable_agents.history.store import HISTORY_DIR_ENV
from durable_agents.lab import Lab, WorkerPool

NOTEBOOK_HISTORIES = Path(
    os.environ.setdefault(HISTORY_DIR_ENV, str(Path(tempfile.gettempdir()) / f"durable-agents-histories-{os.getpid()}"))
)
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
NOTEBOOK_NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
DATA = Path(__file__).parent / "data" / "histories"


def histories_of(notebook: str) -> Path:
    """The folder where notebook `notebook` (its file's stem) writes its histories in a test session."""
    return NOTEBOOK_HISTORIES / notebook


def _notebook(item: pytest.Item) -> str | None:
    """The stem of the notebook an nbmake item executes (None for an ordinary test)."""
    path = Path(str(item.path))
    return path.stem if path.suffix == ".ipynb" else None


def _group(nodeid: str) -> str:
    """The notebook a test id belongs with (an nbmake item, or the test replaying its histories), else the id."""
    path, _, name = nodeid.partition("::")
    if path.endswith(".ipynb"):
        return Path(path).stem
    if name.startswith("test_each_notebooks_histories_replay["):
        return name.partition("[")[2].rstrip("]")
    return nodeid


class NotebookHistories:
    """Gives each notebook nbmake runs its own history folder, and its replay test the same xdist worker.

    A plugin, not hooks of this conftest: a conftest's `pytest_runtest_setup` reaches only the items
    under its folder, and the notebooks are not under `tests/`. The scheduler groups by `_group`
    (xdist's own `xdist_group` marks no longer take with pytest 9, which stopped reading `_nodeid`).
    """

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        from xdist.scheduler import LoadScopeScheduling

        class ByNotebook(LoadScopeScheduling):
            """One work unit per notebook (with its replay test), one per other test."""

            def _split_scope(self, nodeid: str) -> str:
                return _group(nodeid)

        return ByNotebook(config, log)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if notebook := _notebook(item):
            os.environ[HISTORY_DIR_ENV] = str(histories_of(notebook))

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if _notebook(item):
            os.environ[HISTORY_DIR_ENV] = str(NOTEBOOK_HISTORIES)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(NotebookHistories(), "notebook-histories")


@pytest.fixture(scope="session")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """One dev-server lab for the tests that only run workflows on it."""
    async with await Lab.start(
        "dev", ui=False, sandbox_root=tmp_path_factory.mktemp("sandbox"), replace_current=False
    ) as lab:
        yield lab


@pytest.fixture(scope="module")
async def bare_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A dev server whose task queue only worker processes poll (none started yet), one per test module."""
    async with await Lab.start(
        "dev", ui=False, sandbox_root=tmp_path_factory.mktemp("bare"), replace_current=False, in_process_worker=False
    ) as lab:
        yield lab


@pytest.fixture(scope="module")
async def farm(bare_lab: Lab) -> AsyncIterator[tuple[Lab, WorkerPool]]:
    """`bare_lab` with two worker processes polling it; both are gone once the module's tests are done."""
    pool = await WorkerPool.start(bare_lab, 2)
    pids = [p.pid for p in pool.processes.values()]
    try:
        yield bare_lab, pool
    finally:
        await pool.stop()
    assert not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]


def survivors_of_a_killed_kernel(program: str, cwd: Path, grace: float = 15) -> tuple[list[int], list[int]]:
    """Run `program` as a kernel that prints `PIDS <pid> ...`, SIGKILL it, wait up to `grace` s.

    Returns (the pids it printed, those still alive afterwards): a kernel that dies without
    cleaning up must still leave nothing behind.
    """
    kernel = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(program)], stdout=subprocess.PIPE, text=True, cwd=cwd
    )
    line = next(line for line in kernel.stdout or [] if line.startswith("PIDS"))  # servers print banners first
    processes = [psutil.Process(int(pid)) for pid in line.split()[1:]]
    kernel.send_signal(signal.SIGKILL)
    kernel.wait()

    def alive() -> list[int]:
        return [p.pid for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    deadline = time.monotonic() + grace
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p.pid for p in processes], alive()
