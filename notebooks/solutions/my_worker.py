"""06 · your own worker process, one way to do it: `python my_worker.py ADDRESS TASK_QUEUE IDENTITY`.

It hosts the workbook's workflows (`durable_agents.workflows.WORKFLOWS`); 09 has you write one for
a workflow of your own.
"""

import asyncio
import sys

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker

from durable_agents.workflows import WORKFLOWS


async def main(address: str, task_queue: str, identity: str) -> None:
    client = await Client.connect(address, plugins=[PydanticAIPlugin()])
    worker = Worker(client, task_queue=task_queue, workflows=WORKFLOWS, identity=identity)
    await worker.run()


asyncio.run(main(*sys.argv[1:4]))
