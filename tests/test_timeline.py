"""The timeline: the typed graph as it stood after each event of a run, from recorded histories (no server)."""

from __future__ import annotations

import json

import pytest

from durable_agents.history.graph import build_graph
from durable_agents.history.timeline import Timeline, graph_at, moments
from durable_agents.scenarios import shape
from tests.conftest import DATA


def recorded(scenario: str) -> tuple[dict, str]:
    histories = {p.stem: json.loads(p.read_text()) for p in sorted((DATA / scenario).glob("*.json"))}
    return histories, min(histories, key=len)  # children's ids extend their parent's


def position(timeline: Timeline, workflow_id: str, kind: str, nth: int = 0) -> int:
    """The 1-based position of the `nth` event of `kind` in workflow `workflow_id`."""
    hits = [k for k, m in enumerate(timeline.order, 1) if m.workflow_id == workflow_id and m.kind == kind]
    return hits[nth]


def about(timeline: Timeline, workflow_id: str, kind: str, child_id: str) -> int:
    """The 1-based position of the event of `kind` in workflow `workflow_id` that names child `child_id`."""
    return next(
        k
        for k, m in enumerate(timeline.order, 1)
        if m.workflow_id == workflow_id and m.kind == kind and child_id in json.dumps(m.event)
    )


@pytest.mark.parametrize("scenario", ["tour", "nested", "ptc", "retries_exhausted"])
def test_the_last_position_is_the_finished_graph(scenario):
    histories, root = recorded(scenario)
    timeline = Timeline(histories, root)
    assert len(timeline) == sum(len(h["events"]) for h in histories.values())
    assert timeline.graph(len(timeline)) == build_graph(histories, root)
    assert graph_at(histories, root, len(timeline)) == build_graph(histories, root)


def test_events_are_in_time_order_and_a_child_starts_and_ends_before_its_parent_hears():
    histories, root = recorded("nested")
    order = moments(histories)
    assert [m.seconds for m in order] == sorted(m.seconds for m in order)
    timeline = Timeline(histories, root)
    for kid in (wid for wid in histories if wid != root and wid.count(".") == 1):
        started = position(timeline, kid, "WORKFLOW_EXECUTION_STARTED")
        ended = position(timeline, kid, "WORKFLOW_EXECUTION_COMPLETED")
        heard = [k for k, m in enumerate(timeline.order, 1) if m.workflow_id == root and kid in json.dumps(m.event)]
        assert started < ended
        assert heard, kid
    for kid in (wid for wid in histories if wid != root):  # cause before effect, even within one millisecond
        parent = kid.rsplit(".", 1)[0]
        initiated = about(timeline, parent, "START_CHILD_WORKFLOW_EXECUTION_INITIATED", kid)
        started = position(timeline, kid, "WORKFLOW_EXECUTION_STARTED")
        told = about(timeline, parent, "CHILD_WORKFLOW_EXECUTION_STARTED", kid)
        assert initiated < started < told, kid
    parent_heard_close = [m for m in order if m.workflow_id == root and m.kind == "CHILD_WORKFLOW_EXECUTION_COMPLETED"]
    for m in parent_heard_close:
        k = order.index(m) + 1
        child = next(
            s
            for s in timeline.graph(k).steps
            if s.event_id == int(m.event["childWorkflowExecutionCompletedEventAttributes"]["initiatedEventId"])
        )
        assert child.child is not None and child.child.status == "completed"


def test_a_step_is_scheduled_then_running_then_completed():
    histories, root = recorded("tour")
    timeline = Timeline(histories, root)
    scheduled = position(timeline, root, "ACTIVITY_TASK_SCHEDULED")
    started = position(timeline, root, "ACTIVITY_TASK_STARTED")
    completed = position(timeline, root, "ACTIVITY_TASK_COMPLETED")
    assert [s.status for s in timeline.graph(scheduled - 1).steps] == []
    assert [(s.kind, s.status) for s in timeline.graph(scheduled).steps] == [("model", "scheduled")]
    assert [(s.kind, s.status) for s in timeline.graph(started).steps] == [("model", "running")]
    assert [(s.kind, s.status) for s in timeline.graph(completed).steps] == [("model", "completed")]
    assert timeline.graph(completed).status == "running"


def test_children_appear_inside_their_parent_and_run_side_by_side():
    histories, root = recorded("nested")
    timeline = Timeline(histories, root)
    initiated = position(timeline, root, "START_CHILD_WORKFLOW_EXECUTION_INITIATED")
    kids = [s for s in timeline.graph(initiated).steps if s.kind == "child"]
    assert [(s.label, s.status, s.child) for s in kids] == [("researcher", "scheduled", None)]
    researcher = next(wid for wid in histories if ".researcher-" in wid)
    first = position(timeline, researcher, "WORKFLOW_EXECUTION_STARTED")
    [kid] = [s for s in timeline.graph(first).steps if s.label == "researcher"]
    assert kid.child is not None and (kid.child.status, kid.child.steps) == ("running", [])
    both_running = [
        k for k in range(1, len(timeline) + 1)
        if [s.status for s in timeline.graph(k).steps if s.kind == "child"] == ["running", "running"]
    ]  # fmt: skip
    assert both_running, "the two spawns never ran at the same time"
    grandchild = max(histories, key=len)
    appears = position(timeline, grandchild, "WORKFLOW_EXECUTION_STARTED")
    assert shape(timeline.graph(appears - 1))[1] == "researcher[model, list_files] | generic[model, generic]"
    assert shape(timeline.graph(appears))[1] == "researcher[model, list_files] | generic[model, generic[]]"


def test_calls_made_inside_a_snippet_appear_inside_it():
    histories, root = recorded("ptc")
    timeline = Timeline(histories, root)
    fanned = position(timeline, root, "ACTIVITY_TASK_SCHEDULED", nth=2)  # the second write_file
    code = timeline.graph(fanned).steps[-1]
    assert (code.kind, code.status) == ("code", "running")
    assert [(s.label, s.status) for s in code.inner] == [
        ("write_file", "scheduled"), ("researcher", "scheduled"), ("write_file", "scheduled"),
    ]  # fmt: skip
    answered = position(timeline, root, "ACTIVITY_TASK_SCHEDULED", nth=3)  # the next model request
    steps = timeline.graph(answered).steps
    assert steps[1].status == "completed" and steps[-1].status == "scheduled"


def test_each_event_is_described_in_one_line():
    histories, root = recorded("tour")
    timeline = Timeline(histories, root)
    lines = [timeline.describe(k) for k in range(1, len(timeline) + 1)]
    assert all("\n" not in line for line in lines)
    assert lines[0].startswith("+ 0.000 s · " + root + " · #1 workflow DemoAgentWorkflow started")
    assert any(line.endswith("activity task completed: read_file(path='a.txt') = hi") for line in lines)
    assert any(
        "activity task started: flaky(fail_times=1) on lab-worker-" in line and "attempt 2" in line for line in lines
    )
    assert any(line.endswith("workflow execution completed") for line in lines)


def test_before_the_workflow_starts_there_is_no_graph():
    histories, root = recorded("tour")
    with pytest.raises(ValueError, match="has not started yet"):
        graph_at(histories, root, 0)


def test_equal_drawings_share_one_render():
    histories, root = recorded("nested")
    timeline = Timeline(histories, root)
    svgs = [timeline.svg(k) for k in range(1, len(timeline) + 1)]
    assert all(svg.lstrip().startswith(("<?xml", "<svg")) for svg in svgs)
    assert len(timeline._svgs) < len(timeline) / 2  # a workflow task starting changes nothing drawn
    assert svgs[0] != svgs[-1]


def test_the_widget_redraws_at_the_slider_and_carries_its_last_frame():
    from durable_agents.history.timeline_view import TimelineView

    histories, root = recorded("nested")
    view = TimelineView(Timeline(histories, root))
    timeline = view.timeline
    assert (view.slider.min, view.slider.max, view.slider.value) == (timeline.first, len(timeline), len(timeline))
    view.slider.value = 20
    assert view.picture.value == timeline.svg(20)
    assert timeline.describe(20).split(" · ")[-1] in view.line.value
    assert view.picture.value != timeline.svg(len(timeline))
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith(timeline.svg(len(timeline)))
