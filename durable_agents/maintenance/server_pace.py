"""How fast a bare Temporal dev server runs a step, with no Pydantic AI in the way (issue 9's question).

`uv run python -m durable_agents.maintenance.server_pace [--workflows 6] [--activities 20]`

Starts a dev server (the lab's binary and dynamic config), then runs `--workflows` workflows one
after another, each `--activities` no-op activities in a row, and prints the milliseconds per
activity of each. Three set-ups, each on a fresh task queue and worker:
- `sticky` (the SDK's defaults, as the lab's workers run);
- `no cache` (`max_cached_workflows=0`: every workflow task goes to the shared queue and replays);
- `a new worker and queue each` (each workflow on a task queue of its own, with a worker of its own).
A durable agent's step costs about the same as a bare activity here (`benchmark.py` measures it),
so what this shows is the server's pace, not Pydantic AI's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from durable_agents.lab import binaries
from durable_agents.lab.servers import DEV_SERVER_CONFIG, quiet_runtime


@activity.defn
async def nothing() -> None:
    """An activity that does no work: what is left is the round trip through the server."""


@workflow.defn(sandboxed=False)
class Steps:
    """`count` activities, one after another."""

    @workflow.run
    async def run(self, count: int) -> None:
        for _ in range(count):
            await workflow.execute_activity(nothing, start_to_close_timeout=timedelta(seconds=10))


async def _pace(client: Client, queue: str, activities: int) -> float:
    """Milliseconds per activity of one workflow of `activities` steps on `queue`."""
    started = time.perf_counter()
    await client.execute_workflow(Steps.run, activities, id=f"pace-{uuid.uuid4().hex[:8]}", task_queue=queue)
    return (time.perf_counter() - started) * 1000 / activities


async def series(client: Client, workflows: int, activities: int, **worker_options: Any) -> list[float]:
    """Run `workflows` workflows in a row on one worker and queue; ms per activity of each."""
    queue = f"pace-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[Steps], activities=[nothing], **worker_options):
        return [await _pace(client, queue, activities) for _ in range(workflows)]


async def new_queues(client: Client, workflows: int, activities: int) -> list[float]:
    """Each workflow on a fresh task queue, with a fresh worker."""
    paces = []
    for _ in range(workflows):
        queue = f"pace-{uuid.uuid4().hex[:6]}"
        async with Worker(client, task_queue=queue, workflows=[Steps], activities=[nothing]):
            paces.append(await _pace(client, queue, activities))
    return paces


async def main(workflows: int, activities: int) -> None:
    extra = [flag for value in DEV_SERVER_CONFIG for flag in ("--dynamic-config-value", value)]
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=binaries.find_binary(binaries.DEV_SERVER),
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=extra,
        runtime=quiet_runtime(),
    ) as env:
        client = env.client
        rows = {
            "sticky": await series(client, workflows, activities),
            "no cache": await series(client, workflows, activities, max_cached_workflows=0),
            "a new worker and queue each": await new_queues(client, workflows, activities),
        }
    print(f"ms per activity, {activities} activities a workflow, workflows in the order they ran:\n")
    print("| set-up | " + " | ".join(f"#{i + 1}" for i in range(workflows)) + " | median |")
    print("|---|" + "---|" * (workflows + 1))
    for name, paces in rows.items():
        print(f"| {name} | " + " | ".join(f"{p:.0f}" for p in paces) + f" | {statistics.median(paces):.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=6)
    parser.add_argument("--activities", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.workflows, args.activities))
