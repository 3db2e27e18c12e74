"""The history graph model, built from recorded history JSON (no server needed)."""

from __future__ import annotations

import json

import pytest

from durable_agents.history.graph import WorkflowNode, build_graph, decode_payload, summarise_args
from durable_agents.scenarios import shape
from tests.conftest import DATA

CHILD_WORKFLOWS = DATA.parent / "child_workflows"
"""Plain parent workflows with agent children (`data/record_nested.py`), kept apart from `histories/`."""


def recorded(scenario: str) -> WorkflowNode:
    folder = CHILD_WORKFLOWS if scenario == "child_workflows" else DATA / scenario
    histories = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
    root = min(histories, key=len)  # children's ids extend their parent's
    return build_graph(histories, root)


def test_tool_calls_are_named_by_tool_with_short_arguments():
    graph = recorded("tour")
    assert graph.workflow_type == "DemoAgentWorkflow"
    assert graph.status == "completed"
    tools = [(s.label, s.detail) for s in graph.steps if s.kind == "tool"]
    assert tools[:2] == [("write_file", "path='a.txt', content='hi'"), ("read_file", "path='a.txt'")]
    assert tools[2] == ("list_files", "")
    assert all(s.activity_type.endswith("__call_tool") for s in graph.steps if s.kind == "tool")
    models = [s for s in graph.steps if s.kind == "model"]
    assert models[0].detail == "→ write_file"
    assert models[-1].detail == '→ "done"'


def test_parallel_calls_share_a_batch_and_sequence_is_kept():
    assert shape(recorded("tour")) == [
        "model", "write_file", "model", "read_file | list_files", "model", "write_file",
        "model",  # asks for the unknown tool: no activity, the next request carries the retry prompt
        "model", "flaky ×2", "model", "lookup", "model", "check_positive", "model",
    ]  # fmt: skip


def test_what_the_model_was_told_is_kept_per_tool():
    steps = {s.label + s.detail: s for s in recorded("tour").steps if s.kind == "tool"}
    assert steps["write_filepath='../escape.txt', content='x'"].outcome == "model_retry"
    assert steps["lookupkey='k'"].outcome == "tool_failed"
    assert "does not exist" in steps["lookupkey='k'"].failures[0]
    assert steps["flakyfail_times=1"].attempts == 2
    assert steps["flakyfail_times=1"].status == "completed"


def test_a_failed_activity_fails_the_workflow():
    graph = recorded("retries_exhausted")
    flaky = graph.steps[-1]
    assert (flaky.label, flaky.status, flaky.attempts) == ("flaky", "failed", 5)
    assert flaky.failures[-1] == "transient failure on attempt 5"
    assert graph.status == "failed"
    assert graph.failure == "transient failure on attempt 5"


def test_a_script_that_runs_out_fails_its_model_request_once():
    graph = recorded("out_of_steps")
    assert shape(graph) == ["model", "list_files", "model !"]
    assert "ran out of steps" in graph.failure


def test_tool_results_are_summarised():
    results = {s.label + s.detail: s.result for s in recorded("tour").steps if s.kind == "tool"}
    assert results["write_filepath='a.txt', content='hi'"] == "wrote 2 characters to a.txt"
    assert results["read_filepath='a.txt'"] == "hi"
    assert results["list_files"] == '["a.txt"]'
    assert results["lookupkey='k'"] == ""  # told the model it failed: no value


def test_workers_are_recorded():
    graph = recorded("tour")
    assert len(graph.workers) == 1
    assert graph.workers[0].startswith("lab-worker-")
    assert {s.worker for s in graph.steps} == set(graph.workers)
    assert graph.code_workers == graph.workers


def test_plain_child_workflows_nest_with_a_timer_and_a_failed_child():
    graph = recorded("child_workflows")
    assert (graph.workflow_type, graph.status) == ("ParentWorkflow", "completed")
    assert graph.result == "wrote; listed; short run failed"
    assert shape(graph) == [
        "timer 10s",
        "parent-001.writer[model, write_file, model] | "
        "parent-001.middle[parent-001.middle.agent[model, list_files, model]]",
        "parent-001.short ![model, list_files, model !]",
    ]
    timer, writer, middle, short = graph.steps
    assert (timer.kind, timer.status) == ("timer", "completed")
    assert [(s.label, s.detail) for s in (writer, middle, short)] == [  # no spawn memo: the id and the type
        ("parent-001.writer", "DemoAgentWorkflow"),
        ("parent-001.middle", "MiddleWorkflow"),
        ("parent-001.short", "DemoAgentWorkflow"),
    ]
    assert writer.batch == middle.batch != short.batch
    assert "ran out of steps" in short.failures[-1] and short.child.status == "failed"
    grandchild = middle.child.steps[0].child
    assert (grandchild.workflow_id, grandchild.status) == ("parent-001.middle.agent", "completed")
    assert graph.code_workers == middle.child.code_workers == ["nesting-worker"]
    assert grandchild.code_workers == [writer.child.steps[0].worker]  # the lab's worker runs the agents
    assert len(graph.walk()) == 5


def test_children_nest_recursively():
    graph = recorded("nested")
    assert shape(graph) == [
        "model",
        "researcher[model, list_files, model] | generic[model, generic[model, flaky ×2, model], model]",
        "model",
    ]
    children = [s for s in graph.steps if s.kind == "child"]
    assert [c.label for c in children] == ["researcher", "generic"]  # from the memo `spawn` sets
    assert [c.detail for c in children] == ["look", "delegate"]
    assert all(c.child.workflow_id.startswith(graph.workflow_id + ".") for c in children)
    assert all(c.status == "completed" for c in children)
    assert len(graph.walk()) == 4
    assert graph.walk()[-1].workflow_id.count(".") == 2


def test_a_missing_child_history_leaves_the_child_unexpanded():
    histories = {p.stem: json.loads(p.read_text()) for p in (DATA / "nested").glob("*.json")}
    root = min(histories, key=len)
    only_root = build_graph({root: histories[root]}, root)
    assert [s.child for s in only_root.steps if s.kind == "child"] == [None, None]


def test_a_running_history_is_drawn_as_running():
    history = json.loads(next((DATA / "tour").glob("*.json")).read_text())
    history["events"] = history["events"][:8]  # cut off while the first model request runs
    graph = build_graph({"w": history}, "w")
    assert (graph.status, graph.result, graph.failure) == ("running", "", "")
    [model] = graph.steps
    assert (model.kind, model.status, model.detail) == ("model", "running", "")
    assert model.worker is not None


@pytest.mark.parametrize(
    ("args", "summary"),
    [
        ({"path": "a.txt"}, "path='a.txt'"),
        ({"n": 3, "flag": True}, "n=3, flag=true"),
        ({"content": "x" * 100}, "content='xxxxxxxxxxxxxxxxxxxxxxx…'"),
        (None, ""),
    ],
)
def test_argument_summaries(args, summary):
    assert summarise_args(args) == summary
    assert len(summarise_args({f"k{i}": "v" * 30 for i in range(9)})) <= 60


def test_payloads_decode():
    assert decode_payload({"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "WzEsMl0="}) == [1, 2]
    assert decode_payload(None) is None


def _history(*events: tuple[str, dict]) -> dict:
    """A minimal history: (event type without prefix, attributes) in order, ids from 1."""
    out = []
    for i, (kind, attrs) in enumerate(events, start=1):
        key = "".join(w.capitalize() for w in kind.lower().split("_"))
        out.append(
            {"eventId": str(i), "eventType": f"EVENT_TYPE_{kind}", f"{key[0].lower()}{key[1:]}EventAttributes": attrs}
        )
    return {"events": out}


def test_cancellations_timeouts_timers_and_other_activities():
    history = _history(
        ("WORKFLOW_EXECUTION_STARTED", {"workflowType": {"name": "Plain"}}),
        ("WORKFLOW_TASK_COMPLETED", {"identity": "w1"}),
        ("ACTIVITY_TASK_SCHEDULED", {"activityType": {"name": "send_email"}, "workflowTaskCompletedEventId": "2"}),
        ("TIMER_STARTED", {"startToFireTimeout": "60s", "workflowTaskCompletedEventId": "2"}),
        ("START_CHILD_WORKFLOW_EXECUTION_INITIATED", {"workflowId": "kid", "workflowType": {"name": "Kid"}}),
        ("ACTIVITY_TASK_STARTED", {"scheduledEventId": "3", "attempt": 3, "identity": "w2",
                                   "lastFailure": {"message": "attempt 2 broke"}}),
        ("ACTIVITY_TASK_TIMED_OUT", {"scheduledEventId": "3", "failure": {"message": "activity timeout",
                                                                          "cause": {"message": "StartToClose"}}}),
        ("TIMER_CANCELED", {"startedEventId": "4"}),
        ("CHILD_WORKFLOW_EXECUTION_TERMINATED", {"initiatedEventId": "5"}),
        ("WORKFLOW_EXECUTION_CANCELED", {}),
    )  # fmt: skip
    graph = build_graph({"w": history}, "w")
    assert (graph.workflow_type, graph.status, graph.workers) == ("Plain", "cancelled", ["w1", "w2"])
    email, timer, kid = graph.steps
    assert (email.kind, email.label, email.status, email.attempts, email.worker) == (
        "activity", "send_email", "timed_out", 3, "w2",
    )  # fmt: skip
    assert email.failures == ["attempt 2 broke", "StartToClose"]
    assert email.batch == timer.batch
    assert (timer.kind, timer.label, timer.status) == ("timer", "timer 60s", "cancelled")
    assert (kid.kind, kid.label, kid.status, kid.child) == ("child", "kid", "terminated", None)


@pytest.mark.parametrize(
    ("event", "attrs", "status", "failure"),
    [
        ("WORKFLOW_EXECUTION_TERMINATED", {"reason": "by parent close policy"}, "terminated", "by parent close policy"),
        ("WORKFLOW_EXECUTION_TIMED_OUT", {}, "timed_out", ""),
        ("WORKFLOW_EXECUTION_FAILED", {"failure": {"message": "boom", "cause": {"message": "root"}}}, "failed", "root"),
    ],
)
def test_workflow_endings(event, attrs, status, failure):
    history = _history(("WORKFLOW_EXECUTION_STARTED", {"workflowType": {"name": "W"}}), (event, attrs))
    graph = build_graph({"w": history}, "w")
    assert (graph.status, graph.failure, graph.steps) == (status, failure, [])


def test_an_activity_cancelled_on_request():
    history = _history(
        ("WORKFLOW_EXECUTION_STARTED", {"workflowType": {"name": "W"}}),
        ("ACTIVITY_TASK_SCHEDULED", {"activityType": {"name": "agent__demo__toolset__sandbox__call_tool"}}),
        ("ACTIVITY_TASK_CANCEL_REQUESTED", {"scheduledEventId": "2"}),
    )
    graph = build_graph({"w": history}, "w")
    assert graph.status == "running"
    assert (graph.steps[0].kind, graph.steps[0].label, graph.steps[0].status) == (
        "tool",
        "call_tool",
        "cancel_requested",
    )
    history["events"].append(_history(("ACTIVITY_TASK_CANCELED", {"scheduledEventId": "2"}))["events"][0])
    assert build_graph({"w": history}, "w").steps[0].status == "cancelled"
