"""A small, typed graph of a run, built from Temporal history JSON alone (a pure function).

`build_graph(histories, root)` reads the standard history JSON of a workflow and of its child
workflows (as `durable_agents.history.as_dicts` gives it) and returns a `WorkflowNode`: the
workflow's steps in order, each a model request, a tool call, a child workflow (with its own
`WorkflowNode`, recursively), a timer or another activity; with attempts, failures,
cancellations and the worker that ran it. Drawing is `durable_agents.history.render`'s job.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

StepKind = Literal["model", "tool", "child", "timer", "activity", "code"]
CODE_TOOLS = ("run_code",)
"""Workflow-native tools that run model-written code; the calls made inside are grouped under them."""
Status = Literal[
    "scheduled", "running", "completed", "failed", "timed_out", "cancelled", "cancel_requested", "terminated"
]
"""A step is `scheduled` until a worker picks it up (an activity) or it starts (a child), then `running`."""

_SUMMARY = 60
_MODEL_REQUESTS = ("__model_request", "__model_request_stream")
_CODE_ERRORS = ("Type error in code", "Runtime error", "Code execution failed")
"""How a `run_code` result that is an error begins: refused by the type checker, raised, stopped by a limit."""
_TERMINAL = {
    "COMPLETED": "completed",
    "FAILED": "failed",
    "TIMED_OUT": "timed_out",
    "CANCELED": "cancelled",
    "TERMINATED": "terminated",
}


@dataclass
class Step:
    """One thing a workflow scheduled: an activity, a child workflow or a timer."""

    kind: StepKind
    label: str
    """Tool name, `model request`, the child's workflow id, or the activity type."""
    detail: str = ""
    """Short arguments of a tool call; what the model asked for after a model request."""
    batch: int = 0
    """Steps scheduled by the same workflow task share a batch: parallel tool calls, parallel spawns."""
    status: Status = "running"
    attempts: int = 1
    event_id: int = 0
    """The id of the history event that scheduled this step (0 for a `code` step, which has none)."""
    failures: list[str] = field(default_factory=list)
    """Messages of failed attempts (the last recorded one and the final failure)."""
    outcome: str = ""
    """A tool's result kind as the model saw it: `tool_return`, `model_retry` or `tool_failed`."""
    result: str = ""
    """A tool's returned value, cut short (when it returned one)."""
    worker: str | None = None
    """Identity of the worker that ran the (last) attempt."""
    activity_type: str = ""
    call_id: str = ""
    """The Pydantic AI tool call id (code-mode calls are `<run_code call id>__<n>`)."""
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    """For a model request: the (tool name, tool call id, short arguments) the model asked for."""
    child: WorkflowNode | None = None
    inner: list[Step] = field(default_factory=list)
    """Calls made inside this step (programmatic tool calling groups its inner calls here)."""
    refused: list[Step] = field(default_factory=list)
    """For a model request: the calls it asked for that never became an activity or a child (an unknown
    tool, bad arguments, an unknown subagent, the depth limit), each with what the model was told."""


@dataclass
class WorkflowNode:
    """A workflow execution and what it did, in order."""

    workflow_id: str
    workflow_type: str
    status: Status
    steps: list[Step]
    result: str = ""
    failure: str = ""
    workers: list[str] = field(default_factory=list)
    """Every worker identity that ran a workflow task or an activity of this workflow, first seen first."""
    code_workers: list[str] = field(default_factory=list)
    """The workers that ran this workflow's own code (its workflow tasks), first seen first."""

    def children(self) -> list[WorkflowNode]:
        """The child workflows this workflow started (directly, or from a code step), in order."""
        return [s.child for top in self.steps for s in (top, *top.inner) if s.child is not None]

    def all_steps(self) -> list[Step]:
        """Every step of this workflow and its descendants, the calls inside code steps included."""
        return [s for node in self.walk() for top in node.steps for s in (top, *top.inner)]

    def walk(self) -> list[WorkflowNode]:
        """This workflow and all its descendants (children of code steps too), depth first."""
        steps = [s for top in self.steps for s in (top, *top.inner)]
        return [self, *(node for s in steps if s.child for node in s.child.walk())]


def decode_payload(payload: Mapping[str, Any] | None) -> Any:
    """The value of a Temporal JSON payload (`json/plain`), or None."""
    if not payload or "data" not in payload:
        return None
    encoding = base64.b64decode(payload.get("metadata", {}).get("encoding", "")).decode()
    data = base64.b64decode(payload["data"])
    return json.loads(data) if encoding.startswith("json") else data.decode(errors="replace")


def _first_payload(attrs: Mapping[str, Any], key: str) -> Any:
    payloads = (attrs.get(key) or {}).get("payloads") or []
    return decode_payload(payloads[0]) if payloads else None


def shorten(value: Any, limit: int = 24) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarise_args(args: Mapping[str, Any] | None) -> str:
    """`path='a.txt', content='hi'`, each value and the whole cut short."""
    text = ", ".join(
        f"{k}={shorten(v)!r}" if isinstance(v, str) else f"{k}={shorten(v)}" for k, v in (args or {}).items()
    )
    return shorten(text, _SUMMARY)


def failure_message(failure: Mapping[str, Any] | None) -> str:
    """The innermost message of a failure chain."""
    messages = []
    while failure:
        if failure.get("message"):
            messages.append(failure["message"])
        failure = failure.get("cause")
    return messages[-1] if messages else ""


def _model_detail(response: Any) -> str:
    if not isinstance(response, dict):
        return ""
    calls = [p["tool_name"] for p in response.get("parts", []) if p.get("part_kind") == "tool-call"]
    if calls:
        return "→ " + shorten(", ".join(calls), _SUMMARY)
    texts = [p.get("content", "") for p in response.get("parts", []) if p.get("part_kind") == "text"]
    return "→ " + shorten(json.dumps(" ".join(texts), ensure_ascii=False), _SUMMARY) if texts else ""


def _activity_step(attrs: Mapping[str, Any], batch: int) -> Step:
    activity_type = attrs["activityType"]["name"]
    if activity_type.endswith(_MODEL_REQUESTS):
        return Step("model", "model request", batch=batch, status="scheduled", activity_type=activity_type)
    call = _first_payload(attrs, "input")
    toolset = "__toolset__" in activity_type or "__mcp_server__" in activity_type
    if toolset and isinstance(call, dict) and "name" in call:
        args, call_id = call.get("tool_args"), (call.get("serialized_run_context") or {}).get("tool_call_id") or ""
        return Step(
            "tool", call["name"], summarise_args(args), batch, "scheduled", activity_type=activity_type, call_id=call_id
        )
    if toolset:  # a call whose input is not recorded, or an MCP server's get_tools: an activity, not a tool call
        kind: StepKind = "tool" if activity_type.endswith("__call_tool") else "activity"
        return Step(
            kind, activity_type.rsplit("__", 1)[-1], batch=batch, status="scheduled", activity_type=activity_type
        )
    return Step("activity", activity_type, batch=batch, status="scheduled", activity_type=activity_type)


def _child_step(attrs: Mapping[str, Any], batch: int, histories: Mapping[str, Mapping[str, Any]]) -> Step:
    """A child workflow; `spawn` puts the subagent's name, task and tool call id in the child's memo."""
    child_id = attrs["workflowId"]
    memo = {k: decode_payload(v) for k, v in (attrs.get("memo") or {}).get("fields", {}).items()}
    child = build_graph(histories, child_id) if child_id in histories else None
    return Step(
        "child",
        str(memo.get("agent_name") or child_id),
        shorten(memo["task"], _SUMMARY) if "task" in memo else attrs["workflowType"]["name"],
        batch=batch,
        status="scheduled",
        call_id=str(memo.get("tool_call_id") or ""),
        child=child,
    )


def _attrs(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventAttributes")), {})


def build_graph(histories: Mapping[str, Mapping[str, Any]], root: str) -> WorkflowNode:
    """The graph of workflow `root`, with every child whose history is in `histories` nested inside."""
    events = histories[root]["events"]
    steps: dict[int, Step] = {}
    workers: list[str] = []
    code_workers: list[str] = []
    workflow_type, status, result, failure = "", "running", "", ""
    told: dict[str, str] = {}

    def seen(identity: str | None) -> None:
        if identity and identity not in workers:
            workers.append(identity)

    for event in events:
        kind = event["eventType"].removeprefix("EVENT_TYPE_")
        attrs = _attrs(event)
        eid = int(event["eventId"])
        batch = int(attrs.get("workflowTaskCompletedEventId", 0) or 0)
        if kind == "ACTIVITY_TASK_SCHEDULED" and attrs["activityType"]["name"].endswith(_MODEL_REQUESTS):
            told |= _answers(_first_payload(attrs, "input"))  # what the model was told so far
        if kind == "WORKFLOW_EXECUTION_STARTED":
            workflow_type = attrs["workflowType"]["name"]
        elif kind == "WORKFLOW_TASK_COMPLETED":
            seen(attrs.get("identity"))
            if attrs.get("identity") and attrs["identity"] not in code_workers:
                code_workers.append(attrs["identity"])
        elif kind == "ACTIVITY_TASK_SCHEDULED":
            steps[eid] = _activity_step(attrs, batch)
        elif kind == "START_CHILD_WORKFLOW_EXECUTION_INITIATED":
            steps[eid] = _child_step(attrs, batch, histories)
        elif kind == "TIMER_STARTED":
            steps[eid] = Step("timer", f"timer {attrs.get('startToFireTimeout', '')}", batch=batch)
        if eid in steps:
            steps[eid].event_id = eid
        elif kind.startswith("WORKFLOW_EXECUTION_") and kind.removeprefix("WORKFLOW_EXECUTION_") in _TERMINAL:
            status = _TERMINAL[kind.removeprefix("WORKFLOW_EXECUTION_")]  # type: ignore[assignment]
            result = shorten(_first_payload(attrs, "result") or "", _SUMMARY) if status == "completed" else ""
            failure = failure_message(attrs.get("failure")) or attrs.get("reason", "")
        else:
            _apply(kind, attrs, steps, seen)
    node_steps = _group_code_calls(list(steps.values()))
    _answer_calls(node_steps, told, status)
    return WorkflowNode(root, workflow_type, status, node_steps, result, failure, workers, code_workers)  # type: ignore[arg-type]


def _requested(part: Mapping[str, Any]) -> tuple[str, str, str]:
    args = part.get("args")
    if isinstance(args, str):
        args = json.loads(args or "{}")
    if part["tool_name"] in CODE_TOOLS and isinstance(args, dict):
        lines = [line for line in str(args.get("code", "")).splitlines() if line.strip()]
        first = next((line for line in lines if not line.startswith(("import ", "from "))), lines[0] if lines else "")
        return part["tool_name"], part.get("tool_call_id", ""), shorten(first, _SUMMARY)
    return part["tool_name"], part.get("tool_call_id", ""), summarise_args(args)


def _group_code_calls(steps: list[Step]) -> list[Step]:
    """Put a `code` step after each model request that asked for `run_code`, holding the calls made
    inside it (their tool call ids extend the `run_code` call's id: `<id>__<n>`)."""
    out: list[Step] = []
    groups: dict[str, Step] = {}
    for step in steps:
        parent = step.call_id.rpartition("__")[0]
        if parent in groups:
            groups[parent].inner.append(step)
            continue
        out.append(step)
        for name, call_id, detail in step.calls:
            if name in CODE_TOOLS:
                groups[call_id] = Step("code", name, detail, batch=-len(out), status="completed", call_id=call_id)
                out.append(groups[call_id])
    return out


def _apply(kind: str, attrs: Mapping[str, Any], steps: dict[int, Step], seen: Any) -> None:
    """Update the step an activity, child or timer event refers to."""
    ref = attrs.get("scheduledEventId") or attrs.get("initiatedEventId") or attrs.get("startedEventId")
    step = steps.get(int(ref)) if ref else None
    if step is None:
        return
    if kind == "ACTIVITY_TASK_STARTED":
        if step.status == "scheduled":  # a cancel request may be recorded before the start
            step.status = "running"
        step.attempts = int(attrs.get("attempt", 1))
        step.worker = attrs.get("identity")
        seen(step.worker)
        if last := failure_message(attrs.get("lastFailure")):
            step.failures.append(last)
    elif kind == "ACTIVITY_TASK_COMPLETED":
        step.status = "completed"
        value = _first_payload(attrs, "result")
        if step.kind == "model":
            step.detail = _model_detail(value)
            parts = value.get("parts", []) if isinstance(value, dict) else []
            step.calls = [_requested(p) for p in parts if p.get("part_kind") == "tool-call"]
        elif isinstance(value, dict) and "kind" in value:
            step.outcome = value["kind"]
            if value["kind"] == "tool_return" and value.get("result") is not None:
                step.result = shorten(value["result"], 32)
            elif value["kind"] != "tool_return":
                step.failures.append(str(value.get("message", "")))
    elif kind in ("ACTIVITY_TASK_FAILED", "ACTIVITY_TASK_TIMED_OUT"):
        step.status = "failed" if kind == "ACTIVITY_TASK_FAILED" else "timed_out"
        step.failures.append(failure_message(attrs.get("failure")) or step.status)
    elif kind in ("ACTIVITY_TASK_CANCEL_REQUESTED", "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED"):
        step.status = "cancel_requested"
    elif kind == "ACTIVITY_TASK_CANCELED":
        step.status = "cancelled"
    elif kind == "START_CHILD_WORKFLOW_EXECUTION_FAILED":
        step.status = "failed"
        step.failures.append(attrs.get("cause", "could not start"))
    elif kind == "CHILD_WORKFLOW_EXECUTION_STARTED":
        if step.status == "scheduled":
            step.status = "running"
    elif kind.startswith("CHILD_WORKFLOW_EXECUTION_"):
        outcome = kind.removeprefix("CHILD_WORKFLOW_EXECUTION_")
        if outcome in _TERMINAL:
            step.status = _TERMINAL[outcome]  # type: ignore[assignment]
            if outcome != "COMPLETED":
                step.failures.append(failure_message(attrs.get("failure")) or step.status)
    elif kind == "TIMER_FIRED":
        step.status = "completed"
    elif kind == "TIMER_CANCELED":
        step.status = "cancelled"


def _answers(request: Any) -> dict[str, str]:
    """What a model request's messages told the model about each tool call: {tool call id: the text}."""
    messages = request.get("messages", []) if isinstance(request, dict) else []
    return {
        part["tool_call_id"]: _text(part.get("content", ""))
        for message in messages
        if isinstance(message, dict) and message.get("kind") == "request"
        for part in message.get("parts", [])
        if part.get("part_kind") in ("tool-return", "retry-prompt") and part.get("tool_call_id")
    }


def _text(content: Any) -> str:
    """A tool result as text; a list of validation errors as `content: Field required`."""
    if isinstance(content, list) and content and all(isinstance(e, dict) and "msg" in e for e in content):
        return "; ".join(f"{'.'.join(map(str, e.get('loc', [])))}: {e['msg']}".lstrip(": ") for e in content)
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def _told_line(text: str) -> str:
    """The line of what the model was told that says what went wrong, cut short."""
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [""]
    if any(line.startswith("Traceback") for line in lines):
        return cut_at_word(lines[-1], 100)  # a traceback ends with the exception
    marked = [line for line in lines if "Error" in line or line.startswith("error[")]
    return cut_at_word((marked or lines)[0], 100)


def cut_at_word(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters, cut at a space (not inside a word) and marked `…`."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head[limit // 2 :] else head).rstrip(" ,;:") + "…"


def _answer_calls(steps: list[Step], told: Mapping[str, str], status: str) -> None:
    """Say what each code snippet ended as, and list under each model request the calls that never ran.

    A `run_code` snippet is an error when its result says so (refused, raised, stopped); one that got
    no result ended with the workflow (cancelled, terminated...), or is still running. A call with no
    activity and no child was answered by the agent itself: an unknown tool, bad arguments, a spawn
    the roster or the depth limit refused.
    """
    ran = {s.call_id for top in steps for s in (top, *top.inner) if s.call_id}
    for step in steps:
        if step.kind == "code":
            answer = told.get(step.call_id)
            if answer is None:
                step.status = "running" if status == "running" else status  # type: ignore[assignment]
            elif answer.startswith(_CODE_ERRORS):
                step.outcome, step.failures = "code_error", [_told_line(answer)]
        elif step.kind == "model":
            for name, call_id, detail in step.calls:
                if name in CODE_TOOLS or call_id in ran or call_id not in told:
                    continue
                refused = Step("tool", name, detail, step.batch, "completed", call_id=call_id, outcome="refused")
                refused.failures.append(_told_line(told[call_id]))
                step.refused.append(refused)
