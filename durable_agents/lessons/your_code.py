"""Run the reader's own worker code (the second exercise of notebooks 02, 03 and 04): their file, a worker process.

A file the reader writes (a capability: tools, their activity settings, instructions) is worker
code: the `yours` agent (and `yours_ptc`, the `ptc` agent with it) adds the file's `CAPABILITY` in a
worker process started with `$DURABLE_AGENTS_YOUR_TOOLS` naming it (`durable_agents.capabilities.yours`).
That worker polls a task queue of its own, so the lab's in-kernel worker, whose `yours` agent has no
extra tools, never picks the run up; subagents the run spawns start on the same queue, in the same process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from durable_agents.capabilities.yours import YOUR_TOOLS_ENV
from durable_agents.lab.run import Run
from durable_agents.lab.workers import WorkerPool

if TYPE_CHECKING:
    from durable_agents.lab.lab import Lab

YOUR_QUEUE = "your-code"
"""The task queue only the reader's worker process polls."""


async def run_your_code(lab: Lab, path: str | Path, script: list[Any], agent: str = "yours", **request: Any) -> Run:
    """Start a worker process with the reader's file, run `script` on `agent` there (`yours` or `yours_ptc`),
    stop the worker. `request` goes to `lab.start_run` (e.g. `roster=`).

    Returns the run whether it completed or not (its history says what happened); a file that cannot
    give a capability raises `WorkerStartError`, ending with what the worker's log says to fix.
    """
    pool = await WorkerPool.start(
        lab, 1, prefix="your-worker", env={YOUR_TOOLS_ENV: str(Path(path).resolve())}, task_queue=YOUR_QUEUE
    )
    try:
        handle = await lab.start_run(script, agent=agent, task_queue=YOUR_QUEUE, **request)
        return await lab.follow(handle.id, check=False)
    finally:
        await pool.stop()
