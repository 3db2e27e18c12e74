"""Notebook 10, section 2: an operator's console for one activity (pause, update-options, reset, unpause).

    await pause_activity(lab, workflow_id, activity_id)     # the server's API, as `temporal activity pause`

Each call goes through the client's API, never a blocking `temporal` subprocess on the event loop
that hosts the lab's worker (which it would stall); each names the CLI command it matches."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflowservice.v1 import (
    PauseActivityRequest,
    ResetActivityRequest,
    UnpauseActivityRequest,
    UpdateActivityOptionsRequest,
)
from temporalio.client import WorkflowHistory

from durable_agents.lab.lab import Lab
from durable_agents.lessons.operating.events import event_type, tool_name


async def pending_tool(lab: Lab, workflow_id: str, toolset: str = "faults", timeout: float = 30) -> str:
    """Wait until `workflow_id` has a pending activity of `toolset`; returns its activity id."""
    handle = lab.client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for pending in (await handle.describe()).raw_description.pending_activities:
            if f"__{toolset}__" in pending.activity_type.name:
                return pending.activity_id
        await asyncio.sleep(0.02)
    raise TimeoutError(f"No {toolset} activity of {workflow_id} was pending within {timeout} s.")


async def pause_activity(lab: Lab, workflow_id: str, activity_id: str, reason: str = "") -> None:
    """`temporal activity pause`: no further attempt until unpaused (a running attempt runs to its end)."""
    await lab.client.workflow_service.pause_activity(
        PauseActivityRequest(**_target(lab, workflow_id, activity_id), reason=reason, request_id=str(uuid.uuid4()))
    )


async def unpause_activity(lab: Lab, workflow_id: str, activity_id: str) -> None:
    """`temporal activity unpause`: the next attempt is scheduled now; the attempt count carries on."""
    await lab.client.workflow_service.unpause_activity(UnpauseActivityRequest(**_target(lab, workflow_id, activity_id)))


async def reset_activity(lab: Lab, workflow_id: str, activity_id: str, keep_paused: bool = False) -> None:
    """`temporal activity reset`: the attempt count starts again from 1 (and the retry interval with it)."""
    await lab.client.workflow_service.reset_activity(
        ResetActivityRequest(**_target(lab, workflow_id, activity_id), keep_paused=keep_paused)
    )


async def retry_activity_with(
    lab: Lab, workflow_id: str, activity_id: str, *, maximum_attempts: int, initial_interval: float
) -> None:
    """`temporal activity update-options --retry-maximum-attempts N --retry-initial-interval S`, for one activity."""
    options = ActivityOptions()
    options.retry_policy.maximum_attempts = maximum_attempts
    options.retry_policy.initial_interval.FromTimedelta(timedelta(seconds=initial_interval))
    mask = FieldMask(paths=["retry_policy.maximum_attempts", "retry_policy.initial_interval"])
    await lab.client.workflow_service.update_activity_options(
        UpdateActivityOptionsRequest(
            **_target(lab, workflow_id, activity_id), activity_options=options, update_mask=mask
        )
    )


def _target(lab: Lab, workflow_id: str, activity_id: str) -> dict[str, Any]:
    return {
        "namespace": lab.client.namespace,
        "execution": WorkflowExecution(workflow_id=workflow_id),
        "id": activity_id,
        "identity": "operator",
    }


async def activity_state(lab: Lab, workflow_id: str, activity_id: str) -> dict[str, Any]:
    """What `describe()` says of one pending activity: state, attempt, its retry policy now, why it paused."""
    description = await lab.client.get_workflow_handle(workflow_id).describe()
    for pending in description.raw_description.pending_activities:
        if pending.activity_id == activity_id:
            policy = pending.activity_options.retry_policy
            return {
                "state": PendingActivityState.Name(pending.state).removeprefix("PENDING_ACTIVITY_STATE_"),
                "attempt": pending.attempt,
                "maximum attempts": policy.maximum_attempts,
                "retry interval": f"{policy.initial_interval.ToTimedelta().total_seconds():g} s",
                "paused because": pending.pause_info.manual.reason if pending.paused else "",
                "last failure": pending.last_failure.message,
            }
    return {"state": "no longer pending", "attempt": "", "maximum attempts": "", "retry interval": ""}


def attempts(history: WorkflowHistory, toolset: str = "faults") -> list[dict[str, Any]]:
    """Each activity of `toolset` in a history: the attempt it ended on, the retry policy its scheduling recorded."""
    rows = []
    for e in history.events:
        if event_type(e) != "ACTIVITY_TASK_SCHEDULED":
            continue
        attrs = e.activity_task_scheduled_event_attributes
        if f"__{toolset}__" not in attrs.activity_type.name:
            continue
        started = next(
            s
            for s in history.events
            if event_type(s) == "ACTIVITY_TASK_STARTED"
            and s.activity_task_started_event_attributes.scheduled_event_id == e.event_id
        )
        rows.append(
            {
                "activity": attrs.activity_id,
                "tool": tool_name(attrs),
                "recorded maximum attempts": attrs.retry_policy.maximum_attempts,
                "ended on attempt": started.activity_task_started_event_attributes.attempt,
            }
        )
    return rows
