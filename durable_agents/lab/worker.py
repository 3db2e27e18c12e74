"""A worker for the demo workflows: the lab's in-process one, or a process of its own.

`python -m durable_agents.lab.worker ADDRESS --namespace NS --task-queue Q --identity NAME` starts
one as a process: its own Python interpreter with its own SDK client, polling the task queue of a lab's
Temporal environment (notebook 06). It prints `READY` once it polls, and stops cleanly on SIGTERM
or SIGINT, or when its stdin closes (the parent died).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import timedelta

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker

from durable_agents.errors import ToolRetryableError
from durable_agents.script import ModelRejected, ModelUnavailable, ScriptError
from durable_agents.workflows import WORKFLOWS

STICKY_TIMEOUT = timedelta(seconds=1)
"""How long a workflow's next task waits for the worker that ran its last one (its sticky queue)."""


def make_worker(client: Client, task_queue: str, identity: str) -> Worker:
    """A worker for the demo workflows.

    The client was built with `PydanticAIPlugin`, and a worker inherits its client's plugins: the
    plugin reads each workflow's `__pydantic_ai_agents__`, registers the activities those agents
    generated, sets the Pydantic payload converter, and lets Pydantic AI through the workflow sandbox.
    """
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        identity=identity,
        # A workflow's next task waits this long for the worker that ran the last one (its
        # "sticky" queue) before any worker may take it: short, so a dead worker is left fast.
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )


class _QuietExpectedFailures(logging.Filter):
    """Hide worker tracebacks for failures a notebook causes on purpose; Temporal records them and
    `RunFailed` reports them."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, (ToolRetryableError, ScriptError, ModelUnavailable, ModelRejected))


def quiet_expected_failures() -> None:
    """Hide worker tracebacks for the failures the workbook causes on purpose (in this process)."""
    log = logging.getLogger("temporalio.activity")
    if not any(isinstance(f, _QuietExpectedFailures) for f in log.filters):
        log.addFilter(_QuietExpectedFailures())


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
