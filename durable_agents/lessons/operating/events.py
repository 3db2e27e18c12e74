"""Reading a history's events for notebook 10: their type, what each is about (an activity, a tool, a
failure, an update), a table of them. Every section's tables are built from these."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowHistory

RESET_CAUSE = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
"""The cause on the `WorkflowTaskFailed` event where a reset run takes over from the old one."""


def event_type(event: Any) -> str:
    """An event's type without its prefix: `ACTIVITY_TASK_SCHEDULED`."""
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def events_table(history: WorkflowHistory, first: int = 1, last: int | None = None) -> list[dict[str, Any]]:
    """The events of a history from `first` to `last`: id, type, and what it is about (activity, tool, result)."""
    rows = []
    for e in history.events:
        if e.event_id < first or (last is not None and e.event_id > last):
            continue
        rows.append({"event": e.event_id, "type": event_type(e), "about": about(e)})
    return rows


def about(event: Any) -> str:
    """What an event is about: the activity (and tool) it schedules, why a task failed, the update accepted."""
    kind = event_type(event)
    if kind == "ACTIVITY_TASK_SCHEDULED":
        attrs = event.activity_task_scheduled_event_attributes
        name = attrs.activity_type.name.split("__", 2)[-1]  # agent__<agent>__model_request -> model_request
        return name + (f" ({tool_name(attrs)})" if "call_tool" in name else "")
    if kind == "WORKFLOW_TASK_FAILED":
        attrs = event.workflow_task_failed_event_attributes
        cause = WorkflowTaskFailedCause.Name(attrs.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_").lower()
        return f"{cause}: {attrs.failure.message[:80]}"
    if kind == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
        return event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
    return ""


def tool_name(attrs: Any) -> str:
    """The tool a `call_tool` activity's input names (`?` if none does)."""
    import json

    for payload in attrs.input.payloads:
        data = json.loads(payload.data)
        if isinstance(data, dict) and "name" in data:
            return str(data["name"])
    return "?"
