"""Shared fixtures: the labs the tests run on, and a kernel killed to see what it leaves.

How the notebooks run beside the tests (each in its own history folder, replayed once it has run) is
in the root `conftest.py`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from durable_agents.lab import Lab, WorkerPool, reaper

DATA = Path(__file__).parent / "data" / "histories"
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def budget(seconds: float) -> float:
    """`seconds` on a quiet machine, scaled by how oversubscribed the CPUs are now (the 1-minute load
    average per core, at least 1): a margin that holds on a busy laptop as it does in CI."""
    return seconds * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


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
        return [p.pid for p in processes if reaper.running(p)]

    deadline = time.monotonic() + grace
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p.pid for p in processes], alive()
