"""Worker processes (`lab.workers`): when a pool counts a worker as polling."""

from __future__ import annotations

import pytest

from durable_agents.lab import Lab, WorkerPool
from durable_agents.lab.workers import WorkerStartError, last_polls
from tests.conftest import NOTEBOOKS

MY_WORKER = NOTEBOOKS / "solutions" / "my_worker.py"


async def test_a_dead_workers_poller_does_not_make_its_successor_ready(bare_lab: Lab, tmp_path):
    """The server lists a killed worker's poller for minutes: a program of the same identity that never
    polls must not be taken for it (it was, when the pool only looked for the identity)."""
    first = await WorkerPool.start(bare_lab, 1, prefix="again", program=MY_WORKER)
    first.kill("again-1")
    assert "again-1" in await last_polls(bare_lab.client, bare_lab.task_queue), "the server remembers the dead one"

    silent = tmp_path / "silent.py"
    silent.write_text("import time\ntime.sleep(2)\nraise SystemExit(3)\n")  # starts, never polls, exits
    with pytest.raises(WorkerStartError, match="exit code 3"):
        await WorkerPool.start(bare_lab, 1, prefix="again", program=silent)

    again = await WorkerPool.start(bare_lab, 1, prefix="again", program=MY_WORKER)  # a real successor is ready
    try:
        assert again.processes["again-1"].poll() is None
    finally:
        await again.stop()

