"""How a cell waits on the lab's server, so that neither Stop nor a server that died leaves it hanging.

- **Stop (■)** while a cell waits: the cell stops waiting and says in one line which run goes on
  on the server and how to wait for it again (`Interrupted`). The server, the worker and every run
  survive (servers run in a session of their own, out of reach of the kernel's SIGINT).
- **A server that is gone** (killed, crashed, stopped by `reset()` from another notebook): the wait
  ends within a quarter of a second, and the next call at once, with one `LabError` (`gone`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from durable_agents.lab.errors import Interrupted, LabError
from durable_agents.lab.servers import Server

T = TypeVar("T")
POLL_SECONDS = 0.25
"""How often a wait looks whether the server is still there."""
STOPPED = "This lab is stopped: start a new one with `lab = await Lab.start()`."


async def wait(
    awaitable: Awaitable[T], what: str, run_id: str | None, *, alive: Callable[[], bool], gone: Callable[[], NoReturn]
) -> T:
    """Await `awaitable`; call `gone` if `alive()` turns False first, raise `Interrupted` if cancelled.

    `what` names what was awaited; `run_id` the run that goes on on the server without the cell.
    """
    __tracebackhide__ = True  # a failure shows the reader's cell, not the lab's frames
    task = asyncio.ensure_future(awaitable)
    try:
        while not task.done():
            await asyncio.wait([task], timeout=POLL_SECONDS)
            if not task.done() and not alive():
                task.cancel()
                task.add_done_callback(retrieved)
                gone()
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(retrieved)
        goes_on = f" It goes on on the server: `await lab.follow({run_id!r})` waits for it again." if run_id else ""
        raise Interrupted(f"Stopped waiting for {what}.{goes_on} The lab still runs.") from None
    return task.result()


def gone(server: Server) -> LabError:
    """The one error for a server that went away under its lab, with its last words if they were an error."""
    last = server.why_gone()
    said = f" Its last words: {last}" if last and "error" in last.lower() else ""
    return LabError(
        f"The lab's Temporal server (pid {server.pid}) is gone: it was killed, crashed, or stopped by "
        f"reset().{said} Re-run the set-up cell (`lab = await Lab.start(...)`) for a new one; "
        "with `db=` its runs come back."
    )


def retrieved(task: asyncio.Future[Any]) -> None:
    """Done-callback: look at a background task's outcome, so asyncio never reports it unretrieved."""
    if not task.cancelled():
        task.exception()
