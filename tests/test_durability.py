"""Durability shown, not said (notebook 07): every worker killed mid-tool, a fresh one replays and
finishes; a tool resumes from its heartbeat; changed code breaks a replay with a non-determinism
error (and no other error), `workflow.patched` fixes it, a deploy mid-run waits then finishes; the
deprecated wrapper's runs replay under the capability; a lab with a database file keeps its runs."""

from __future__ import annotations

import json
import urllib.request

import pytest
from temporalio.client import WorkflowExecutionStatus

from durable_agents import versions
from durable_agents.history.replay import replay
from durable_agents.lab import Lab, WorkerPool
from durable_agents.lab.worker import VERSION_ENV, chosen_workflows, make_worker
from durable_agents.lessons import durability, verdicts
from durable_agents.lessons.durability import check_crash_prediction
from durable_agents.script import call, final, parallel
from durable_agents.workflows import WORKFLOWS, DemoAgentWorkflow

SCRIPT = [call("write_file", path="before.txt", content="written before the crash"), call("slow", seconds=2.0),
          final("survived")]  # fmt: skip
BROKEN_BY = ("renamed", "paced", "paced-deprecated")
REPLAYS_UNDER = ("today", "paced-patched", "retuned")


@pytest.fixture(scope="module")
async def crash(bare_lab):
    """Two workers run SCRIPT; both are SIGKILLed while `slow` runs; a fresh worker finishes it."""
    lab = bare_lab
    pool = await WorkerPool.start(lab, 2)
    try:
        undisturbed = await lab.run(SCRIPT)
        handle = await lab.start_run(SCRIPT, timeout=300)
        holder = await durability.tool_in_flight(lab, handle.id)
        await durability.progress_at_least(handle, 0.5)
        killed = pool.kill_all()
        waiting = await durability.waiting(handle)
        fresh = await WorkerPool.start(lab, 1, prefix="fresh")
        run = await lab.follow(handle.id)
    finally:
        await pool.stop()
    yield {"undisturbed": undisturbed, "run": run, "killed": killed, "holder": holder, "waiting": waiting,
           "fresh": fresh}  # fmt: skip
    await fresh.stop()


async def test_the_run_waits_while_no_worker_lives(crash):
    rows = crash["waiting"]
    assert crash["killed"] == ["worker-1", "worker-2"] and crash["holder"] in crash["killed"]
    assert rows[0]["what"] == "workflow" and rows[0]["state"] == "RUNNING"
    [activity] = [r for r in rows if r["what"] == "activity"]
    assert activity["name"] == "slow"  # the tool, read from the history's scheduled event
    assert activity["last worker"] == crash["holder"]
    assert float(activity["progress"].removesuffix(" s done")) >= 0.5, "slow's progress is in its heartbeat details"


async def test_a_fresh_worker_replays_and_finishes(crash):
    run, undisturbed = crash["run"], crash["undisturbed"]
    assert run.output == undisturbed.output == "survived"
    steps, before = run.graph().steps, undisturbed.graph().steps
    models = [s for s in steps if s.kind == "model"]
    assert len(models) == len([s for s in before if s.kind == "model"]) == 3, "each model request scheduled once"
    assert all(s.attempts == 1 for s in models), "no model request ran twice"
    [write] = [s for s in steps if s.label == "write_file"]
    assert write.attempts == 1 and write.worker in crash["killed"], "the completed tool did not run again"
    [replayed] = durability.replays(run.history_json[run.workflow_id])
    assert replayed["worker"] == "fresh-1" and replayed["events replayed"] > 10
    assert models[-1].worker == "fresh-1"
    assert check_crash_prediction(["workflow code", "slow"], run).passed


async def test_slow_resumes_from_its_heartbeat(crash):
    [slow] = [s for s in crash["run"].graph().steps if s.label == "slow"]
    assert slow.attempts == 2 and slow.worker == "fresh-1"
    told = " ".join(crash["run"].told())
    assert "slept 2.0 s (resumed at" in told and "on attempt 2)" in told
    resumed_at = float(told.split("resumed at ")[1].split(" s")[0])
    assert resumed_at >= 0.5, "the retry started where the killed attempt's last heartbeat left off"


async def test_a_deploy_mid_run_waits_then_the_patched_version_finishes_it(bare_lab, crash):
    lab, v1 = bare_lab, crash["fresh"]
    handle = await lab.start_run(SCRIPT, timeout=300, task_timeout=3)  # v2's held task is offered again in 3 s
    await durability.tool_in_flight(lab, handle.id)
    await v1.stop()
    v2 = await WorkerPool.start(lab, 1, prefix="v2", env={VERSION_ENV: "paced"})
    try:
        failed = await durability.until_task_fails(handle)
    finally:
        await v2.stop()
    assert failed["worker"] == "v2-1" and failed["note"].startswith("NON_DETERMINISTIC_ERROR")
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    fixed = await WorkerPool.start(lab, 1, prefix="v2-patched", env={VERSION_ENV: "paced-patched"})
    try:
        run = await lab.follow(handle.id)
        new_run = await lab.follow((await lab.start_run(SCRIPT[-1:])).id, save=False)
    finally:
        await fixed.stop()
    assert run.output == "survived"
    started = run.history_json[run.workflow_id]["events"][0]["workflowExecutionStartedEventAttributes"]
    assert started["workflowTaskTimeout"] == "3s"
    assert run.graph().steps[-1].worker == "v2-patched-1"
    assert await replay(run.histories) == 1, "the old run stayed on the old path: today's code replays it"
    new_events = new_run.history_json[new_run.workflow_id]["events"]
    assert any(e["eventType"] == "EVENT_TYPE_TIMER_STARTED" for e in new_events), "a new run takes the new path"
    for name, passes in {"today": False, "paced": False, "paced-patched": True, "paced-deprecated": True}.items():
        [verdict] = await verdicts.replay_against(new_run.histories, versions.version(name))
        assert verdict.passed is passes, (name, verdict.explain())
        assert verdict.passed or verdict.nondeterministic


async def test_each_change_breaks_the_replay_with_a_nondeterminism_error(lab):
    run = await lab.run([call("write_file", path="a.txt", content="x"), call("word_count", text="a b"), final("ok")])
    for name in BROKEN_BY:
        [verdict] = await verdicts.replay_against(run.histories, versions.version(name))
        assert not verdict.passed and verdict.nondeterministic, (name, verdict.error)
        assert "[TMPRL1100] Nondeterminism error" in str(verdict.error)
    renamed, paced, _ = [(await verdicts.replay_against(run.histories, versions.version(n)))[0] for n in BROKEN_BY]
    assert renamed.explain() == (
        "the history scheduled the activity 'agent__demo__model_request' where the code now schedules "
        "'agent__assistant__model_request': the activity's name changed"
    )
    assert "the activity 'agent__demo__model_request' was scheduled; the code asked to start a timer" in paced.explain()
    for name in REPLAYS_UNDER:
        [verdict] = await verdicts.replay_against(run.histories, versions.version(name))
        assert verdict.passed, (name, verdict.explain())


async def test_the_recorded_histories_replay_where_they_should():
    """The histories the exercise tests read: today's code replays those made by today's code."""
    from durable_agents.history.store import load_histories
    from tests.conftest import DATA

    folder = DATA.parent / "durability"
    assert await replay({**load_histories(folder / "before"), **load_histories(folder / "crash")}) == 2
    [verdict] = await verdicts.replay_against(load_histories(folder / "after"), DemoAgentWorkflow, "today")
    assert verdict.nondeterministic


def test_only_a_nondeterminism_error_counts():
    assert not verdicts.is_nondeterminism(RuntimeError("Workflow failed: ValueError"))
    assert not verdicts.is_nondeterminism(None)
    assert verdicts.explain_nondeterminism(RuntimeError("boom")) == "not a non-determinism error: boom"


async def test_the_deprecated_wrapper_replays_under_the_capability(lab):
    script = [
        call("write_file", path="a.txt", content="x"),
        parallel(call("read_file", path="a.txt"), call("word_count", text="a b")),
        call("flaky", fail_times=1),
        call("check_positive", value=-1),
        final("ok"),
    ]
    run = await lab.run(script, agent="legacy")
    [verdict] = await verdicts.replay_against(run.histories, versions.version("legacy-as-capability"))
    assert verdict.passed, verdict.explain()
    [renamed] = await verdicts.replay_against(run.histories, versions.version("renamed"))
    assert renamed.passed, "the renamed version changes only the demo agent"


async def test_a_retuned_version_records_other_options(lab):
    """A retry policy or timeout is recorded in each scheduled event and enforced by the server."""
    wid, request = lab.request([call("flaky", fail_times=1), final("ok")])
    async with make_worker(lab.client, "retuned", "retuned-worker", [versions.RetunedWorkflow]):
        await lab.client.execute_workflow(DemoAgentWorkflow.run, request, id=wid, task_queue="retuned")
    run = await lab.follow(wid, save=False)
    options = {o["activity"]: o for o in run.activity_options()}
    assert options["agent__demo__model_request"]["start_to_close"] == "120s"
    assert options["agent__demo__model_request"]["max_attempts"] == 5
    assert await replay(run.histories) == 1, "today's code replays it: options are not commands"


def test_a_worker_process_picks_its_version(monkeypatch):
    monkeypatch.delenv(VERSION_ENV, raising=False)
    assert chosen_workflows() == WORKFLOWS
    monkeypatch.setenv(VERSION_ENV, "paced")
    assert chosen_workflows() == [versions.PacedWorkflow]
    monkeypatch.setenv(VERSION_ENV, "v9")
    with pytest.raises(ValueError, match="names no workflow version: use one of today, renamed"):
        chosen_workflows()


async def test_a_lab_with_a_database_keeps_its_runs_and_links_them(tmp_path):
    db = tmp_path / "lab.db"
    async with await Lab.start("dev", db=db, sandbox_root=tmp_path, replace_current=False) as lab:
        run = await lab.run([final("kept")])
        assert run.ui_url == f"{lab.ui_url}/namespaces/default/workflows/{run.workflow_id}"
        with urllib.request.urlopen(run.ui_url, timeout=10) as page:
            assert page.status == 200
    assert db.is_file()
    async with await Lab.start("dev", db=db, ui=False, sandbox_root=tmp_path, replace_current=False) as again:
        kept = again.client.get_workflow_handle(run.workflow_id)
        assert (await kept.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert await kept.result() == "kept"
        assert json.loads((await kept.fetch_history()).to_json()) == run.history_json[run.workflow_id]


async def test_db_is_for_the_dev_server_only(tmp_path):
    from durable_agents.lab import LabError

    with pytest.raises(LabError, match="db= keeps a dev server's runs"):
        await Lab.start("time-skipping", db=tmp_path / "x.db", replace_current=False)
