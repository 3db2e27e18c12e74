"""The capstone (notebook 09): one task that needs spawn, PTC, a failure and a crash.

Three researchers (subagents, so child workflows) each read one note; one of the notes is missing,
so that researcher is told its read failed and says so. A `run_code` snippet gathers the three,
then runs a long job (`slow`, which heartbeats) and writes `report.md` from what they answered.
While the long job runs, `run_with_crash` kills the worker process that holds it: the other worker
takes the next attempt, and the run finishes with nothing recorded done twice.

The second part has the reader write it all from blank files: an agent module (an agent, a tool,
a workflow), a worker program for it, and a function that drives a run through a crash.
`replay_in_a_process` replays that run's history in a fresh interpreter that imports the reader's
module (`python -m durable_agents.lessons.capstone AGENT_FILE HISTORY_FOLDER`), as a worker that
picks the run up after a crash would.

Notebook 09's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import itertools
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durable_agents import upstream
from durable_agents.lab import Lab, Run, WorkerPool
from durable_agents.lessons import durability as durability
from durable_agents.lessons import migration as migration
from durable_agents.lessons.durability import tool_in_flight
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


def replay_in_a_process(agent_file: str | Path, histories: Mapping[str, Any]) -> str:
    """Replay `histories` in a new interpreter that imports `agent_file`: "" if they replay, else the error."""
    from durable_agents.history.store import save_histories

    with tempfile.TemporaryDirectory() as folder:
        save_histories(dict(histories), folder)
        done = subprocess.run(
            [sys.executable, "-m", "durable_agents.lessons.capstone", str(Path(agent_file).resolve()), folder],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if done.returncode == 0:
        return ""
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


async def _replay_main(agent_file: str, folder: str) -> None:
    from durable_agents.history.replay import replay
    from durable_agents.history.store import load_histories

    workflows = workflows_in(agent_file)
    if not workflows:
        raise SystemExit(f"{agent_file} defines no @workflow.defn class.")
    await replay(load_histories(folder), workflows)


if __name__ == "__main__":
    asyncio.run(_replay_main(*sys.argv[1:3]))
