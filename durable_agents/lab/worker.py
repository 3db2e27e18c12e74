"""A worker for the demo workflows: the lab's in-process one, or a process of its own.

`python -m durable_agents.lab.worker ADDRESS --namespace NS --task-queue Q --identity NAME` starts
one as a process: its own Python interpreter with its own SDK client, polling the task queue of a lab's
Temporal environment (notebook 06). It prints `READY` once it polls, and stops cleanly on SIGTERM
or SIGINT, or when its stdin closes (the parent died). `$DURABLE_AGENTS_WORKFLOW_VERSION` makes it
run a changed version of the demo workflow instead (a deploy, notebook 07).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pydantic_ai
import temporalio
from dotenv import find_dotenv, load_dotenv
from pydantic_ai.durable_exec.temporal import AgentPlugin, PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    Interceptor,
    Worker,
)

import durable_agents
from durable_agents import live
from durable_agents.agent import DURABLE_AGENTS, MCP_AGENT
from durable_agents.lab.exit import exit_now, freeze_heap
from durable_agents.workflows import VERSION_ENV, WORKFLOWS

STICKY_TIMEOUT = timedelta(seconds=1)
"""How long a workflow's next task waits for the worker that ran its last one (its sticky queue).

A worker keeps the workflows it ran in memory, and the server sends each one's next workflow task
to that worker's own queue first, so it can carry on without replaying. If that worker is dead,
the task waits this long before any worker may take it (and replay). The SDK's default is 10 s,
which suits long-lived production workers; the lab's workers are killed on purpose, so it waits 1 s."""


class KeepProgressInterceptor(Interceptor):
    """Lets a tool's heartbeat details survive Pydantic AI's own heartbeats.

    Pydantic AI heartbeats every tool activity in the background with no details, and Temporal
    keeps only the last heartbeat's details: a tool's recorded progress would be overwritten at
    random. This interceptor makes a heartbeat without details carry the last details this
    attempt recorded (or, before it recorded any, those of the previous attempt).
    """

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _KeepProgressInbound(next)


class _KeepProgressInbound(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        super().init(_KeepProgressOutbound(outbound))


class _KeepProgressOutbound(ActivityOutboundInterceptor):
    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        super().__init__(next)
        self._last: tuple[Any, ...] | None = None

    def heartbeat(self, *details: Any) -> None:
        if self._last is None:
            self._last = tuple(self.info().heartbeat_details)
        if details:
            self._last = details
        super().heartbeat(*self._last)


@functools.cache
def _package_digest() -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    for path in sorted(Path(durable_agents.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    digest.update(f"temporalio {temporalio.__version__} pydantic-ai {pydantic_ai.__version__}".encode())
    return digest.digest()


def build_id(workflows: Sequence[type]) -> str:
    """What a worker tells the server its code is (each workflow task it completes records it): a hash of
    this package's source, the SDKs' versions and the workflow classes it registers (a deploy's differ).

    Without one, the SDK makes its own the first time a process builds a worker: it hashes the
    bytecode of every module loaded, some 5,700 here (read from disk, some compiled again through an
    import hook): ~0.5 s of a worker process's ~1 s start, and of a lab's. This takes ~5 ms.
    (temporalio's docstring marks `build_id=` deprecated in favour of `deployment_config`, which would
    make every lab worker a versioned deployment; notebook 10 shows those. As a plain name of the code,
    with no versioning, it is what a lab's worker needs.)
    """
    digest = hashlib.md5(_package_digest(), usedforsecurity=False)
    digest.update(" ".join(f"{w.__module__}.{w.__qualname__}" for w in workflows).encode())
    return digest.hexdigest()


def make_worker(client: Client, task_queue: str, identity: str, workflows: Sequence[type] = WORKFLOWS) -> Worker:
    """A worker for the demo workflows (or `workflows`, e.g. a changed version of them).

    The client was built with `PydanticAIPlugin`, and a worker inherits its client's plugins: the
    plugin reads each workflow's `__pydantic_ai_agents__`, registers the activities those agents
    generated, sets the Pydantic payload converter, and lets Pydantic AI through the workflow sandbox.
    An agent built on first use (`agent.hosted`) is not listed there: once built, `AgentPlugin`
    registers its activities too.
    """
    return Worker(
        client,
        task_queue=task_queue,
        plugins=[AgentPlugin(DURABLE_AGENTS[MCP_AGENT])] if MCP_AGENT in DURABLE_AGENTS else [],
        workflows=list(workflows),
        identity=identity,
        build_id=build_id(workflows),
        # A workflow's next task waits this long for the worker that ran the last one (its
        # "sticky" queue) before any worker may take it: short, so a dead worker is left fast.
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        interceptors=[KeepProgressInterceptor()],
    )


def chosen_workflows() -> Sequence[type]:
    """Today's workflows, or the version `$DURABLE_AGENTS_WORKFLOW_VERSION` names (notebook 07's deploys).

    A deploy of new code is a worker process started with other code; here the environment picks
    which version of `DemoAgentWorkflow` the process registers (`durable_agents.versions`).
    """
    name = os.environ.get(VERSION_ENV)
    if not name:
        return WORKFLOWS
    from durable_agents.versions import version  # only a worker that asks loads the versions

    return [version(name)]


async def serve(address: str, namespace: str, task_queue: str, identity: str) -> None:
    """Poll `task_queue` until told to stop; logs go to stderr, which `WorkerPool` points at a file."""
    client = await Client.connect(address, namespace=namespace, plugins=[PydanticAIPlugin()])
    worker = make_worker(client, task_queue, identity, chosen_workflows())
    freeze_heap()  # a full garbage collection inside a workflow task would walk every library's objects
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stdin = sys.stdin.fileno()  # read unbuffered: a read returns what is there, and b'' once the parent is gone
    loop.add_reader(stdin, lambda: stop.set() if not os.read(stdin, 1) else None)
    async with worker:
        print("READY", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (`argv`, or `sys.argv`): `WorkerPool` forks one from `durable_agents.lab.forkserver`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--identity", required=True)
    args = parser.parse_args(argv)
    load_providers()
    asyncio.run(serve(args.address, args.namespace, args.task_queue, args.identity))


def load_providers() -> None:
    """Before a worker process polls: the keys in a `.env` (a live model's API key may be there), then the
    SDKs of the providers it can serve (`live.servable`): one imported inside a workflow task could pass
    the 2 s deadlock limit."""
    load_dotenv(find_dotenv(usecwd=True), override=False)
    live.preload(*live.servable())


if __name__ == "__main__":
    exit_now(main)  # see durable_agents.lab.exit
