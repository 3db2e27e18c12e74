"""A run replayed event by event: the typed graph as it stood after each history event (pure functions).

A workflow and its children each keep their own history. `moments(histories)` puts all their events
on one clock (each event's `eventTime`; on a millisecond tie, cause before effect), and `graph_at(...)`
builds the graph from the first k of them with `durable_agents.history.graph.build_graph`, so steps
appear as `scheduled`, turn `running` when a worker picks them up, then finish, and a child's
cluster appears inside its parent when the child's first event does. `Timeline` keeps the order and
caches the graphs, the diagrams and one line describing each event, for `Run.timeline()`.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from durable_agents.history.graph import Step, WorkflowNode, build_graph, event_attrs, shorten
from durable_agents.history.render import Diagram, render_svg, to_dot


@dataclass(frozen=True)
class Moment:
    """One history event, placed on the run's clock."""

    workflow_id: str
    index: int
    """Its position in its own workflow's history (0-based)."""
    seconds: float
    """When it happened, in seconds after the run's first event."""
    event: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return self.event["eventType"].removeprefix("EVENT_TYPE_")


def _seconds(stamp: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (nanoseconds cut to microseconds), or None."""
    if not stamp:
        return None
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}+00:00").timestamp()


def _depths(histories: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How deep each workflow sits below the ones nobody started (0), by the children each history initiated."""
    children = {
        wid: [
            e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]
            for e in h["events"]
            if "startChildWorkflowExecutionInitiatedEventAttributes" in e
        ]
        for wid, h in histories.items()
    }
    started = {kid for kids in children.values() for kid in kids}
    depth = {wid: 0 for wid in histories if wid not in started}
    pending = list(depth)
    while pending:
        wid = pending.pop()
        for kid in children.get(wid, []):
            if kid not in depth:
                depth[kid] = depth[wid] + 1
                pending.append(kid)
    return depth


_HEARS_CLOSE = {
    f"CHILD_WORKFLOW_EXECUTION_{end}" for end in ("COMPLETED", "FAILED", "CANCELED", "TIMED_OUT", "TERMINATED")
}


def _causal_edges(histories: Mapping[str, Mapping[str, Any]]) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(before, after) pairs of (workflow id, event index) that the clock alone may not order.

    Timestamps are milliseconds, and a parent and its child often share one: the parent initiates a
    child before the child starts, and the child starts (or closes) before the parent hears of it.
    """
    edges = []
    for wid, history in histories.items():
        for index, event in enumerate(history["events"]):
            kind = event["eventType"].removeprefix("EVENT_TYPE_")
            attrs = event_attrs(event)
            if kind == "START_CHILD_WORKFLOW_EXECUTION_INITIATED":
                kid = attrs.get("workflowId", "")
                if kid in histories and histories[kid]["events"]:
                    edges.append(((wid, index), (kid, 0)))
            elif kind == "CHILD_WORKFLOW_EXECUTION_STARTED" or kind in _HEARS_CLOSE:
                kid = attrs.get("workflowExecution", {}).get("workflowId", "")
                if kid in histories and histories[kid]["events"]:
                    last = 0 if kind == "CHILD_WORKFLOW_EXECUTION_STARTED" else len(histories[kid]["events"]) - 1
                    edges.append(((kid, last), (wid, index)))
    return edges


def moments(histories: Mapping[str, Mapping[str, Any]]) -> list[Moment]:
    """Every event of every history, in the order they happened.

    Events are ordered by `eventTime` (an event without one takes its predecessor's), each history
    in its own order. On a tie, cause goes before effect (`_causal_edges`): a parent initiates a
    child, the child starts, then the parent hears it started; the child closes, then the parent
    hears it closed. Other ties: the deeper workflow first, then workflow order (as given).
    """
    depth = _depths(histories)
    preference: dict[tuple[str, int], tuple[float, int, int, int]] = {}
    events: dict[tuple[str, int], Mapping[str, Any]] = {}
    for order, (wid, history) in enumerate(histories.items()):
        last = 0.0
        for index, event in enumerate(history["events"]):
            stamp = _seconds(event.get("eventTime"))
            last = stamp if stamp is not None else last
            preference[wid, index] = (last, -depth.get(wid, 0), order, index)
            events[wid, index] = event
    # Kahn's topological sort, always taking the earliest event whose causes are all placed
    after: dict[tuple[str, int], list[tuple[str, int]]] = {key: [] for key in events}
    waiting = dict.fromkeys(events, 0)
    for (wid, index), _ in events.items():
        if index:
            after[wid, index - 1].append((wid, index))
            waiting[wid, index] += 1
    for before, later in _causal_edges(histories):
        after[before].append(later)
        waiting[later] += 1
    ready = [(preference[key], key) for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    placed: list[Moment] = []
    start = min((p[0] for p in preference.values()), default=0.0)
    clock = start
    while ready:
        (when, *_), key = heapq.heappop(ready)
        clock = max(clock, when)  # an effect is never shown before its cause
        placed.append(Moment(key[0], key[1], clock - start, events[key]))
        for later in after[key]:
            waiting[later] -= 1
            if waiting[later] == 0:
                heapq.heappush(ready, (preference[later], later))
    return placed


def histories_at(histories: Mapping[str, Mapping[str, Any]], order: list[Moment], k: int) -> dict[str, dict[str, Any]]:
    """The histories as recorded after the first `k` moments of `order` (a workflow with no event yet is left out)."""
    seen: dict[str, list[Mapping[str, Any]]] = {}
    for moment in order[:k]:
        seen.setdefault(moment.workflow_id, []).append(moment.event)
    # keep each history's own order: a timestamp tie or a late `STARTED` time must not reorder its events
    return {
        wid: {**histories[wid], "events": sorted(events, key=lambda e: int(e["eventId"]))}
        for wid, events in seen.items()
    }


def graph_at(histories: Mapping[str, Mapping[str, Any]], root: str, k: int) -> WorkflowNode:
    """The graph of `root` (children nested) as it stood after the first `k` events of the whole run."""
    partial = histories_at(histories, moments(histories), k)
    if root not in partial:
        raise ValueError(f"After {k} events the workflow {root!r} has not started yet: use k >= 1.")
    return build_graph(partial, root)


def _step_for(node: WorkflowNode, workflow_id: str, event_id: int) -> Step | None:
    """The step of workflow `workflow_id` (somewhere under `node`) that event `event_id` scheduled."""
    for workflow in node.walk():
        if workflow.workflow_id == workflow_id:
            steps = [s for top in workflow.steps for s in (top, *top.inner)]
            return next((s for s in steps if s.event_id == event_id), None)
    return None


def _what(step: Step) -> str:
    if step.kind == "model":
        return "model request" + (f" {step.detail}" if step.detail else "")
    if step.kind == "child":
        return f"child {step.label}" + (f" ({step.detail})" if step.detail else "")
    return step.label + (f"({step.detail})" if step.detail else "")


def describe(moment: Moment, graph: WorkflowNode) -> str:
    """One line for an event: when, which workflow, what happened, to which step (read from `graph`)."""
    attrs = event_attrs(moment.event)
    kind = moment.kind
    ref = attrs.get("scheduledEventId") or attrs.get("initiatedEventId") or attrs.get("startedEventId")
    step = _step_for(graph, moment.workflow_id, int(ref or moment.event["eventId"]))
    text = kind.lower().replace("_", " ")
    if kind == "WORKFLOW_EXECUTION_STARTED":
        text = f"workflow {attrs.get('workflowType', {}).get('name', '')} started"
    elif kind == "WORKFLOW_TASK_COMPLETED":
        text = f"workflow code ran on {attrs.get('identity', '?')} and decided what next"
    elif step is not None:
        text = f"{text}: {_what(step)}"
        if kind == "ACTIVITY_TASK_STARTED":
            text += f" on {attrs.get('identity', '?')}" + (f", attempt {step.attempts}" if step.attempts > 1 else "")
        elif kind == "ACTIVITY_TASK_COMPLETED" and step.result:
            text += f" = {step.result}"
        elif step.failures and kind.endswith(("FAILED", "TIMED_OUT")):
            text += f": {shorten(step.failures[-1], 60)}"
    return f"+{moment.seconds:6.3f} s · {moment.workflow_id} · #{moment.event['eventId']} {text}"


class Timeline:
    """A run's events in order, with the graph, its drawing and a description at each position 1..len.

    Graphs and SVGs are cached: many events (a workflow task starting, say) leave the drawing as it
    was, and equal DOT sources share one render.
    """

    def __init__(self, histories: Mapping[str, Mapping[str, Any]], root: str, **diagram_options: Any) -> None:
        self.histories = histories
        self.root = root
        self.order = moments(histories)
        self.options = diagram_options
        self.first = next(i for i, m in enumerate(self.order, start=1) if m.workflow_id == root)
        """The first position at which the root workflow exists."""
        self._graphs: dict[int, WorkflowNode] = {}
        self._svgs: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.order)

    def graph(self, k: int) -> WorkflowNode:
        """The graph after the first `k` events (before the root workflow starts: as it started)."""
        k = max(k, self.first)
        if k not in self._graphs:
            self._graphs[k] = build_graph(histories_at(self.histories, self.order, k), self.root)
        return self._graphs[k]

    def describe(self, k: int) -> str:
        """The `k`th event (1-based), in one line."""
        return describe(self.order[k - 1], self.graph(k))

    def dot(self, k: int) -> str:
        return to_dot(self.graph(k), **self.options)

    def svg(self, k: int) -> str:
        """The drawing after the first `k` events."""
        dot = self.dot(k)
        if dot not in self._svgs:
            self._svgs[dot] = render_svg(dot)
        return self._svgs[dot]

    def diagram(self, k: int) -> Diagram:
        """The diagram after the first `k` events (displays as SVG in a notebook)."""
        return Diagram(self.graph(k), **self.options)
