"""09 · the worker for your own agent, one way to do it: `python my_agent_worker.py ADDRESS TASK_QUEUE IDENTITY`."""

import asyncio
import sys
from datetime import timedelta

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker

from my_agent import MyWorkflow


async def main(address: str, task_queue: str, identity: str) -> None:
    client = await Client.connect(address, plugins=[PydanticAIPlugin()])
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[MyWorkflow],
        identity=identity,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),  # leave a dead worker fast (07)
    )
    await worker.run()


asyncio.run(main(*sys.argv[1:4]))
