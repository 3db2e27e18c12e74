"""Run the reader's own worker code (the second exercise of notebooks 02, 03 and 04): their file, a worker process.

A file the reader writes (a capability: tools, their activity settings, instructions) is worker
code: the `yours` agent (and `yours_ptc`, the `ptc` agent with it) adds the file's `CAPABILITY` in a
worker process started with `$DURABLE_AGENTS_YOUR_TOOLS` naming it (`durable_agents.capabilities.yours`).
That worker polls a task queue of its own, so the lab's in-kernel worker, whose `yours` agent has no
extra tools, never picks the run up; subagents the run spawns start on the same queue, in the same process.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from durable_agents.capabilities.yours import YOUR_TOOLS_ENV
from durable_agents.lab.run import Run
from durable_agents.lab.workers import WorkerPool
from durable_agents.workflows import DemoAgentWorkflow

YOUR_QUEUE = "your-code"
"""The task queue only the reader's worker process polls."""


async def run_your_code(lab: Any, path: str | Path, script: list[Any], agent: str = "yours", **request: Any) -> Run:
    """Start a worker process with the reader's file, run `script` on `agent` there (`yours` or `yours_ptc`),
    stop the worker. `request` goes to `lab.request` (e.g. `roster=`).

    Returns the run whether it completed or not (its history says what happened); a file that cannot
    give a capability raises `WorkerStartError`, ending with what the worker's log says to fix.
    """
    pool = await WorkerPool.start(
        lab, 1, prefix="your-worker", env={YOUR_TOOLS_ENV: str(Path(path).resolve())}, task_queue=YOUR_QUEUE
    )
    try:
        workflow_id, agent_request = lab.request(script, agent=agent, **request)
        Path(agent_request.sandbox_dir).mkdir(parents=True, exist_ok=True)
        await lab.client.start_workflow(
            DemoAgentWorkflow.run,
            agent_request,
            id=workflow_id,
            task_queue=YOUR_QUEUE,
            execution_timeout=timedelta(seconds=60),
        )
        return await lab.follow(workflow_id, check=False)
    finally:
        await pool.stop()
