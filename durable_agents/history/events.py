"""What a history says, read from its JSON: what the model was told, and each activity's options.

Every model request is an activity whose input holds the whole conversation so far, so the history
alone tells what the model saw, without asking the worker.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from durable_agents.history.graph import event_attrs


def conversation(history_json: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages the model was sent in the last model request of a history (JSON dict form).

    Every model request carries the whole conversation so far, so the last one shows everything
    the model was told: the prompt, each tool's result, each retry prompt.
    """
    messages: list[dict[str, Any]] = []
    for event in history_json["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs and attrs["activityType"]["name"].endswith("__model_request"):
            payload = attrs["input"]["payloads"][0]
            messages = json.loads(base64.b64decode(payload["data"]))["messages"]
    return messages


def told(history_json: dict[str, Any]) -> list[str]:
    """The texts of every request part in `conversation()`: what the model was told, in order."""
    return [
        str(part.get("content", ""))
        for message in conversation(history_json)
        if message.get("kind") == "request"
        for part in message["parts"]
    ]


def instructions(history_json: dict[str, Any]) -> list[str]:
    """The instructions each model request of a history carried, in order (the agent's and the run's, joined)."""
    return [
        str(message.get("instructions") or "")
        for message in conversation(history_json)
        if message.get("kind") == "request"
    ]


def _about(kind: str, attrs: Mapping[str, Any]) -> str:
    """What one event is about, in a few words: the activity, the worker, the failure, the workflow."""
    if "activityType" in attrs:
        return attrs["activityType"]["name"]
    if kind == "ACTIVITY_TASK_STARTED":
        return f"worker {attrs.get('identity', '?')}, attempt {attrs.get('attempt', 1)}"
    if kind.startswith("WORKFLOW_TASK") and attrs.get("identity"):
        return f"worker {attrs['identity']}"
    if kind in ("MARKER_RECORDED", "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"):
        return "bookkeeping by the SDK (not a step of the agent)"
    if kind == "WORKFLOW_EXECUTION_STARTED":
        return f"{attrs['workflowType']['name']} on task queue {attrs['taskQueue']['name']!r}"
    failure = attrs.get("failure") or {}
    return failure.get("message", "")


def event_rows(history_json: dict[str, Any]) -> list[dict[str, Any]]:
    """The history as Temporal recorded it, one row per event: its id, its type, what it is about, and
    for a scheduled tool call the tool it calls (from the activity's input, as the Web UI shows it)."""
    rows = []
    for event in history_json["events"]:
        kind = event["eventType"].removeprefix("EVENT_TYPE_")
        attrs = event_attrs(event)
        tool = tool_called(attrs) if kind == "ACTIVITY_TASK_SCHEDULED" else ""
        rows.append({"event": int(event["eventId"]), "type": kind, "about": _about(kind, attrs), "tool": tool})
    return rows


def tool_called(scheduled: Mapping[str, Any]) -> str:
    """The tool a scheduled `call_tool` activity calls ('' for any other activity)."""
    payloads = scheduled.get("input", {}).get("payloads") or [{}]
    try:
        args = json.loads(base64.b64decode(payloads[0].get("data", "")))
    except ValueError:
        return ""
    return args.get("name", "") if isinstance(args, dict) else ""


ERROR_MARKS = ("Error:", "error[", "crashed")
"""How an error announces itself in a tool result: `NameError: ...`, Monty's `error[...]`, `... crashed`."""


def first_error_line(text: str) -> str:
    """The first line of what the model was told that names an error (the whole text if none does)."""
    return next((line for line in text.splitlines() if any(mark in line for mark in ERROR_MARKS)), text)


def activity_options(history_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Each activity a history scheduled, with the options Temporal recorded for it."""
    rows = []
    for event in history_json["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if not attrs:
            continue
        retry = attrs.get("retryPolicy", {})
        rows.append(
            {
                "activity": attrs["activityType"]["name"],
                "tool": tool_called(attrs),
                "start_to_close": attrs.get("startToCloseTimeout", ""),
                "heartbeat": "none" if attrs.get("heartbeatTimeout", "0s") == "0s" else attrs["heartbeatTimeout"],
                "max_attempts": retry.get("maximumAttempts", 0) or "unlimited",
                "first_retry_after": retry.get("initialInterval", ""),
            }
        )
    return rows
