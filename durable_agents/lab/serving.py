"""The lab's in-process worker as a background task: run it, stop it at `stop()`, leave it at exit.

A worker's shutdown waits for its tasks, its polls and its cached runs; each of those can outlast the
patience of a notebook or a script's exit, so each wait here is bounded (`SHUTDOWN_SECONDS`,
`ABANDON_SECONDS`) and the server goes in the end anyway.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.worker import Worker

from durable_agents.lab.guard import retrieved
from durable_agents.lab.servers import Server

SHUTDOWN_SECONDS = 10.0
"""How long `stop()` waits for the worker to finish its tasks before it stops the server anyway."""
ABANDON_SECONDS = 1.0
"""How long a cancelled worker (its event loop is closing) may take to shut down before it is left."""


def serve(worker: Worker, server: Server) -> asyncio.Task[None]:
    """Start running `worker` for `server`'s lab, as a task whose outcome is always retrieved."""
    task = asyncio.create_task(_serve(worker, server))
    task.add_done_callback(retrieved)
    return task


async def _serve(worker: Worker, server: Server) -> None:
    """Run the lab's worker until it is shut down or cancelled.

    A script whose `asyncio.run(...)` ends with its lab still up cancels every task at once, the
    worker's own pollers among them. Its shutdown then waited on polls that the server answers only at
    their long-poll timeout, and on runs it had cached that no poller was left to evict (seen: 1 exit
    in 5 past 15 s on a busy machine). The lab's server goes at exit anyway: a cancel kills it, so the
    polls fail now, and a second cancel, after `ABANDON_SECONDS`, ends the wait for the evictions.
    """
    run = asyncio.ensure_future(worker.run())
    try:
        await asyncio.shield(run)
    except asyncio.CancelledError:
        if not run.done():
            server.kill()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(run, ABANDON_SECONDS)
        raise


async def stop(worker: Worker, task: asyncio.Task[None], server: Server) -> None:
    """Shut the worker down (within `SHUTDOWN_SECONDS`, while its server lives), then end its task."""
    if task.done():
        return
    if server.alive():
        with contextlib.suppress(TimeoutError):  # a workflow thread that never returns: leave it
            await asyncio.wait_for(worker.shutdown(), SHUTDOWN_SECONDS)
    task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(task, 1)
