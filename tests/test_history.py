"""Histories are written as standard history JSON, load back, and replay against today's code."""

from __future__ import annotations

import json
from pathlib import Path

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


@pytest.mark.timeout(60)
async def test_a_live_worker_replays_a_whole_snippet_budget_on_a_busier_machine(bare_lab, monkeypatch):
    """A fresh worker replays a run's history before it carries on (after a crash, or with no cache), and
    nothing times a replayed snippet turn. One that used the whole budget live must still replay inside
    the deadlock detector's 2 s on a machine three times busier (simulated by a sleep), or the SDK fails
    the workflow task and cannot evict the run: it stayed stuck on that worker (issue 25, with a 1 s budget)."""
    import time

    from temporalio import workflow
    from temporalio.worker import Worker

    from durable_agents.capabilities import ptc
    from durable_agents.script import code
    from durable_agents.workflows import WORKFLOWS

    turn = ptc.SnippetTimeLimit.turn
    replayed: list[float] = []

    def three_times_the_budget_on_replay(self, portal, fn, args):
        if not workflow.unsafe.is_replaying():
            return turn(self, portal, fn, args)
        started = time.monotonic()
        try:
            return turn(self, portal, fn, args)
        finally:  # the turn takes 3 budgets in all: its real replay (slow on a loaded machine) counts too
            replayed.append(3 * ptc.SNIPPET_SECONDS)
            time.sleep(max(3 * ptc.SNIPPET_SECONDS - (time.monotonic() - started), 0))

    monkeypatch.setattr(ptc.SnippetTimeLimit, "turn", three_times_the_budget_on_replay)
    # No workflow cache: every workflow task replays the history so far, as a fresh worker does after a crash.
    worker = Worker(bare_lab.client, task_queue=bare_lab.task_queue, workflows=list(WORKFLOWS), max_cached_workflows=0)
    async with worker:
        run = await bare_lab.run(
            [code("sum(range(1000))"), call("word_count", text="a b"), final("ok")], agent="ptc", timeout=20
        )
    assert run.output == "ok"
    assert replayed, "the live worker replayed the snippet's turn"
    events = run.history_json[run.workflow_id]["events"]
    failed = [e for e in events if e["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_FAILED"]
    assert not failed, f"a workflow task failed on replay: {json.dumps(failed)[:300]}"


def test_a_readers_module_is_judged_by_its_replay_not_by_its_exit(tmp_path):
    """09's check replays the reader's run in a new process that imports their module: the verdict
    is the line it prints once the history replayed (one CI run's replay died on its way out, after it
    had replayed, and the check told the reader their code was not deterministic)."""
    from durable_agents.history.store import load_histories
    from durable_agents.lessons.capstone import replay_in_a_process

    histories = load_histories(Path(__file__).parent / "data" / "my_agent")
    solution = (Path(__file__).parents[1] / "notebooks" / "solutions" / "my_agent.py").read_text()
    dies_on_exit = tmp_path / "exits" / "my_agent.py"
    dies_on_exit.parent.mkdir()
    dies_on_exit.write_text(solution + "\nimport atexit, os\natexit.register(os.abort)\n")
    changed = tmp_path / "changed" / "my_agent.py"
    changed.parent.mkdir()
    changed.write_text(
        solution.replace(
            "result = await agent.run(prompt)", "await workflow.sleep(1)\n        result = await agent.run(prompt)"
        )
    )
    assert replay_in_a_process(dies_on_exit, histories) == ""
    said = replay_in_a_process(changed, histories)
    assert "Nondeterminism" in said or "nondeterminism" in said.lower(), said
