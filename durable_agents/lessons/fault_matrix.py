"""The fault matrix (notebook 05): one row per failure case, read from the run's history alone.

For each run, `fault_row` finds the step where something went wrong (a retry, a failure the model
was told about, a timeout, a cancellation, a failed child) and says where it was handled, what
the model saw, how many attempts it took, and how the workflow ended.
"""

from __future__ import annotations

from typing import Any

from durable_agents.history.graph import Step, WorkflowNode
from durable_agents.lessons.notebook import table

HANDLED_BY = {
    "retried": "Temporal retry policy",
    "model_retry": "the model (repairable feedback)",
    "tool_failed": "the model (a final failure)",
    "timed_out": "Temporal (start-to-close timeout)",
    "failed": "Temporal (no attempts left): the workflow fails",
    "not_retryable": "nobody: not retryable, the workflow fails",
    "cancelled": "cancellation",
    "child_failed": "the parent's model (spawn failed)",
    "terminated": "the operator (terminate)",
}


def _steps(node: WorkflowNode) -> list[Step]:
    return [s for top in node.steps for s in (top, *top.inner)]


def incident(node: WorkflowNode) -> tuple[str, Step] | None:
    """The first thing that went wrong in a workflow, and its kind (a key of `HANDLED_BY`)."""
    for step in _steps(node):
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


def fault_row(case: str, run: Any) -> dict[str, Any]:
    """One row of the matrix for `run`."""
    graph = run.graph()
    found = incident(graph)
    kind, step = found if found else ("", None)
    told = run.told()
    if step is not None and step.outcome in ("model_retry", "tool_failed"):
        saw = step.failures[0]  # the tool's error, as the model got it
    elif graph.status == "completed" and len(told) > 1:
        saw = told[-1]
    else:
        saw = "(nothing: no model turn after it)"
    return {
        "case": case,
        "step": (step.label if step else "") + (f" {step.detail}" if step and step.kind == "model" else ""),
        "handled by": HANDLED_BY.get(kind, "nothing went wrong"),
        "the model saw": " ".join(saw.split())[:80],
        "attempts": step.attempts if step else 1,
        "workflow": graph.status,
    }


def fault_matrix(runs: dict[str, Any]) -> Any:
    """The matrix for several runs, as a notebook table."""

    return table([fault_row(case, run) for case, run in runs.items()])
