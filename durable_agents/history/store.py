"""Fetch, save and load the Temporal histories of a run (a workflow and all its children).

Histories are kept as Temporal's standard history JSON, one file per workflow id, so the Temporal
CLI and UI can read them and `durable_agents.history.replay` can replay them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

HISTORY_DIR_ENV = "DURABLE_AGENTS_HISTORY_DIR"
"""Set to a folder and every lab run writes its histories there."""


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


def as_dicts(histories: Mapping[str, WorkflowHistory]) -> dict[str, dict]:
    """The histories as plain history-JSON dicts, the form `durable_agents.history.graph` reads."""
    return {wid: json.loads(h.to_json()) for wid, h in histories.items()}


def _file_name(workflow_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", workflow_id) + ".json"


def save_histories(histories: Mapping[str, WorkflowHistory], directory: str | Path) -> list[Path]:
    """Write each history to `directory/<workflow id>.json`; returns the files written."""
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


def load_histories(directory: str | Path) -> dict[str, WorkflowHistory]:
    """Load every `*.json` history in `directory`, keyed by workflow id (the file's stem)."""
    return {p.stem: WorkflowHistory.from_json(p.stem, p.read_text()) for p in sorted(Path(directory).glob("*.json"))}
