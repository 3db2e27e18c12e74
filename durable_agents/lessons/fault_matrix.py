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
from durable_agents.errors import root_cause
from durable_agents.history.graph import Step, WorkflowNode, cut_at_word
from durable_agents.lab.run import Run
from durable_agents.lessons.exercises import (
    Check,
    check_predictions,
    tool_steps,
)
from durable_agents.lessons.notebook import table
from durable_agents.scenarios import shape

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


# --- The exercises' checks -------------------------------------------------------------------------


def check_retry_policy(prediction: str | list[str], run: Run) -> Check:
    """Exercise 05: a retry policy under which `flaky(fail_times=3)` succeeds, and its history predicted first."""
    actual = {"the diagram": shape(run.graph())}
    check = check_predictions("05 · change a retry policy, predict the diagram", {"the diagram": prediction}, actual)
    flaky = [s for s in tool_steps(run) if s.label == "flaky"]
    attempts = flaky[0].attempts if flaky else 0
    check.require(
        run.error is None and bool(flaky) and flaky[0].status == "completed",
        f"flaky took {attempts} attempt(s) and failed for good: it fails three times before it succeeds, so the "
        "task wants a policy that allows at least 4 (my_attempts).",
    )
    return check


def check_your_tool(run: Run) -> Check:
    """Exercise 05, the second: the reader's `fetch_rate`, in their own file, run by a worker process.

    A busy service (every call's first attempt) is retried by Temporal; an unknown currency is told
    to the model at once; the toolset's retry policy allows three attempts, 100 ms apart.
    """
    check = Check("05 · your own tool, in a worker process")
    calls = [s for s in tool_steps(run) if s.label == "fetch_rate"]
    if not check.require(
        len(calls) == 2,
        f"{len(calls)} `fetch_rate` activities ran, not 2: does your file give `fetch_rate` in the toolset of "
        "`CAPABILITY`, and did you rerun the `%%writefile` cell and then the cell that starts the worker?",
    ):
        return check
    known, unknown = calls
    policy: dict[str, Any] = next((row for row in run.activity_options() if row["tool"] == "fetch_rate"), {})
    allowed = f"{policy.get('max_attempts')} attempts, the first retry after {policy.get('first_retry_after')}"
    allowed = "1 attempt, no retry" if policy.get("max_attempts") == 1 else allowed
    check.require(
        policy.get("max_attempts") == 3 and policy.get("first_retry_after") == "0.100s",
        f"The toolset's retry policy allows {allowed}: give `activity_config` "
        "`retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100))`.",
    )
    ended = "the model was told it failed" if known.outcome == "tool_failed" else known.status.replace("_", " ")
    check.require(
        (known.status, known.attempts, known.outcome) == ("completed", 2, "tool_return"),
        f"fetch_rate('USD') took {known.attempts} attempt(s), then {ended}: a busy service is transient, so "
        "raise `ToolRetryableError` and let Temporal try again (the second attempt succeeds).",
    )
    if unknown.outcome == "tool_failed":
        how = "the model was told"
    elif run.error is not None:
        how = f"the activity {unknown.status}, and the run with it"
    else:
        how = f"the activity {unknown.status}; the run went on and ended {run.output!r}"
    check.require(
        unknown.attempts == 1 and unknown.outcome == "tool_failed",
        f"fetch_rate('XYZ') took {unknown.attempts} attempt(s), then {how}: no attempt will ever find a rate for "
        "an unknown currency, so raise `ToolExecutionError`: the model is told at once and no retry is spent.",
    )
    check.require(run.error is None, f"The run failed ({root_cause(run.error)}).")
    return check
