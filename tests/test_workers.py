"""Worker processes (`lab.workers`): when a pool counts a worker as polling."""

from __future__ import annotations

import json
from typing import Any

import pytest

from durable_agents.lab import Lab, WorkerPool, forkserver
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


async def test_a_program_that_fails_at_once_is_told_with_its_log_not_a_missing_process(
    bare_lab: Lab, tmp_path, monkeypatch
):
    """09's starter files fail as they start, within milliseconds of the fork: the pool once looked the
    process up for its watchdog after it was gone (psutil's `NoSuchProcess` in the check's cell). Here
    each fork returns only once its program has exited, so the lookup always comes too late."""
    broken = tmp_path / "broken.py"
    broken.write_text("raise SystemExit('my worker is not written yet')\n")
    fork = forkserver.start_program

    def gone_at_once(*args: Any) -> forkserver.ForkedWorker:
        process = fork(*args)
        process.wait(30)
        return process

    monkeypatch.setattr(forkserver, "start_program", gone_at_once)
    with pytest.raises(WorkerStartError, match=r"exit code 1(.|\n)*my worker is not written yet"):
        await WorkerPool.start(bare_lab, 2, prefix="broken", program=broken)


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


FACTS = """
import json, os, sys
import sibling  # a module beside the program, as `python program.py` finds it

print("x" * 200_000)  # more than a pipe holds: nobody reads the program's stdout but its log

json.dump({
    "argv": sys.argv[1:], "cwd": os.getcwd(), "path0": sys.path[0], "name": __name__, "file": __file__,
    "sibling": sibling.WHERE, "warm": "pydantic_ai.durable_exec.temporal" in sys.modules,
}, open("facts.json", "w"))
"""


async def test_a_readers_program_runs_as_python_would_run_it_in_a_warm_fork(bare_lab: Lab, tmp_path):
    """A reader's program is forked from the fork server (the libraries already imported, so it starts
    at once) and sees what `python program.py ADDRESS QUEUE IDENTITY`, started in its folder, would see."""
    (tmp_path / "sibling.py").write_text("WHERE = 'beside'\n")
    program = tmp_path / "facts.py"
    program.write_text(FACTS)
    with pytest.raises(WorkerStartError, match="exit code 0"):  # it never polls: it only says what it saw
        await WorkerPool.start(bare_lab, 1, prefix="facts", program=program)
    facts = json.loads((tmp_path / "facts.json").read_text())
    address = bare_lab.client.service_client.config.target_host
    assert facts["argv"] == [address, bare_lab.task_queue, "facts-1"]
    assert facts["cwd"] == facts["path0"] == str(tmp_path)
    assert (facts["name"], facts["file"], facts["sibling"]) == ("__main__", str(program), "beside")
    assert facts["warm"], "the program should start in a fork of the warm server, its libraries imported"
    assert "x" * 200_000 in (bare_lab.sandbox_root / "facts-1.log").read_text(), "what it prints is in its log"
