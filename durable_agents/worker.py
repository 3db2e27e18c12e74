"""A worker process: `python -m durable_agents.worker ADDRESS --namespace NS --task-queue Q --identity NAME`.

Each one is its own Python interpreter with its own SDK client, polling the task queue of a lab's
Temporal environment (notebook 06). It prints `READY` once it polls, and stops cleanly on SIGTERM
or SIGINT, or when its stdin closes (the parent died).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client

from durable_agents.lab import make_worker, quiet_expected_failures


async def serve(address: str, namespace: str, task_queue: str, identity: str) -> None:
    quiet_expected_failures()
    client = await Client.connect(address, namespace=namespace, plugins=[PydanticAIPlugin()])
    worker = make_worker(client, task_queue, identity)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.buffer.read1(1) else None)
    async with worker:
        print("READY", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--identity", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.namespace, args.task_queue, args.identity))


if __name__ == "__main__":
    main()
