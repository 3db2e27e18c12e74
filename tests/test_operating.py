"""Operating durable agents (notebook 10), asserted from histories and the server: a reset's point and
the new run's first events, a paused activity's state, a conversation by update-with-start, the
deployment version each run's workflow tasks ran on (pinned, ramped, auto-upgrade, upgraded at
continue-as-new) and a retired version's drainage, and the exercise's check with each kind of answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from durable_agents.history.store import fetch_chain
from durable_agents.lab import Lab
from durable_agents.lessons import operating as op
from durable_agents.lessons.operating import deployments
from durable_agents.script import call, final
from durable_agents.versions import RenamedConversationWorkflow
from durable_agents.workflows import ConversationWorkflow


def types(history, first=1, last=None):
    return [r["type"] for r in op.events_table(history, first, last)]


@pytest.mark.parametrize("made", [False, True], ids=["not-made", "made-answer-lost"])
async def test_a_reset_the_server_answers_cancelled_is_made_once(lab: Lab, monkeypatch, made):
    """The dev server once answered a reset with CANCELLED on a busy machine. Whether the reset was made
    (and only its answer lost) or not, `reset_workflow` ends with one reset: it asks again only if the
    workflow's latest run is still the old one, since the server would make a second reset."""
    bad = await op.rewind_drill.bad_run(lab, op.REWIND_SCRIPT)
    point = op.reset_point(bad.histories[bad.workflow_id], request=2)
    service = lab.client.workflow_service
    real, sent, runs = service.reset_workflow_execution, [], []

    async def answered_cancelled_once(request, *args, **kwargs):
        sent.append(request.request_id)
        if len(sent) == 1 and not made:
            raise RPCError("operation was canceled", RPCStatusCode.CANCELLED, b"")
        runs.append((await real(request, *args, **kwargs)).run_id)
        if len(sent) == 1:
            raise RPCError("operation was canceled", RPCStatusCode.CANCELLED, b"")
        return SimpleNamespace(run_id=runs[-1])

    monkeypatch.setattr(service, "reset_workflow_execution", answered_cancelled_once)
    run_id = await op.reset_workflow(lab, bad.workflow_id, point)
    assert runs == [run_id], f"one reset, whose run is the one returned: {runs}"
    assert len(sent) == (1 if made else 2), sent
    assert (await lab.client.get_workflow_handle(bad.workflow_id).describe()).run_id == run_id


async def test_a_reset_keeps_the_first_turn_and_redoes_the_second_on_v2(lab: Lab):
    bad = await op.rewind_drill.bad_run(lab, op.REWIND_SCRIPT)
    old = bad.histories[bad.workflow_id]
    assert bad.files() == {"notes.md": "oops"}
    requests = op.model_requests(old)
    point = op.reset_point(old, request=2)
    assert types(old, point, point + 1) == ["WORKFLOW_TASK_COMPLETED", "ACTIVITY_TASK_SCHEDULED"]
    assert point + 1 == requests[1]

    fixed = await op.rewind_drill.reset(lab, bad.workflow_id, point)
    new = fixed.histories[fixed.workflow_id]
    latest = await lab.client.get_workflow_handle(bad.workflow_id).describe()
    assert latest.run_id == fixed.reset_run_id != old.run_id
    # The new run holds the old one's events up to the point, then the reset, then v2's work.
    assert [e.event_type for e in new.events[: point - 1]] == [e.event_type for e in old.events[: point - 1]]
    assert types(new, point, point + 4) == [
        "WORKFLOW_TASK_FAILED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "ACTIVITY_TASK_SCHEDULED",
    ]
    assert op.events_table(new, point, point)[0]["about"].startswith("reset_workflow")
    assert op.model_requests(new) == [requests[0], point + 4]
    assert fixed.output == "I will not overwrite notes.md: I wrote it earlier in this run."
    assert fixed.files() == {"notes.md": "oops"}, "a reset does not undo what a tool did"
    assert op.kept_and_redone(old, new) == {
        "old run's events": len(old.events),
        "events copied from it": point - 1,
        "activities kept (not run again)": 2,
        "activities the new run ran": 1,
        "of them model requests": 1,
    }
    identities = {
        e.workflow_task_started_event_attributes.identity
        for e in new.events
        if e.HasField("workflow_task_started_event_attributes")
    }
    assert identities == {"v1-worker", "v2-worker"}


async def test_a_paused_tool_waits_takes_new_options_and_carries_on(lab: Lab):
    handle = await lab.start_run([call("flaky", fail_times=8), final("done")])
    activity_id = await op.pending_tool(lab, handle.id)
    await op.pause_activity(lab, handle.id, activity_id, reason="down")
    paused = await op.activity_state(lab, handle.id, activity_id)
    assert paused["state"] == "PAUSED" and paused["paused because"] == "down"
    assert paused["maximum attempts"] == 5 and paused["attempt"] < 5
    await op.retry_activity_with(lab, handle.id, activity_id, maximum_attempts=20, initial_interval=0.05)
    retuned = await op.activity_state(lab, handle.id, activity_id)
    assert (retuned["state"], retuned["maximum attempts"], retuned["retry interval"]) == ("PAUSED", 20, "0.05 s")
    assert retuned["attempt"] == paused["attempt"], "nothing was attempted while paused"
    await op.reset_activity(lab, handle.id, activity_id, keep_paused=True)
    again = await op.activity_state(lab, handle.id, activity_id)
    assert (again["state"], again["attempt"]) == ("PAUSED", 1)
    await op.unpause_activity(lab, handle.id, activity_id)
    run = await lab.follow(handle.id)
    assert run.output == "done"
    # The history keeps the policy the workflow asked for; the attempt that ran shows the server's.
    assert op.attempts(run.histories[handle.id]) == [
        {"activity": activity_id, "tool": "flaky", "recorded maximum attempts": 5, "ended on attempt": 9}
    ]


async def test_the_first_message_starts_the_conversation_and_is_accepted_in_its_first_task(lab: Lab):
    script = [call("write_file", path="todo.md", content="milk"), final("Noted."), final("Milk.")]
    cid = f"chat-{lab.new_workflow_id()}"
    assert await op.say(lab, cid, "Remember milk.", script) == "Noted."
    started = await op.history_now(lab, cid)
    assert types(started, 1, 5) == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    ]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await op.say(lab, cid, "  ", script)
    assert "Say something" in str(refused.value.cause)
    assert await op.say(lab, cid, "What was it?", script) == "Milk."
    run = await op.close(lab, cid)
    history = run.histories[cid]
    assert history.run_id == started.run_id, "every message went to the run the first one started"
    assert [(u["update"], u["input"]) for u in op.updates(history)] == [
        ("say", "Remember milk."),
        ("say", "What was it?"),
        ("close", ""),
    ]
    assert run.output == 6  # request, tool call, tool result, answer; then request, answer


async def test_a_reset_carries_later_updates_to_the_new_run(lab: Lab):
    script = [final("one"), final("two")]
    cid = f"chat-{lab.new_workflow_id()}"
    await op.say(lab, cid, "first", script)
    await op.say(lab, cid, "second", script)
    before = await op.history_now(lab, cid)
    second = op.updates(before)[1]["event"]
    point = max(r["event"] for r in op.events_table(before, last=second) if r["type"] == "WORKFLOW_TASK_COMPLETED")
    await op.reset_workflow(lab, cid, point)
    after = (await op.close(lab, cid)).histories[cid]
    assert [(u["input"], u["how"]) for u in op.updates(after)] == [
        ("first", "sent by a client"),
        ("second", "carried over by the reset"),
        ("", "sent by a client"),
    ]
    assert "WORKFLOW_EXECUTION_UPDATE_ADMITTED" in types(after, point)


@pytest.fixture(scope="module")
async def short_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """A dev server that suggests continue-as-new at 30 events: a conversation outgrows it in three messages."""
    async with await Lab.start(
        ui=False, sandbox_root=tmp_path_factory.mktemp("chat"), replace_current=False, suggest_continue_as_new_after=30
    ) as lab:
        yield lab


async def test_a_long_conversation_continues_as_new_between_messages(short_lab: Lab):
    script = [final(f"reply {n}") for n in range(1, 6)]
    cid = f"chat-{short_lab.new_workflow_id()}"
    replies = [await op.say(short_lab, cid, f"message {n}", script) for n in range(1, 6)]
    assert replies == [f"reply {n}" for n in range(1, 6)], "the conversation was carried over: the script went on"
    run = await op.close(short_lab, cid)
    assert run.output == 10
    chain = await fetch_chain(short_lab.client, cid)
    assert len(chain) > 1
    assert sum(len(op.updates(h)) for h in chain) == 6  # five messages and the close


@pytest.mark.parametrize(
    ("answer", "passes", "hint"),
    [
        (lambda history: None, False, "Return an event id"),
        (lambda history: op.model_requests(history)[0], False, "a reset point is a WORKFLOW_TASK_COMPLETED"),
        (lambda history: op.reset_point(history, request=2), False, "did not run it again"),
        (lambda history: op.reset_point(history, request=3), False, "which its guard refuses"),
        (lambda history: op.reset_point(history, request=1), True, ""),
        (
            lambda history: min(r["event"] for r in op.events_table(history) if r["type"] == "WORKFLOW_TASK_COMPLETED"),
            True,
            "",
        ),
    ],
    ids=["starter", "not-a-task", "too-late", "after-the-overwrite", "solution", "written-otherwise"],
)
async def test_the_rewind_exercise(lab: Lab, answer, passes, hint):
    check = await op.check_rewind(lab, answer)
    assert check.passed == passes, check.hints
    assert hint in " ".join(check.hints)


async def test_a_deploy_pinned_stays_a_ramp_splits_auto_upgrade_fails_a_chain_upgrades_and_v1_drains(lab: Lab):
    deployment = await deployments.Deployment.start(lab, "v1", ConversationWorkflow)
    script = [final(f"reply {n}") for n in range(1, 6)]
    stays, moving, chain = (f"{name}-{lab.new_workflow_id()}" for name in ("stays", "moving", "chain"))
    try:
        await deployment.say(stays, "one", script, upgrade=False)
        await deployment.say(moving, "one", script, auto_upgrade=True)
        await deployment.say(chain, "one", script)
        await deployment.roll_out("v2", RenamedConversationWorkflow, current=False)
        assert _statuses(await deployment.versions()) == {"v1": "CURRENT", "v2": "INACTIVE"}

        await deployment.ramp("v2", 50)
        assert (await deployment.versions())[1] == {
            "version": "v2",
            "status": "RAMPING",
            "new runs": "50 %",
            "drainage": "",
        }
        sample = await deployment.sample(20, [final("hi")])
        started_on = [r["started on"] for r in sample]
        assert set(started_on) == {"v1", "v2"}, f"a 50 % ramp sends some of 20 new runs to each: {started_on}"
        for row in sample:  # what describe() said is what the history recorded
            history = await lab.client.get_workflow_handle(row["conversation"]).fetch_history()
            assert {r["version"] for r in deployments.task_versions(history)} == {row["started on"]}

        await deployment.promote("v2")
        assert _statuses(await deployment.versions()) == {"v1": "DRAINING", "v2": "CURRENT"}
        assert (await deployment.versions())[0]["drainage"] == "DRAINING", "a pinned run is still open on v1"
        assert await deployment.say(stays, "two", script) == "reply 2"
        assert await deployment.say(chain, "two", script) == "reply 2"
        assert await deployment.say(chain, "three", script) == "reply 3"
        fresh = f"fresh-{lab.new_workflow_id()}"
        await deployment.say(fresh, "hello", [final("on v2")])

        failed = await deployments.until_a_task_fails(lab, moving, "two")
        assert (failed["worker"], failed["why"]) == ("v2-worker", "[TMPRL1100] Nondeterminism error")
        assert (await deployments.versioning_of(lab.client.get_workflow_handle(moving)))["override"] == "auto-upgrade"

        for conversation in (stays, chain, fresh):
            await lab.client.get_workflow_handle(conversation).execute_update(ConversationWorkflow.close)
        stayed = await deployments.chain_versions(lab, stays)
        assert {(r["run"], r["worker"], r["version"]) for r in stayed} == {(1, "v1-worker", "v1")}
        upgraded = await deployments.chain_versions(lab, chain)
        assert [r["run"] for r in upgraded][-1] == 2, "the chain continued as new once"
        assert {(r["worker"], r["version"]) for r in upgraded if r["run"] == 1} == {("v1-worker", "v1")}
        assert {(r["worker"], r["version"]) for r in upgraded if r["run"] == 2} == {("v2-worker", "v2")}
        first_runs = await fetch_chain(lab.client, chain)
        assert first_runs[1].events[0].workflow_execution_started_event_attributes.input  # carried the messages
        assert {r["version"] for r in await deployments.chain_versions(lab, fresh)} == {"v2"}

        await deployment.until_drained("v1")
        assert (await deployment.versions())[0] == {
            "version": "v1",
            "status": "DRAINED",
            "new runs": "",
            "drainage": "DRAINED",
        }
        await deployment.retire("v1")
        assert set(deployment.workers) == {"v2"}
    finally:
        await deployment.stop()


def _statuses(versions):
    return {v["version"]: v["status"] for v in versions}


async def test_external_storage_keeps_large_payloads_out_of_the_history(lab: Lab):
    inline, external = await op.external_storage_rows(lab, size=200_000, threshold=10_000)
    assert inline["history bytes"] > 200_000 and inline["references"] == 0
    assert external["history bytes"] < 20_000, "only references and small payloads are left in the history"
    assert external["references"] >= 2  # the tool's result and the model request that carries it
    assert external["bytes stored outside"] > 200_000
