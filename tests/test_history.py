"""Histories are written as standard history JSON, load back, and replay against today's code."""

from __future__ import annotations

import json

import pytest

from durable_agents.history.events import told
from durable_agents.history.replay import replay
from durable_agents.history.store import HISTORY_DIR_ENV, load_histories
from durable_agents.script import call, final
from tests.conftest import DATA


async def test_each_run_writes_its_histories_when_asked(lab, monkeypatch, tmp_path):
    monkeypatch.setenv(HISTORY_DIR_ENV, str(tmp_path))
    run = await lab.run([call("write_file", path="a.txt", content="x"), final("ok")])
    saved = load_histories(tmp_path)
    assert list(saved) == [run.workflow_id]
    events = json.loads(saved[run.workflow_id].to_json())["events"]
    assert events[0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    assert await replay(saved) == 1


async def test_recorded_histories_replay():
    histories = {wid: h for folder in sorted(DATA.iterdir()) for wid, h in load_histories(folder).items()}
    assert len(histories) == len(list(DATA.rglob("*.json")))
    assert await replay(histories) == len(histories)


def test_told_reads_what_the_model_was_sent():
    history = json.loads(next((DATA / "tour").glob("*.json")).read_text())
    texts = told(history)
    assert texts[0] == "Do the task."
    assert "hi" in texts
    assert any("outside the sandbox" in t for t in texts)
    assert any("Unknown tool name: 'no_such_tool'" in t for t in texts)


@pytest.mark.timeout(90)
async def test_a_history_that_replays_slowly_still_replays(lab, monkeypatch):
    """A snippet turn that takes longer than Temporal's 2 s deadlock detector on replay (a busy machine,
    simulated by a sleep) must not hang the replay (issue 25: it retried the eviction forever)."""
    import time

    from temporalio import workflow

    from durable_agents.capabilities import ptc
    from durable_agents.script import code

    run = await lab.run([code("sum(range(1000))"), final("ok")], agent="ptc")
    turn = ptc.SnippetTimeLimit.turn

    def slow_turn(self, portal, fn, args):
        if workflow.unsafe.is_replaying():
            time.sleep(2.5)
        return turn(self, portal, fn, args)

    monkeypatch.setattr(ptc.SnippetTimeLimit, "turn", slow_turn)
    assert await replay(run.histories) == 1
