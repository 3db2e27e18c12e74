"""The history graph model, built from recorded history JSON (no server needed)."""

from __future__ import annotations

import json

import pytest

from durable_agents.graph import WorkflowNode, build_graph, decode_payload, summarise_args
from durable_agents.scenarios import shape
from tests.conftest import DATA


def recorded(scenario: str) -> WorkflowNode:
    histories = {p.stem: json.loads(p.read_text()) for p in (DATA / scenario).glob("*.json")}
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


def test_workers_are_recorded():
    graph = recorded("tour")
    assert len(graph.workers) == 1
    assert graph.workers[0].startswith("lab-worker-")
    assert {s.worker for s in graph.steps} == set(graph.workers)


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
    history["events"] = history["events"][:9]  # cut off after the first activity was scheduled
    graph = build_graph({"w": history}, "w")
    assert graph.status == "running"
    assert graph.steps[-1].status in ("running", "completed")


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
