"""A lab that came up (`Serving`): its server, its in-process worker's task, its log and its watchdog.

It is what `Lab.start` launches and `Lab.stop` takes down, and what every call waits on (`wait`):
a server that went away under it is told at once, in one error, and the worker stopped with it.
A worker's shutdown waits for its tasks, its polls and its cached runs; each of those can outlast the
patience of a notebook or a script's exit, so each wait here is bounded (`SHUTDOWN_SECONDS`,
`ABANDON_SECONDS`) and the server goes in the end anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from temporalio.worker import Worker

from durable_agents.agent import DURABLE_AGENTS
from durable_agents.lab import guard, logs
from durable_agents.lab.errors import LabError
from durable_agents.lab.servers import Server

T = TypeVar("T")
SHUTDOWN_SECONDS = 10.0
"""How long `stop()` waits for the worker to finish its tasks before it stops the server anyway."""
ABANDON_SECONDS = 1.0
"""How long a cancelled worker (its event loop is closing) may take to shut down before it is left."""


@dataclass(eq=False)
class Serving:
    """A lab's running parts: its server, its worker (None: other processes work), its log, its reaper."""

    server: Server
    worker: Worker | None
    identity: str
    log: logs.LabLog | None
    reaper: subprocess.Popen[bytes] | None
    agents: frozenset[str] = frozenset()
    """The agents the in-process worker registered: those built when it was made (`serve`)."""
    task: asyncio.Task[None] | None = None
    """The in-process worker, running (`serve`)."""
    running: bool = False
    stopped: bool = False

    def serve(self) -> None:
        """Start the in-process worker as a task whose outcome is always retrieved."""
        if self.worker is not None:
            self.agents = frozenset(DURABLE_AGENTS)  # it was made just before: `make_worker` registered these
            self.task = asyncio.create_task(_serve(self.worker, self.server))
            self.task.add_done_callback(guard.retrieved)
        self.running = True

    async def wait(self, awaitable: Awaitable[T], what: str, run_id: str | None = None) -> T:
        """Await `awaitable` on this server (see `guard.wait`): a server that goes ends it with one error."""
        __tracebackhide__ = True  # a failure shows the reader's cell, not the lab's frames
        return await guard.wait(awaitable, what, run_id, alive=self.server.alive, gone=self.gone)

    def gone(self) -> NoReturn:
        """The server went away: stop what depended on it, and say so in one error."""
        __tracebackhide__ = True
        self.running = False
        if self.task is not None:
            self.task.cancel()
        raise guard.gone(self.server)

    def require_running(self) -> None:
        """Raise `LabError` unless the lab can take a call: running, its server alive, its worker up."""
        __tracebackhide__ = True
        if self.running and not self.server.alive():
            self.gone()
        if not self.running or (self.task is not None and self.task.done()):
            raise LabError(guard.STOPPED)

    def ports(self) -> set[int]:
        """The local ports it holds (its server's, its UI's): free again once it stops."""
        return self.server.ports() if self.running else set()

    async def stop(self) -> None:
        """Stop the worker (within `SHUTDOWN_SECONDS`), then the server, the reaper and the log; safe twice."""
        if self.stopped:
            return
        self.running, self.stopped = False, True
        await self._stop_worker()
        await self.server.stop()
        reaper, self.reaper = self.reaper, None
        if reaper is not None and reaper.stdin is not None:
            reaper.stdin.close()  # the reaper now kills anything left, then exits
            await asyncio.to_thread(reaper.wait)
        logs.detach(self.log)
        self.log = None

    async def replace_worker(self, make: Callable[[], Worker]) -> None:
        """Serve with a worker `make` makes (after an agent was built on first use, to register it).

        The old worker stops first: the SDK takes one worker per task queue and client at a time. A Stop
        pressed meanwhile does not stop the swap half-way, which would leave the lab with no worker."""

        async def swap() -> None:
            await self._stop_worker()
            self.worker = make()
            self.serve()

        swapping = asyncio.ensure_future(swap())
        swapping.add_done_callback(guard.retrieved)
        await asyncio.shield(swapping)

    async def _stop_worker(self) -> None:
        task, self.task = self.task, None
        if task is not None and self.worker is not None and not task.done():
            if self.server.alive():
                with contextlib.suppress(TimeoutError):  # a workflow thread that never returns: leave it
                    await asyncio.wait_for(self.worker.shutdown(), SHUTDOWN_SECONDS)
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 1)


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
