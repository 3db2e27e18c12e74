"""The orientation (notebook 00): the moving parts of a durable agent, drawn.

The picture is drawn with the same Graphviz path as every run diagram (`history.render.Picture`),
so what the reader learns here about the drawing holds later on.

Notebook 00's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import graphviz

from durable_agents.history.events import event_rows
from durable_agents.history.render import STYLE, Picture
from durable_agents.history.render import legend as legend
from durable_agents.lessons.exercises import (
    Check,
    answer,
    as_number,
    unanswered,
)

if TYPE_CHECKING:
    from durable_agents.lab.run import Run


def moving_parts() -> Picture:
    """Client, server (event history, task queue), worker (workflow code, activities), and the two kinds of task."""
    graph = graphviz.Digraph(
        "parts", graph_attr={"rankdir": "TB", "fontname": "Helvetica", "nodesep": "0.6", "ranksep": "0.5"}
    )
    font = {"fontname": "Helvetica", "fontsize": "10"}
    graph.node("client", "this notebook\n(a Temporal client)\nlab.run(...)", shape="box", style="rounded", **font)
    with graph.subgraph(name="cluster_server") as server:
        server.attr(label="Temporal server", style="rounded", color="#1f2937", **font)
        server.node(
            "history",
            "event history\n(one per workflow:\nevery step, recorded)",
            shape="cylinder",
            style="filled",
            fillcolor="#f3f4f6",
            **font,
        )
        server.node("queue", "task queue\n'durable-agents'", shape="box", style="filled", fillcolor="#fef9c3", **font)
        server.node("ui", "Web UI", shape="box", style="rounded,dashed", **font)
    with graph.subgraph(name="cluster_worker") as worker:
        worker.attr(label="worker (a process; here, this kernel)", style="rounded", color="#0f766e", **font)
        worker.node(
            "code",
            "workflow code\nDemoAgentWorkflow: agent.run(...)\ndeterministic, replayable",
            shape="box",
            style="rounded",
            **font,
        )
        worker.node("acts", "activities\nmodel requests, tool calls\n(any I/O)", **{**STYLE["tool"], **font})
    graph.edge("client", "history", label="start workflow,\nwait for result,\nfetch history", **font)
    graph.edge("history", "queue", label="next step due", style="dashed", **font)
    graph.edge("queue", "code", label="workflow task:\nrun the code to\nits next await", color="#1d4ed8", **font)
    graph.edge("code", "history", label="commands: schedule an\nactivity, start a child", color="#1d4ed8", **font)
    graph.edge("queue", "acts", label="activity task:\ndo this one call", color="#15803d", **font)
    graph.edge("acts", "history", label="result (or failure)\n→ an event", color="#15803d", **font)
    graph.edge("ui", "history", label="reads", style="dotted", arrowhead="none", **font)
    return Picture(graph.source)


# --- The exercises' checks -------------------------------------------------------------------------


def _count(check: Check, what: str, typed: Any, actual: int, how: str) -> None:
    """Require a counted number (typed as a number or as text), with a hint that says which way to look."""
    number = as_number(typed)
    if number is None:
        check.require(False, f"{what}: {typed!r} is not a number; write the count, e.g. 4.")
        return
    way = "too few" if number < actual else "too many"
    check.require(number == actual, f"You counted {number:g} {what}: {way}. {how}")


def check_reading(run: Run, *, activities: Any, model_requests: Any, first_tool: str) -> Check:
    """Exercise 00: read a raw history: how many activities, how many of them model requests, the first tool."""
    check = Check("00 · read a history")
    rows = event_rows(run.history_json[run.workflow_id])
    scheduled = [row for row in rows if row["type"] == "ACTIVITY_TASK_SCHEDULED"]
    _count(check, "activities", activities, len(scheduled), "Count the ACTIVITY_TASK_SCHEDULED rows: one per activity.")
    requests = sum(row["about"].endswith("__model_request") for row in scheduled)
    _count(
        check,
        "model requests",
        model_requests,
        requests,
        "Count the ACTIVITY_TASK_SCHEDULED rows whose activity ends in `__model_request` (the rest call tools).",
    )
    tools = [(row["event"], row["tool"]) for row in scheduled if row["tool"]]
    if unanswered(first_tool):
        check.require(False, "Name the first tool: replace '?' with the name in the table's *tool* column.")
    elif tools:
        event, tool = tools[0]
        check.require(
            answer(first_tool) == tool,
            f"The first tool was not {first_tool!r}: find the first ACTIVITY_TASK_SCHEDULED row with a name in "
            f"the *tool* column (event {event}).",
        )
    return check
