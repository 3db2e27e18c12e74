"""Crashes and deploys, watched (notebook 07): what the server says about a run nobody works on, and
what its history says once a worker has carried it on.

    handle = await lab.start_run(script)           # the run starts on worker processes
    await tool_in_flight(lab, handle.id)            # ... until `slow` runs on one of them
    pool.kill_all()                                 # every worker dies
    table(await waiting(handle))                    # the server still holds the run, and waits
    fresh = await WorkerPool.start(lab, 1, prefix="fresh")
    run = await lab.follow(handle.id)               # a new worker replays the history and finishes

Everything `recount` and `workflow_tasks` report is read from the history alone.

Notebook 07's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from temporalio.api.enums.v1 import PendingActivityState, PendingWorkflowTaskState
from temporalio.client import WorkflowHandle, WorkflowHistory

from durable_agents import versions as versions
from durable_agents.capabilities import faults as faults
from durable_agents.history.graph import decode_payload, event_attrs
from durable_agents.history.replay import replay as replay
from durable_agents.history.store import load_histories as load_histories
from durable_agents.history.store import save_histories as save_histories
from durable_agents.lab import Lab, Run
from durable_agents.lab import worker as worker
from durable_agents.lab.worker import STICKY_TIMEOUT as STICKY_TIMEOUT
from durable_agents.lab.worker import VERSION_ENV as VERSION_ENV
from durable_agents.lessons import server_crash as server_crash
from durable_agents.lessons import verdicts as verdicts
from durable_agents.lessons.exercises import (
    Check,
    as_steps,
)
from durable_agents.lessons.notebook import listed


async def tool_in_flight(lab: Lab, workflow_id: str, toolset: str | None = "faults", timeout: float = 30) -> str:
    """Wait until an activity of `toolset` (None: any tool) runs on a worker for `workflow_id`; returns
    that worker's identity. Raises if the run ends first, or after `timeout` seconds."""
    handle = lab.client.get_workflow_handle(workflow_id)
    wanted = "__call_tool" if toolset is None else f"__{toolset}__"
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            if wanted in pending.activity_type.name and pending.last_worker_identity:
                return pending.last_worker_identity
        if description.status is not None and description.status.name != "RUNNING":
            what = "tool" if toolset is None else f"{toolset} tool"
            raise RuntimeError(f"{workflow_id} ended ({description.status.name}) before any {what} was seen running: "
                               "a tool must take a while (a second or more) to be caught in flight.")  # fmt: skip
    raise TimeoutError(f"No {toolset or 'tool'} activity of {workflow_id} started on a worker within {timeout} s.")


async def waiting(handle: WorkflowHandle[Any, Any], settled: bool = False, timeout: float = 30) -> list[dict[str, Any]]:
    """What the server holds for a run, from `describe()`: its status and each pending activity or task.

    An activity is named by its tool (read from the history's scheduled event), its progress is the
    seconds of work its last heartbeat recorded. `settled=True` first waits until no pending activity
    is still `STARTED` on a worker (after a crash: until the server has timed the dead attempt out),
    so the table says the same however soon it is asked.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        description = await handle.describe()
        raw = description.raw_description
        started = [p for p in raw.pending_activities if p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]
        if not (settled and started) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    tools = _tools_by_activity_id(json.loads((await handle.fetch_history()).to_json()))
    status = description.status.name if description.status else "?"
    rows: list[dict[str, Any]] = [
        {"what": "workflow", "name": handle.id, "state": status, "attempt": "", "last worker": "", "progress": ""}
    ]
    for pending in raw.pending_activities:
        details = [json.loads(p.data) for p in pending.heartbeat_details.payloads]
        rows.append(
            {
                "what": "activity",
                "name": tools.get(pending.activity_id, pending.activity_type.name),
                "state": PendingActivityState.Name(pending.state).removeprefix("PENDING_ACTIVITY_STATE_"),
                "attempt": pending.attempt,
                "last worker": pending.last_worker_identity,
                "progress": ", ".join(f"{d:.1f} s done" if isinstance(d, int | float) else str(d) for d in details),
            }
        )
    if raw.HasField("pending_workflow_task"):
        task = raw.pending_workflow_task
        state = PendingWorkflowTaskState.Name(task.state).removeprefix("PENDING_WORKFLOW_TASK_STATE_")
        rows.append({"what": "workflow task", "name": "", "state": state, "attempt": task.attempt,
                     "last worker": "", "progress": ""})  # fmt: skip
    return rows


def _tools_by_activity_id(history_json: dict[str, Any]) -> dict[str, str]:
    """Each scheduled tool activity's id -> the tool it calls (`slow`), from the scheduled events' inputs."""
    found = {}
    for event in history_json["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs:
            call = decode_payload((attrs.get("input") or {}).get("payloads", [None])[0])
            if isinstance(call, dict) and "name" in call:
                found[attrs["activityId"]] = call["name"]
    return found


def workflow_tasks(history_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Every workflow-task event of a history: which worker took each task, and what became of it.

    A workflow task is one turn of the workflow's code: a worker runs it up to the next point where
    it waits, and answers with commands (schedule this activity, start that timer). A worker that has
    not run the workflow before first replays the whole history to get there.
    """
    rows = []
    for event in history_json["events"]:
        kind = event["eventType"].removeprefix("EVENT_TYPE_")
        if not kind.startswith("WORKFLOW_TASK_"):
            continue
        attrs = event_attrs(event)
        note = ""
        if kind == "WORKFLOW_TASK_SCHEDULED":
            sticky = attrs.get("taskQueue", {}).get("kind") == "TASK_QUEUE_KIND_STICKY"
            note = "on the last worker's sticky queue" if sticky else "on the task queue (any worker)"
        elif kind == "WORKFLOW_TASK_TIMED_OUT":
            note = f"{attrs.get('timeoutType', '').removeprefix('TIMEOUT_TYPE_').lower()}: nobody took it"
        elif kind == "WORKFLOW_TASK_FAILED":
            note = f"{attrs.get('cause', '').removeprefix('WORKFLOW_TASK_FAILED_CAUSE_')}: "
            note += (attrs.get("failure") or {}).get("message", "")[:160]
        rows.append({"event": int(event["eventId"]), "workflow task": kind.removeprefix("WORKFLOW_TASK_").lower(),
                     "worker": attrs.get("identity", ""), "note": note})  # fmt: skip
    return rows


def recount(run: Run) -> list[dict[str, Any]]:
    """Each step of a run, from its history: how many times it was scheduled and attempted, and where."""
    rows = []
    for step in run.graph().steps:
        rows.append({"step": step.label if step.kind != "model" else "model request", "attempts": step.attempts,
                     "ran on": step.worker or "", "result": step.result})  # fmt: skip
    return rows


def replays(history_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Each time a worker took a workflow task of a run it had not worked on before, so had to replay.

    That worker's SDK re-ran the workflow code from the start and fed it the recorded results of
    every event before the task: `events replayed` counts them. Nothing recorded ran again.
    """
    seen: set[str] = set()
    rows = []
    for row in workflow_tasks(history_json):
        worker = row["worker"]
        if row["workflow task"] != "started" or worker in seen:
            continue
        if seen:
            rows.append({"worker": worker, "at event": row["event"], "events replayed": row["event"] - 1})
        seen.add(worker)
    return rows


async def until_task_fails(handle: WorkflowHandle[Any, Any], timeout: float = 60) -> dict[str, Any]:
    """Wait until a workflow task of the run has failed (a deploy the history does not fit); returns its row."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        history = json.loads((await handle.fetch_history()).to_json())
        failed = [r for r in workflow_tasks(history) if r["workflow task"] == "failed"]
        if failed:
            return failed[0]
        await asyncio.sleep(0.2)
    raise TimeoutError(f"No workflow task of {handle.id} failed within {timeout} s.")


async def progress_at_least(handle: WorkflowHandle[Any, Any], seconds: float, timeout: float = 30) -> float:
    """Wait until the run's pending activity has recorded at least `seconds` of progress in a heartbeat."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            done = [json.loads(p.data) for p in pending.heartbeat_details.payloads]
            if done and float(done[0]) >= seconds:
                return float(done[0])
        await asyncio.sleep(0.1)
    raise TimeoutError(f"No activity of {handle.id} recorded {seconds} s of progress within {timeout} s.")


# --- The exercises' checks -------------------------------------------------------------------------


CRASH_STEPS = ("workflow code", "model request", "write_file", "slow")
"""What may run again after a crash, in the words exercise 07 uses."""


def check_crash_prediction(prediction: str | list[str], run: Run) -> Check:
    """Exercise 07: the reader predicted which steps run again when every worker dies while `slow` runs
    (names from `CRASH_STEPS`, as a list or one string, read as a person types them: see `as_steps`)."""

    check = Check("07 · what runs again after a crash")
    prediction = as_steps(prediction)
    unknown = [p for p in prediction if p not in CRASH_STEPS]
    if not check.require(not unknown, f"{listed(unknown)}: not steps here; use names from {listed(CRASH_STEPS)}."):
        return check
    again = {"workflow code"} if replays(run.history_json[run.workflow_id]) else set()
    for step in run.graph().steps:
        if step.attempts > 1:
            again.add("model request" if step.kind == "model" else step.label)
    for name in CRASH_STEPS:
        if name in prediction and name not in again:
            check.require(False, f"{name!r} did not run again: its result was in the history, so the new "
                                 "worker was handed the result instead of running it.")  # fmt: skip
        elif name == "workflow code" and name in again and name not in prediction:
            check.require(False, "The workflow code did run again: a worker that has not seen the run rebuilds its "
                                 "state by replaying the code from the start (see `durability.replays`).")  # fmt: skip
        elif name in again and name not in prediction:
            check.require(False, f"{name!r} ran again: it was in flight when the workers died, so the history held "
                                 "no result for it; Temporal retried it.")  # fmt: skip
    return check


async def check_patch(
    step: versions.Step, before: Mapping[str, WorkflowHistory], after: Mapping[str, WorkflowHistory]
) -> Check:
    """Exercise 07: the reader's `step` (run before the demo agent's first model request) is replay-safe.

    `before`: histories recorded before the change; `after`: histories of new runs under the
    patched version (`versions.PacedPatchedWorkflow`). The reader's version must replay both.
    """
    check = Check("07 · a replay-safe change")
    reader = versions.with_step(step)
    old = [v for v in await verdicts.replay_against(before, reader, "your version") if not v.passed]
    check.require(not old, f"A run from before the change does not replay: {old[0].explain() if old else ''}. "
                           "Guard the new step with `if workflow.patched(...)` so old runs skip it.")  # fmt: skip
    new = [v for v in await verdicts.replay_against(after, reader, "your version") if not v.passed]
    check.require(not new, f"A new run of the patched version does not replay: {new[0].explain() if new else ''}. "
                           f"New runs pause for `versions.PAUSE` behind the patch id {versions.PACING_PATCH!r}: "
                           "use that id and keep the pause.")  # fmt: skip
    return check
