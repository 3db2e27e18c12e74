"""The scenario matrix (`durable_agents.scenarios`): every row run on a real dev server."""

from __future__ import annotations

import pytest

from durable_agents.lab import RunFailed
from durable_agents.scenarios import SCENARIOS, Scenario, shape


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario(lab, name):
    scenario: Scenario = SCENARIOS[name]
    if scenario.output is None:
        with pytest.raises(RunFailed) as info:
            await lab.run(scenario.script, **scenario.run_options())
        run = info.value.run
    else:
        run = await lab.run(scenario.script, **scenario.run_options())
        assert run.output == scenario.output
    graph = run.graph()
    assert shape(graph) == scenario.shape
    assert graph.status == scenario.status
    assert run.files() == scenario.files
    told = "\n".join(run.told())
    for phrase in scenario.told:
        assert phrase in told, f"the model was never told {phrase!r}"
    nodes = graph.walk()
    assert {w for node in nodes for w in node.workers} == {lab.identity}
    steps = [s for node in nodes for top in node.steps for s in (top, *top.inner)]
    assert {
        s.worker
        for s in steps
        if s.kind in ("model", "tool") and s.status not in ("cancel_requested", "running", "scheduled")
    } == {lab.identity}
    assert not {s.label for s in steps if s.kind == "tool"} & {"spawn", "run_code"}, (
        "spawn and run_code stay in the workflow"
    )


async def test_a_run_near_the_history_limit_is_stopped_and_says_so(lab, monkeypatch):
    """Temporal terminates a run whose history passes 50 MB, telling nothing; the run stops before that and says why.
    The limit is lowered here (the worker runs in this process) so the run reaches it in a few steps."""
    from durable_agents.capabilities import payloads
    from durable_agents.script import call, final

    monkeypatch.setattr(payloads, "HISTORY_BYTES", 600_000)  # the run starts with a 0.3 MB input
    with pytest.raises(RunFailed, match="HistoryTooLarge: The run's history holds") as info:
        await lab.run([*[call("word_count", text="a " * 5_000)] * 30, final("never")])
    models = [step for step in shape(info.value.run.graph()) if step.startswith("model")]
    assert 3 <= len(models) < 30, "stopped once the history passed the limit, before the script ended"


def _activity_deps(run, workflow_id: str) -> list[dict]:
    """The deps each activity of one workflow was scheduled with, in order, decoded from its history."""
    import base64
    import json

    events = json.loads(run.histories[workflow_id].to_json())["events"]
    inputs = [
        e["activityTaskScheduledEventAttributes"]["input"]["payloads"]
        for e in events
        if "activityTaskScheduledEventAttributes" in e
    ]
    deps = [json.loads(base64.b64decode(p["data"])) for payloads in inputs for p in payloads]
    return [d for d in deps if isinstance(d, dict) and "sandbox_dir" in d]


async def test_each_activity_carries_only_its_step_of_the_script(lab):
    """The script rides in the run's input once, not in every activity's deps (issue 25: a 0.2 MB script of
    3,000 steps filled Temporal's 50 MB history limit after 173 steps)."""
    import json

    from durable_agents.script import call, final

    big = "x" * 5_000
    run = await lab.run([*[call("write_file", path="a.txt", content=big)] * 20, final("ok")])
    deps = _activity_deps(run, run.workflow_id)
    assert len(deps) == 41, "each model request and each tool call carries the deps"
    assert max(len(json.dumps(d)) for d in deps) < 2 * len(big), "the deps carry one step, not the script"
    assert [d["script_start"] for d in deps[::2]] == list(range(21)), "each model request its own step"


async def test_a_subagents_script_rides_only_with_the_step_that_spawns_it(lab):
    """A subagent's script is in the deps of the step that spawns it (a spawn in an activity reads it there),
    not in every other activity of the parent, nor in the child's own activities."""
    import json

    from durable_agents.script import call, final, spawn

    big = "y" * 20_000
    child = [call("write_file", path="c.txt", content=big), final("child done")]
    run = await lab.run(
        [
            call("word_count", text="a"),
            spawn("generic", "write c", child),
            *[call("word_count", text="b")] * 3,
            final("ok"),
        ]
    )
    parent = _activity_deps(run, run.workflow_id)
    carrying = [d["script_start"] for d in parent if d["scripts"]]
    assert carrying == [1], f"only the spawning step's model request carries the child's script: {carrying}"
    assert max(len(json.dumps(d)) for d in parent if not d["scripts"]) < 2_000
    (child_id,) = [w for w in run.histories if w != run.workflow_id]
    assert all(not d["scripts"] for d in _activity_deps(run, child_id)), "the child has no subagents to script"
    assert run.files()["c.txt"] == big
