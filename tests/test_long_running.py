"""Long runs (`LongRunWorkflow`, notebook 08): every row of `LONG_RUN_SCENARIOS` on a real dev
server, the replies sent through the `answer` update, and the drills of notebook 08."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from temporalio.client import WorkflowHistory, WorkflowUpdateFailedError

from durable_agents.history.replay import replay
from durable_agents.history.store import HISTORY_DIR_ENV, load_histories
from durable_agents.lab import Lab, LabError
from durable_agents.lab.run import Run
from durable_agents.lessons import long_running as lr
from durable_agents.scenarios import LONG_RUN_SCENARIOS, LongRunScenario, shape
from durable_agents.script import call, final, spawn
from durable_agents.workflows import LongRunWorkflow

SUGGEST_AFTER = 100


@pytest.fixture(scope="module")
async def long_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A dev server that suggests continue-as-new at 100 events, so a chain is short to watch."""
    async with await Lab.start(
        "dev",
        ui=False,
        sandbox_root=tmp_path_factory.mktemp("long"),
        replace_current=False,
        suggest_continue_as_new_after=SUGGEST_AFTER,
    ) as lab:
        yield lab


def _files(run: Run) -> dict[str, str]:
    return {path: text if len(text) <= 1000 else f"<{len(text)} characters>" for path, text in run.files().items()}


async def play(lab: Lab, scenario: LongRunScenario) -> tuple[Run, list[str]]:
    """Start the row's run, send its replies while it waits (killing its worker first if asked),
    and return the run and the refusals the replies got."""
    queue = lr.CRASH_QUEUE if scenario.crash else None
    pool = await lr.WorkerPool.start(lab, 1, prefix="waiter", task_queue=queue) if scenario.crash else None
    job = await lab.start_long_run(
        scenario.script, agent=scenario.agent, answer_within=scenario.answer_within, task_queue=queue
    )
    refusals: list[str] = []
    finisher = None
    try:
        if scenario.replies:
            await job.wait_pending()
        if pool is not None:
            killed = lr.last_workflow_worker(await job.handle.fetch_history())
            pool.kill(killed)
            finisher = lr.make_worker(lab.client, queue, "finisher")
            await finisher.__aenter__()
        for reply in scenario.replies:
            try:
                await job.answer(reply.answer)
            except WorkflowUpdateFailedError as exc:
                refusals.append(str(exc.cause))
        run = await job.result(check=False)
    finally:
        if finisher is not None:
            await finisher.__aexit__(None, None, None)
        if pool is not None:
            await pool.stop()
    return run, refusals


def _canonical(history: WorkflowHistory) -> str:
    """A history's JSON with its keys sorted: protobuf writes a map's entries (a payload's metadata)
    in no fixed order, so the same history can serialise two ways (seen: 4 tests of 16 in one run)."""
    return json.dumps(json.loads(history.to_json()), indent=1, sort_keys=True)


def _nearest_difference(saved: list[str], fetched: str) -> str:
    """How the saved history nearest to `fetched` differs from it."""
    import difflib

    nearest = max(saved, key=lambda text: difflib.SequenceMatcher(None, text, fetched).quick_ratio(), default="")
    diff = difflib.unified_diff(nearest.splitlines(True), fetched.splitlines(True), "saved", "fetched")
    return "no saved history equals the fetched first run:\n" + "".join(list(diff)[:60])


@pytest.mark.parametrize("name", list(LONG_RUN_SCENARIOS))
async def test_long_run_scenario(long_lab, name, monkeypatch, tmp_path):
    scenario = LONG_RUN_SCENARIOS[name]
    monkeypatch.setenv(HISTORY_DIR_ENV, str(tmp_path))
    run, refusals = await play(long_lab, scenario)
    assert run.output == scenario.output, run.error
    assert shape(run.graph()) == scenario.shape
    assert _files(run) == scenario.files
    told = "\n".join(run.told())
    for phrase in scenario.told:
        assert phrase in told, f"the model was never told {phrase!r}"
    expected = [r.refused for r in scenario.replies if r.refused]
    assert len(refusals) == len(expected), refusals
    for phrase, refusal in zip(expected, refusals, strict=True):
        assert phrase in refusal
    history = run.histories[run.workflow_id]
    accepted = [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(accepted) == len(scenario.replies) - len(expected), "a refused update must leave no trace"
    chain = await lr.store.fetch_chain(long_lab.client, run.workflow_id)
    assert len(chain) == scenario.runs
    saved = load_histories(tmp_path)  # every run of the chain is saved, and replays
    mine = [_canonical(h) for h in saved.values() if h.workflow_id == run.workflow_id]
    assert mine.count(_canonical(chain[0])) == 1, _nearest_difference(mine, _canonical(chain[0]))
    assert len([h for h in saved.values() if h.workflow_id == run.workflow_id]) == scenario.runs
    assert await replay(saved) == len(saved)
    if scenario.crash:
        workers = {w for node in run.graph().walk() for w in node.code_workers}
        assert workers == {"waiter-1", "finisher"}, workers
        assert all(s.attempts == 1 for s in run.graph().steps if s.kind == "model"), "no model request redone"


async def test_a_refused_update_changes_nothing(long_lab):
    job = await long_lab.start_long_run(LONG_RUN_SCENARIOS["approve_runs_the_call"].script)
    before = await job.wait_pending()
    with pytest.raises(WorkflowUpdateFailedError, match="update failed"):
        await job.approve("no-such-call")
    assert await job.pending() == before
    await job.approve(before[0].call_id)
    assert (await job.result()).output == "deleted"


async def test_a_bad_signal_is_accepted_by_the_server_and_ignored(long_lab):
    job = await long_lab.start_long_run(LONG_RUN_SCENARIOS["approve_runs_the_call"].script)
    pending = await job.wait_pending()
    await job.signal(lr.Answer("no-such-call", approve=True))
    await job.signal(lr.Answer(pending[0].call_id, approve=True))
    run = await job.result()
    ignored = await job.handle.query(LongRunWorkflow.ignored)
    assert run.output == "deleted"
    assert len(ignored) == 1 and "No pending call 'no-such-call'" in ignored[0]
    signals = [
        e for e in run.histories[run.workflow_id].events if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert len(signals) == 2, "both signals are in the history, the bad one too"


async def test_the_chain_carries_the_conversation(long_lab):
    script = LONG_RUN_SCENARIOS["continue_as_new_chain"].script
    chained = await long_lab.start_long_run(script)
    single = await long_lab.start_long_run(script, continue_as_new=False)
    a, b = await chained.result(), await single.result()
    assert a.output == b.output == "read 20 pages"
    chain = await chained.chain()
    assert [r["ended"] for r in lr.chain_rows(chain)] == ["continued as new"] * (len(chain) - 1) + ["completed"]
    assert max(r["events"] for r in lr.chain_rows(chain)) < len(b.histories[b.workflow_id].events)
    assert sum(r["model requests"] for r in lr.chain_rows(chain)) == 21, "no model request repeated or skipped"
    assert len(await single.chain()) == 1


async def test_a_one_day_deadline_passes_in_seconds_on_the_time_skipping_server():
    drill = await lr.deadline_drill()
    assert drill.run.output == "ok"
    assert drill.wall_seconds < 30
    assert "Nobody answered within 1 day(s)" in drill.told
    assert "timer 86400s" in shape(drill.run.graph())
    assert drill.run.files() == {"a.txt": "keep me?"}


async def test_growth_is_measured_from_the_histories(long_lab):
    growth = await lr.measure_growth(long_lab, marks=(5, 15), page_size=500)
    assert set(growth.answers.values()) == {"read 15 pages"}
    rows = {(r["turns"], r["variant"]): r for r in growth.rows}
    assert rows[(15, "continue-as-new")]["runs so far"] > 1
    assert rows[(15, "one history")]["runs so far"] == 1
    assert rows[(15, "continue-as-new")]["events (largest run)"] <= SUGGEST_AFTER + 10
    assert rows[(15, "one history")]["KB (largest run)"] > rows[(5, "one history")]["KB (largest run)"]
    assert rows[(15, "compaction")]["largest model request KB"] < rows[(15, "one history")]["largest model request KB"]


async def test_a_trace_spans_workflow_activities_and_children(long_lab):
    script = [spawn("researcher", "look", [call("list_files"), final("seen")]), final("traced")]
    trace = await lr.traced_run(long_lab, script)
    assert trace.run.output == "traced"
    assert len(trace.trace_ids) == 1
    names = [s.name for s in trace.spans]
    assert names.count("RunWorkflow:DemoAgentWorkflow") == 2, "the parent and its child"
    assert any(n.startswith("RunActivity:agent__reader__") for n in names)
    assert "invoke_agent demo" in names and "invoke_agent reader" in names
    json.dumps(trace.rows())


async def test_each_workflow_refuses_the_other_ones_agents(long_lab):
    with pytest.raises(LabError, match="runs in LongRunWorkflow"):
        await long_lab.run([final("x")], agent="long_run")
    with pytest.raises(LabError, match=r"run 'demo' with lab.run"):
        await long_lab.start_long_run([final("x")], agent="demo")
