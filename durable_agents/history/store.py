"""Fetch, follow, save and load the Temporal histories of a run (a workflow and all its children).

Histories are kept as Temporal's standard history JSON, one file per run: `<workflow id>.json` for
a workflow's latest run, `<workflow id>.run-<run id>.json` for each run a continue-as-new chain left
behind. The Temporal CLI and UI can read them and `durable_agents.history.replay` can replay them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

HISTORY_DIR_ENV = "DURABLE_AGENTS_HISTORY_DIR"
"""Set to a folder and every lab run writes its histories there."""

RUN_MARK = ".run-"
"""Between a workflow id and a run id in the key (and file name) of a run a chain continued from."""


def child_workflow_ids(history: WorkflowHistory) -> list[str]:
    """Ids of the child workflows this history started, in order."""
    return [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in history.events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]


async def fetch_histories(client: Client, workflow_id: str, wait: float = 30) -> dict[str, WorkflowHistory]:
    """The history of `workflow_id` and, recursively, of every child workflow it started.

    Waits up to `wait` seconds for each workflow to close first (an abandoned child may outlive
    its parent), so every history is complete.
    """
    histories: dict[str, WorkflowHistory] = {}
    pending = [workflow_id]
    while pending:
        wid = pending.pop(0)
        if wid in histories:
            continue
        handle = client.get_workflow_handle(wid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(handle.result(follow_runs=False), wait)
        histories[wid] = await handle.fetch_history()
        pending += child_workflow_ids(histories[wid])
    return histories


async def fetch_chain(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The histories of every run of `workflow_id`'s continue-as-new chain, first run first.

    Each run after the first names the run it continued (`continuedExecutionRunId` on its first
    event), so the chain is walked back from the latest run.
    """
    chain = [await client.get_workflow_handle(workflow_id).fetch_history()]
    while previous := chain[0].events[0].workflow_execution_started_event_attributes.continued_execution_run_id:
        chain.insert(0, await client.get_workflow_handle(workflow_id, run_id=previous).fetch_history())
    return chain


async def follow(
    client: Client, workflow_id: str, *, start_wait: float = 5
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """`(workflow id, history-JSON event)` for `workflow_id` and every child it starts, as the server records them.

    Each workflow's history is long-polled (`wait_new_event`), so an event arrives as soon as it is
    written; a child is followed from the moment its parent records starting it (waiting up to
    `start_wait` seconds for it to exist). Ends when every workflow followed has closed.
    """
    queue: asyncio.Queue[tuple[str, dict[str, Any] | None]] = asyncio.Queue()

    async def tail(wid: str) -> None:
        deadline = asyncio.get_running_loop().time() + start_wait
        try:
            while True:
                try:
                    async for event in client.get_workflow_handle(wid).fetch_history_events(wait_new_event=True):
                        await queue.put((wid, json_format.MessageToDict(event)))
                    return
                except RPCError as exc:  # a child its parent has only just asked for may not exist yet
                    if exc.status != RPCStatusCode.NOT_FOUND or asyncio.get_running_loop().time() > deadline:
                        return
                    await asyncio.sleep(0.05)
        finally:
            await queue.put((wid, None))

    tasks = {workflow_id: asyncio.create_task(tail(workflow_id))}
    open_ = 1
    try:
        while open_:
            wid, event = await queue.get()
            if event is None:
                open_ -= 1
                continue
            kid = event.get("startChildWorkflowExecutionInitiatedEventAttributes", {}).get("workflowId")
            if kid and kid not in tasks:
                tasks[kid] = asyncio.create_task(tail(kid))
                open_ += 1
            yield wid, event
    finally:
        for task in tasks.values():
            task.cancel()


async def earlier_runs(client: Client, histories: Mapping[str, WorkflowHistory]) -> dict[str, WorkflowHistory]:
    """The runs each history's continue-as-new chain went through before it, keyed `<workflow id>.run-<run id>`."""
    runs: dict[str, WorkflowHistory] = {}
    for wid, history in histories.items():
        while previous := history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id:
            history = await client.get_workflow_handle(history.workflow_id, run_id=previous).fetch_history()
            runs[f"{wid}{RUN_MARK}{previous}"] = history
    return runs


def as_dicts(histories: Mapping[str, WorkflowHistory]) -> dict[str, dict]:
    """The histories as plain history-JSON dicts, the form `durable_agents.history.graph` reads."""
    return {wid: json.loads(h.to_json()) for wid, h in histories.items()}


def _file_name(workflow_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", workflow_id) + ".json"


def save_histories(histories: Mapping[str, WorkflowHistory], directory: str | Path) -> list[Path]:
    """Write each history to `directory/<key>.json` (a workflow id, or an earlier run's key); returns the files."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for wid, history in histories.items():
        path = folder / _file_name(wid)
        path.write_text(history.to_json())
        paths.append(path)
    return paths


def save_if_requested(histories: Mapping[str, WorkflowHistory]) -> list[Path]:
    """Save to `$DURABLE_AGENTS_HISTORY_DIR` when it is set."""
    directory = os.environ.get(HISTORY_DIR_ENV)
    return save_histories(histories, directory) if directory else []


async def save_runs_if_requested(client: Client, histories: Mapping[str, WorkflowHistory]) -> list[Path]:
    """`save_if_requested` for histories that may have continued as new: every earlier run is saved too."""
    if not os.environ.get(HISTORY_DIR_ENV):
        return []
    return save_if_requested({**histories, **await earlier_runs(client, histories)})


def load_histories(directory: str | Path) -> dict[str, WorkflowHistory]:
    """Load every `*.json` history in `directory`, keyed by the file's stem (a workflow id, or
    `<workflow id>.run-<run id>` for an earlier run of a chain); each history knows its workflow id."""
    return {
        p.stem: WorkflowHistory.from_json(p.stem.partition(RUN_MARK)[0], p.read_text())
        for p in sorted(Path(directory).glob("*.json"))
    }
