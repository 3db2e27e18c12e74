"""The fault matrix (notebook 05): one row per failure case, read from the run's history alone.

For each run, `fault_row` finds the step where something went wrong (a retry, a failure the model
was told about, a timeout, a cancellation, a failed child) and says where it was handled, what
the model saw, how many attempts it took, and how the workflow ended.

Notebook 05's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

from typing import Any

from durable_agents import errors as errors
from durable_agents.capabilities.faults import ATTEMPTS_ENV as ATTEMPTS_ENV
from durable_agents.capabilities.yours import YOUR_TOOLS_ENV as YOUR_TOOLS_ENV
from durable_agents.history.graph import Step, WorkflowNode, cut_at_word
from durable_agents.lab.run import Run
from durable_agents.lessons.notebook import table

HANDLED_BY = {
    "retried": "Temporal retry policy",
    "model_retry": "the model (repairable feedback)",
    "tool_failed": "the model (a final failure)",
    "timed_out": "Temporal (start-to-close timeout)",
    "failed": "Temporal (no attempts left): the workflow fails",
    "not_retryable": "nobody: not retryable, the workflow fails",
    "code_error": "the model (the snippet's error; its other calls were cancelled)",
    "cancelled": "cancellation",
    "child_failed": "the parent's model (spawn failed)",
    "terminated": "the operator (terminate)",
}


def _steps(node: WorkflowNode) -> list[Step]:
    return [s for top in node.steps for s in (top, *top.inner)]


def incident(node: WorkflowNode) -> tuple[str, Step] | None:
    """The first thing that went wrong in a workflow, and its kind (a key of `HANDLED_BY`)."""
    for step in _steps(node):
        if step.kind == "code" and step.outcome == "code_error":  # before the calls inside it it cancelled
            return "code_error", step
        if step.kind == "child" and step.child is not None and step.child.status == "failed":
            return "child_failed", step
        if step.status == "failed" and step.attempts == 1:
            return "not_retryable", step
        if step.status in ("timed_out", "failed"):
            return step.status, step
        if step.status in ("cancelled", "cancel_requested") or (step.child and step.child.status == "cancelled"):
            return "cancelled", step
        if step.outcome in ("model_retry", "tool_failed"):
            return step.outcome, step
        if step.attempts > 1:
            return "retried", step
    return ("terminated", node.steps[-1]) if node.status == "terminated" and node.steps else None


def fault_row(case: str, run: Run) -> dict[str, Any]:
    """One row of the matrix for `run`."""
    graph = run.graph()
    found = incident(graph)
    kind, step = found if found else ("", None)
    return {
        "case": case,
        "step": (step.label if step else "") + (f" {step.detail}" if step and step.kind == "model" else ""),
        "handled by": HANDLED_BY.get(kind, "nothing went wrong"),
        "the model saw": cut_at_word(model_saw(graph, step, run.told()), 90),
        "attempts": step.attempts if step else 1,
        "workflow": graph.status,
    }


def model_saw(graph: WorkflowNode, step: Step | None, told: list[str]) -> str:
    """What the model was told about the incident, in words: the error it got, the result after a retry,
    or that it saw nothing (Temporal retried a model request, or no model turn came after)."""
    if step is not None and step.outcome in ("model_retry", "tool_failed", "code_error") and step.failures:
        return step.failures[0]  # the tool's or the snippet's error, as the model got it
    if step is not None and step.kind == "model" and step.status == "completed":
        return "nothing: Temporal retried the request; the model only ever saw the attempt that worked"
    if step is not None and step.kind == "tool" and step.status == "completed":
        return f"the result of the attempt that worked: {step.result or '(no text)'}"
    if graph.status == "completed" and len(told) > 1:
        return told[-1] or "(an empty result)"
    return "nothing: no model turn after it"


def fault_matrix(runs: dict[str, Any]) -> Any:
    """The matrix for several runs, as a notebook table."""

    return table([fault_row(case, run) for case, run in runs.items()])
