"""Re-record the plain child-workflow histories: `uv run python tests/data/record_nested.py`.

Runs `ParentWorkflow` (`nesting_workflows.py`) on its own worker beside the lab's worker, which runs
the agent children, and saves every history to `tests/data/child_workflows/` (outside `histories/`:
the replay test there knows only the package's workflows).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).parents[2]))

from durable_agents.history.store import fetch_histories, save_histories
from durable_agents.lab import Lab
from tests.data.nesting_workflows import TASK_QUEUE, WORKFLOWS, ParentWorkflow

HERE = Path(__file__).parent / "child_workflows"
ROOT_ID = "parent-001"


async def main() -> None:
    shutil.rmtree(HERE, ignore_errors=True)
    async with await Lab.start("time-skipping", sandbox_root="/tmp/record-nested") as lab:
        sandbox = Path("/tmp/record-nested") / ROOT_ID
        sandbox.mkdir(parents=True, exist_ok=True)
        async with Worker(lab.client, task_queue=TASK_QUEUE, workflows=WORKFLOWS, identity="nesting-worker"):
            answer = await lab.client.execute_workflow(
                ParentWorkflow.run, args=[lab.task_queue, str(sandbox)], id=ROOT_ID, task_queue=TASK_QUEUE
            )
            histories = await fetch_histories(lab.client, ROOT_ID)
        paths = save_histories(histories, HERE)
        print(f"{answer!r} -> {[p.name for p in paths]}")


if __name__ == "__main__":
    asyncio.run(main())
