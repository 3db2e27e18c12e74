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


def _build_ids(history: object) -> set[str]:
    if isinstance(history, dict):
        found = {history["workerVersion"]["buildId"]} if "workerVersion" in history else set()
        return found.union(*(_build_ids(value) for value in history.values()))
    if isinstance(history, list):
        return set().union(*(_build_ids(value) for value in history))
    return set()


async def test_a_worker_reports_the_build_id_of_its_code(lab: Lab):
    """`make_worker` names its build (the SDK's own default hashes every loaded module: half a worker's start)."""
    from durable_agents.lab.worker import build_id
    from durable_agents.script import final
    from durable_agents.versions import version
    from durable_agents.workflows import WORKFLOWS

    run = await lab.run([final("hi")])
    assert _build_ids(run.history_json) == {build_id(WORKFLOWS)}
    assert build_id([version("paced")]) != build_id(WORKFLOWS), "a deploy of other workflow code is another build"
