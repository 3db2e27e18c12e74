"""Following a run once it has started: wait for it, act on it as an operator would, draw it live.

`Lab.run` and a long run's `result()` both end here: `collect` waits for a workflow to close and
gathers its histories (and every child's) into a `Run`; `watch` adds what a run may want while it
goes (an operator who cancels or terminates it, the live drawing, the agent's own event stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_ai.durable_exec.temporal import stream_agent_events
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from durable_agents.history import events, store, watch
from durable_agents.lab.run import Run


async def collect(
    client: Client, handle: WorkflowHandle[Any, Any], sandbox_dir: Path, started: float, *, save: bool = True
) -> Run:
    """Wait for a run to close (following continue-as-new), then fetch its histories as a `Run`.

    `save=False` keeps the histories out of `$DURABLE_AGENTS_HISTORY_DIR` (a run made by a changed
    version of the workflow, which today's code is not meant to replay).
    """
    output, error = None, None
    try:
        output = await handle.result()
    except WorkflowFailureError as exc:
        error = exc.cause or exc
    histories = await store.fetch_histories(client, handle.id)
    if save:
        await store.save_runs_if_requested(client, histories)  # every run of a continue-as-new chain
    return Run(handle.id, output, sandbox_dir, histories, error, time.monotonic() - started)


@dataclass
class Operator:
    """What an operator does to a running workflow: cancel it, or terminate it, after a while."""

    cancel_after: float | None = None
    terminate_after: float | None = None
    after_tool: str | None = None
    """Count the while from when a call of this tool is first scheduled anywhere in the run (a
    subagent's too), not from the run's start: what is to be interrupted is then under way, however
    long a busy machine took to get there."""

    async def act(self, client: Client, handle: WorkflowHandle[Any, Any]) -> None:
        delay = self.cancel_after if self.cancel_after is not None else self.terminate_after
        if delay is None:
            return
        if self.after_tool is not None:
            await _scheduled(client, handle.id, self.after_tool)
        await asyncio.sleep(delay)
        if self.cancel_after is not None:
            await handle.cancel()
        else:
            await handle.terminate(reason="terminated by the operator")


async def _scheduled(client: Client, workflow_id: str, tool: str) -> None:
    """Return once a call of `tool` is scheduled in the run or any of its children (or the run has closed)."""
    async for _, event in store.follow(client, workflow_id):
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs and events.tool_called(attrs) == tool:
            return


@contextlib.asynccontextmanager
async def watching(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    operator: Operator,
    *,
    live: bool = False,
    stream_topic: str | None = None,
) -> AsyncIterator[tuple[list[Any], watch.LiveView | None]]:
    """While the body waits for the run: the operator acts, the live view redraws, the agent's events
    are gathered (into the list yielded). On the way out the helpers stop; the stream gets 5 s to
    deliver its last events."""
    view = watch.LiveView(handle.id) if live else None
    streamed: list[Any] = []
    helpers = [asyncio.create_task(operator.act(client, handle))]
    if view is not None:
        helpers.append(asyncio.create_task(_draw_live(client, handle.id, view)))
    subscriber = asyncio.create_task(_subscribe(client, handle, stream_topic, streamed, view)) if stream_topic else None
    try:
        yield streamed, view
    finally:
        for task in helpers:
            task.cancel()
        if subscriber is not None:  # it ends at the run's last event, or when the stream closes
            with contextlib.suppress(Exception):
                await asyncio.wait_for(subscriber, 5)
        for task in [*helpers, *([subscriber] if subscriber else [])]:
            task.cancel()
            with contextlib.suppress(BaseException):  # retrieved, so nothing is reported later
                await task


async def _draw_live(client: Client, workflow_id: str, view: watch.LiveView) -> None:
    """Feed the live view every event the server records for the run and its children; redraw as they come."""
    async for wid, event in store.follow(client, workflow_id):
        view.add(wid, event)
        view.redraw()


async def _subscribe(
    client: Client, handle: WorkflowHandle[Any, Any], topic: str, into: list[Any], view: watch.LiveView | None
) -> None:
    """Take the agent's own events from its Workflow Stream topic as they are published (and acknowledge the last)."""
    async for event in stream_agent_events(client, handle, topic, output_type=str):
        into.append(event)
        if view is not None and (text := watch.say(event)):
            view.said(text)
