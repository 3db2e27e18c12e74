"""Shared fixtures. Importing this sets `$DURABLE_AGENTS_HISTORY_DIR` for the whole session, so the
notebooks that nbmake executes (in kernels that inherit this environment) write their histories
where `test_history.py` replays them."""

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

import psutil
import pytest

from durable_agents.history.store import HISTORY_DIR_ENV
from durable_agents.lab import Lab

NOTEBOOK_HISTORIES = Path(
    os.environ.setdefault(HISTORY_DIR_ENV, str(Path(tempfile.gettempdir()) / f"durable-agents-histories-{os.getpid()}"))
)
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
DATA = Path(__file__).parent / "data" / "histories"


@pytest.fixture(scope="session")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """One dev-server lab for the tests that only run workflows on it."""
    async with await Lab.start(
        "dev", ui=False, sandbox_root=tmp_path_factory.mktemp("sandbox"), replace_current=False
    ) as lab:
        yield lab


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
