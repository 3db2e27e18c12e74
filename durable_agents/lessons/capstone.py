"""The capstone (notebook 09): one task that needs spawn, PTC, a failure and a crash.

Three researchers (subagents, so child workflows) each read one note; one of the notes is missing,
so that researcher is told its read failed and says so. A `run_code` snippet gathers the three,
then runs a long job (`slow`, which heartbeats) and writes `report.md` from what they answered.
While the long job runs, `run_with_crash` kills the worker process that holds it: the other worker
takes the next attempt, and the run finishes with nothing recorded done twice.

The second part has the reader write it all from blank files: an agent module (an agent, a tool,
a workflow), a worker program for it, and a function that drives a run through a crash.
`replay_in_a_process` replays that run's history in a new process that imports the reader's module
(`python -m durable_agents.lessons.capstone AGENT_FILE HISTORY_FOLDER`, forked from the fork server),
as a worker that picks the run up after a crash would.

Notebook 09's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durable_agents import upstream
from durable_agents.errors import root_cause
from durable_agents.lab import Lab, Run, WorkerPool, forkserver
from durable_agents.lab.workers import forget_sticky
from durable_agents.lessons import durability as durability
from durable_agents.lessons import migration as migration
from durable_agents.lessons.durability import tool_in_flight
from durable_agents.lessons.exercises import (
    Check,
    did_not_start,
    finished_check,
    strangers,
)
from durable_agents.lessons.notebook import listed
from durable_agents.live import LiveModelError as LiveModelError
from durable_agents.script import Step, ToolCall, code

NOTES = {
    "notes/temporal.txt": "Temporal: a workflow's history makes it durable.\nEvery step is an event.",
    "notes/monty.txt": "Monty: a small Python interpreter for code a model writes.\nNo files, no network.",
}
"""The notes the run writes first, by path; their first lines are what the researchers report."""

TOPICS = ["notes/temporal.txt", "notes/monty.txt", "notes/celery.txt"]
"""The notes to research, in order; `notes/celery.txt` was never written, so reading it fails."""

LIVE_PROMPT = (
    "Write the notes you are given into the sandbox, then research notes/temporal.txt, notes/monty.txt and "
    "notes/celery.txt with one researcher subagent each, all at once from one run_code snippet; then call "
    "slow(seconds=2) and write report.md with one line per researcher. Notes: " + repr(NOTES)
)
"""The same task, in words, for a live model (the optional part of notebook 09)."""


def write_notes() -> ToolCall:
    """The first step: a snippet that writes every note in `NOTES` (the `ptc` agent's only tool is `run_code`)."""
    writes = ", ".join(f"write_file(path={path!r}, content={text!r})" for path, text in NOTES.items())
    return code(f"import asyncio\nawait asyncio.gather({writes})")


def expected_report() -> list[str]:
    """What `report.md` should say, line by line: each note's first line, or that it is missing."""
    return [NOTES[path].splitlines()[0] if path in NOTES else f"No notes in {path}." for path in TOPICS]


_SPARES = itertools.count(1)


@dataclass
class Crash:
    """A run during which a worker was killed: the run, and which worker died."""

    run: Run
    killed: str


async def run_with_crash(lab: Lab, pool: WorkerPool, script: list[Step], agent: str = "ptc") -> Crash:
    """Run `script` on `lab`; kill the worker that holds its `slow` activity once it starts (SIGKILL).

    The run should call `slow` (it heartbeats every 0.2 s, with a one-second heartbeat timeout); a
    run that ends before any `slow` starts comes back with `killed == ""`, and the check says why.
    The surviving workers in `pool` finish the run. Meanwhile a fresh worker process starts in the
    dead one's place (`spare<n>-1`), so the pool keeps its size for the next attempt.
    """
    handle = await lab.start_run(script, agent=agent)
    running = asyncio.create_task(lab.follow(handle.id))
    finder = asyncio.create_task(tool_in_flight(lab, handle.id))
    await asyncio.wait({running, finder}, return_when=asyncio.FIRST_COMPLETED)
    killed, spare = "", None
    if finder.done() and not finder.exception():
        killed = finder.result()
        pool.kill(killed)
        spare = asyncio.create_task(WorkerPool.start(lab, 1, prefix=f"spare{next(_SPARES)}"))
    finder.cancel()
    try:
        run = await running
    finally:
        if spare is not None:
            pool.processes.update((await spare).processes)
    return Crash(run, killed)


YOUR_QUEUE = "your-agent"
"""The task queue the reader's own workers poll (the lab's workers host other workflows)."""


def workflows_in(agent_file: str | Path) -> list[type]:
    """Every `@workflow.defn` class in the reader's module, imported by name from its folder (as a worker does)."""
    path = Path(agent_file).resolve()
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    module = importlib.import_module(path.stem)
    found = [c for _, c in inspect.getmembers(module, inspect.isclass) if upstream.is_workflow_class(c)]
    return [c for c in found if c.__module__ == module.__name__]


REPLAYED = "REPLAYED"
"""What the replaying process prints once every history replayed: its verdict, whatever its exit does."""


def replay_in_a_process(agent_file: str | Path, histories: Mapping[str, Any]) -> str:
    """Replay `histories` in a new process that imports `agent_file`: "" if they replay, else the error.

    The process is forked from the fork server (`durable_agents.lab.forkserver`): the libraries are
    imported there, the reader's module never was, so it is imported afresh as a worker that picks
    the run up would.

    The verdict is the line the process prints once the histories replayed, not its exit code: an
    interpreter that then fails on its way out (seen once in CI, a "Fatal Python error" at shutdown)
    has still replayed them.
    """
    from durable_agents.history.store import save_histories

    with tempfile.TemporaryDirectory() as folder:
        save_histories(dict(histories), folder)
        log = Path(folder) / "replay.log"
        command = ["-m", "durable_agents.lessons.capstone", str(Path(agent_file).resolve()), folder]
        process = forkserver.start_program(command, os.environ, log)
        process.stdin.close()
        process.stdout.close()  # what it prints goes to `log`
        try:
            code = process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            return "The replay was still running after 120 s."
        lines = log.read_text("utf-8", "replace").strip().splitlines()
    if REPLAYED in lines:
        return ""
    fatal = [line for line in lines if line.startswith("Fatal Python error")]
    return (fatal or lines or [f"exit code {code}"])[-1]


async def _replay_main(agent_file: str, folder: str) -> None:
    from durable_agents.history.replay import replay
    from durable_agents.history.store import load_histories

    workflows = workflows_in(agent_file)
    if not workflows:
        raise SystemExit(f"{agent_file} defines no @workflow.defn class.")
    await replay(load_histories(folder), workflows)
    print(REPLAYED, flush=True)


if __name__ == "__main__":
    from durable_agents.lab.exit import exit_now

    exit_now(lambda: asyncio.run(_replay_main(*sys.argv[1:3])))  # see durable_agents.lab.exit


# --- The exercises' checks -------------------------------------------------------------------------


def check_capstone(crash: Crash) -> Check:
    """Exercise 09: researchers gathered in a snippet, a failure told, a report written, a worker killed."""
    run = crash.run
    check = finished_check("09 · the capstone", run)
    if not check.passed:
        return check
    graph = run.graph()
    codes = [s for s in graph.steps if s.kind == "code"]
    if not check.require(bool(codes), "No run_code step: put the research and the long job in one code('...')."):
        return check
    inner = [s for c in codes for s in c.inner]
    researchers = [s for s in inner if s.kind == "child" and s.label == "researcher"]
    check.require(
        len(researchers) == 3,
        f"{len(researchers)} researcher(s) ran inside run_code: gather three "
        "`spawn(agent_name='researcher', task=...)` calls, one per path in `capstone.TOPICS`.",
    )
    check.require(
        len({s.batch for s in researchers}) <= 1,
        "The researchers started one after another: pass all three spawns to one `asyncio.gather(...)`.",
    )
    for researcher in researchers:
        path = next((p for p in TOPICS if p in researcher.detail), None)
        told = "\n".join(run.told(researcher.child.workflow_id)) if researcher.child else ""
        if path in NOTES:
            check.require(
                NOTES[path] in told, f"The researcher of {path} was not told its text: `read_file(path='{path}')`."
            )
        elif path:
            check.require(
                "No file" in told,
                f"The researcher of {path} should try `read_file(path='{path}')`: it was never written, so the "
                "model is told the read failed (the failure in this task), and answers that there are no notes.",
            )
    report = run.files().get("report.md")
    lines = report.splitlines() if isinstance(report, str) else []
    said = "There is no report.md" if report is None else f"report.md says {listed(lines, 'nothing')}"
    check.require(
        lines == expected_report(),
        f"{said}; it should say {listed(expected_report())} (the researchers' answers, one a line).",
    )
    check.require(
        any(s.label == "write_file" and "report.md" in s.detail for s in inner),
        "report.md was not written inside the snippet: join what the gather returned and `write_file` it there.",
    )
    slow = [s for s in inner if s.label == "slow"]
    if check.require(bool(slow), "No slow(...) inside the snippet: the crash needs a long job to interrupt."):
        check.require(
            bool(crash.killed) and slow[0].attempts >= 2 and slow[0].worker != crash.killed,
            f"slow ran {slow[0].attempts} time(s) and no worker died during it: start the run with "
            "`capstone.run_with_crash(lab, pool, script)`, and call slow after the gather.",
        )
    repeated = [n.workflow_id for n in graph.walk() for s in n.steps if s.kind == "model" and s.attempts > 1]
    check.require(not repeated, f"A model request ran twice in {repeated}: the crash should only redo the long job.")
    return check


Drive = Callable[[Lab, WorkerPool, str], Awaitable[object]]
"""The reader's `drive(lab, workers, task_queue)`: start the workflow, kill a worker, return the workflow id."""


async def check_your_agent(lab: Lab, agent_file: str | Path, worker_file: str | Path, drive: Drive) -> Check:
    """Exercise 09, the second: the reader's own agent module, worker program and crash drive.

    Starts two processes of `worker_file` on a task queue of their own, calls `await drive(lab,
    workers, task_queue)` (which starts the reader's workflow, kills the worker that holds its tool,
    and returns the workflow id), follows the run, reads its history, then replays that history in
    a fresh process that imports `agent_file`.
    """

    check = Check("09 · your own durable agent")
    try:
        workers = await WorkerPool.start(lab, 2, prefix="yours", task_queue=YOUR_QUEUE, program=worker_file)
    except (OSError, RuntimeError, TimeoutError) as exc:
        check.require(False, did_not_start("Your worker program", exc))
        return check
    started = set(workers.identities)
    try:
        try:
            workflow_id = await asyncio.wait_for(drive(lab, workers, YOUR_QUEUE), 60)
            if not isinstance(workflow_id, str):
                check.require(False, f"`drive` returned {workflow_id!r}: return the workflow id (`handle.id`).")
                return check
            await forget_sticky(lab.client, workflow_id)  # `drive` may have killed the worker that ran its last task
            run = await asyncio.wait_for(lab.follow(workflow_id, check=False), 90)
        except Exception as exc:  # the reader's drive, or a run that never ends: both are hints here
            check.require(False, f"Driving the run raised `{type(exc).__name__}: {exc}`.")
            return check
    finally:
        killed = sorted(started - set(workers.identities))
        await workers.stop()
    graph = run.graph()
    if not check.require(run.error is None, f"Your workflow failed: `{root_cause(run.error)}`."):
        return check
    check.require(
        graph.workflow_type not in ("DemoAgentWorkflow", "LongRunWorkflow"),
        f"The run is a `{graph.workflow_type}`, the workbook's: start your own workflow.",
    )
    models = [s for s in graph.steps if s.kind == "model"]
    tools = [s for s in graph.steps if s.kind == "tool"]
    check.require(
        len(models) >= 2 and bool(tools),
        f"The history has {len(models)} model request(s) and {len(tools)} tool call(s): your model should "
        "call your tool first, then answer with what it returned.",
    )
    others = strangers(run, started)
    check.require(not others, f"Workers {sorted(others)} ran part of it: start it on the queue `drive` is given.")
    if check.require(bool(killed), "No worker died: in `drive`, `workers.kill(...)` the one that holds your tool."):
        again = [s for s in tools if s.attempts >= 2]
        check.require(
            bool(again) and again[0].worker not in killed,
            f"{killed[0]} died, but no tool ran again ({', '.join(f'{s.label} ×{s.attempts}' for s in tools)}): "
            "kill it while the tool runs (`durability.tool_in_flight(...)` says when), and make the tool take a "
            "few seconds.",
        )
    repeated = [s.label for s in models if s.attempts > 1]
    check.require(not repeated, f"A model request ran twice ({len(repeated)}): the crash should redo only the tool.")
    if check.passed:
        error = await asyncio.to_thread(replay_in_a_process, agent_file, run.histories)
        check.require(
            not error,
            f"The history does not replay in a fresh process that imports your module: `{error}`. Workflow code "
            "must make the same commands every time: no clock, randomness or I/O outside activities.",
        )
    return check
