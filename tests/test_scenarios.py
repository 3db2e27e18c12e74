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
