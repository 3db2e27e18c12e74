"""Notebook 10, section 1 and the exercise: rewind a run (reset) to before a bad model turn.

    bad = await rewind_drill.bad_run(lab, script)          # v1 of the agent makes a wrong turn
    point = reset_point(bad.histories[bad.workflow_id], request=2)
    fixed = await rewind_drill.reset(lab, bad.workflow_id, point)   # v2 (with a guard) redoes it

A reset is the server's rewind; v1 and v2 are two workers of this process on a task queue of
their own, so the drill shows a deploy of fixed code and the reset that lets it redo a turn.
The fixed version of the demo workflow the rewind deploys is `durable_agents.versions.GuardedWorkflow`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from durable_agents.lab.lab import Lab
from durable_agents.lab.run import Run
from durable_agents.lab.worker import make_worker
from durable_agents.lessons.exercises import Check
from durable_agents.lessons.operating.events import RESET_CAUSE, about, event_type
from durable_agents.script import Step, call, final
from durable_agents.versions import GuardedWorkflow

REWIND_QUEUE = "durable-agents-rewind"
"""The rewind drill's task queue: v1, then v2, poll it alone (the lab's worker polls its own)."""


class RewindDrill:
    """A run made by v1 of the agent (today's `DemoAgentWorkflow`), then reset onto v2 (`GuardedWorkflow`).

    A deploy is new code on the task queue: here a worker of this process with v1, stopped, then one
    with v2. A reset keeps the workflow's id, input and task queue, so the new run goes to v2.
    """

    async def bad_run(self, lab: Lab, script: Sequence[Step | dict[str, Any]], prompt: str = "Tidy up.") -> Run:
        """Run `script` to its end on a v1 worker of `REWIND_QUEUE`."""
        async with make_worker(lab.client, REWIND_QUEUE, "v1-worker"):
            handle = await lab.start_run(script, prompt, agent="demo", task_queue=REWIND_QUEUE)
            return await lab.follow(handle.id)

    async def reset(self, lab: Lab, workflow_id: str, event_id: int, reason: str = "rewind") -> ResetRun:
        """Deploy v2 (a worker with `GuardedWorkflow`), reset `workflow_id` to `event_id`, follow the new run.

        The new run's first workflow task replays the copied events on v2: if v2's code does not fit
        them (it changed what happened before the point), that task fails for good; then the new run
        is terminated and `RewindFailed` says why, instead of waiting for the run's timeout.
        """
        async with make_worker(lab.client, REWIND_QUEUE, "v2-worker", [GuardedWorkflow]):
            run_id = await reset_workflow(lab, workflow_id, event_id, reason)
            handle = lab.client.get_workflow_handle(workflow_id, run_id=run_id)
            follow = asyncio.create_task(
                lab.follow(workflow_id, save=False)
            )  # v2's history: today's code won't replay it
            failure = asyncio.create_task(_task_failure(handle, after=event_id))
            done, _ = await asyncio.wait({follow, failure}, return_when=asyncio.FIRST_COMPLETED)
            if follow not in done:
                follow.cancel()
                await handle.terminate(reason="v2 cannot replay this run")
                raise RewindFailed(
                    f"v2 cannot carry on {workflow_id} from event {event_id}: replaying the events before it failed "
                    f"({failure.result()}). The new run was terminated. Reset to an earlier point: before the model "
                    "answer v2 treats differently."
                )
            failure.cancel()
        run = follow.result()
        return ResetRun(**{f.name: getattr(run, f.name) for f in fields(run)}, reset_run_id=run_id)


@dataclass
class ResetRun(Run):
    """The run a reset started: a `Run`, and `reset_run_id`, the new run's id (the workflow id stays)."""

    reset_run_id: str = ""


class RewindFailed(RuntimeError):
    """The code on the task queue cannot replay the history up to the reset point (a nondeterminism error)."""


async def _task_failure(handle: WorkflowHandle[Any, Any], after: int) -> str:
    """Wait until a workflow task after event `after` fails for a reason other than the reset; returns why."""
    while True:
        for e in (await handle.fetch_history()).events:
            attrs = e.workflow_task_failed_event_attributes
            if e.event_id > after and event_type(e) == "WORKFLOW_TASK_FAILED" and attrs.cause != RESET_CAUSE:
                return attrs.failure.message.split("\n")[0][:160]
        await asyncio.sleep(0.1)


rewind_drill = RewindDrill()


async def reset_workflow(lab: Lab, workflow_id: str, event_id: int, reason: str = "rewind") -> str:
    """Reset a workflow's latest run to `event_id` (a `WorkflowTaskCompleted`); returns the new run's id.

    The same as `temporal workflow reset --workflow-id ID --event-id N`: the server copies the history
    up to that workflow task, fails the old run's task there, and starts a new run that carries on
    from it. Signals (and updates) received after the point are sent to the new run again.
    """
    request = ResetWorkflowExecutionRequest(
        namespace=lab.client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        reason=reason,
        workflow_task_finish_event_id=event_id,
        request_id=str(uuid.uuid4()),
    )
    service, handle = lab.client.workflow_service, lab.client.get_workflow_handle(workflow_id)
    before = (await handle.describe()).run_id
    for _ in range(RESET_ATTEMPTS - 1):
        try:
            return (await service.reset_workflow_execution(request)).run_id
        except RPCError as exc:
            if exc.status != RPCStatusCode.CANCELLED:
                raise
            if (latest := (await handle.describe()).run_id) != before:
                return latest  # the reset was made, and only its answer lost
    return (await service.reset_workflow_execution(request)).run_id  # the last attempt's error is the caller's


RESET_ATTEMPTS = 3
"""How often `reset_workflow` sends its request. The dev server once answered a reset with CANCELLED
("operation was canceled") on a busy machine. It does not de-duplicate resets by `request_id` (a
second request makes a second reset: tests/test_operating.py), so the request is sent again only if
the workflow's latest run is still the one it would reset."""


def model_requests(history: WorkflowHistory) -> list[int]:
    """The event id of each model request's `ActivityTaskScheduled`, in order."""
    return [
        e.event_id
        for e in history.events
        if event_type(e) == "ACTIVITY_TASK_SCHEDULED"
        and "__model_request" in e.activity_task_scheduled_event_attributes.activity_type.name
    ]


def reset_point(history: WorkflowHistory, request: int) -> int:
    """The event to reset to so that model request number `request` (from 1) runs again, and nothing before it.

    A reset point is a `WorkflowTaskCompleted`: the workflow task whose commands scheduled that request.
    """
    scheduled = model_requests(history)[request - 1]
    completed = [
        e.event_id for e in history.events if event_type(e) == "WORKFLOW_TASK_COMPLETED" and e.event_id < scheduled
    ]
    return completed[-1]


def kept_and_redone(old: WorkflowHistory, new: WorkflowHistory) -> dict[str, Any]:
    """What a reset kept (activities copied from the old run, not run again) and what the new run ran."""
    point = _reset_point_of(new)
    kept = [e for e in new.events if event_type(e) == "ACTIVITY_TASK_COMPLETED" and e.event_id < point]
    ran = [e for e in new.events if event_type(e) == "ACTIVITY_TASK_STARTED" and e.event_id > point]
    redone = [e for e in new.events if event_type(e) == "ACTIVITY_TASK_SCHEDULED" and e.event_id > point]
    return {
        "old run's events": len(old.events),
        "events copied from it": point - 1,
        "activities kept (not run again)": len(kept),
        "activities the new run ran": len(ran),
        "of them model requests": sum("model_request" in about(e) for e in redone),
    }


def _reset_point_of(history: WorkflowHistory) -> int:
    """The event id of the `WorkflowTaskFailed` (cause: reset) where a reset run takes over from the old one."""
    for e in history.events:
        if event_type(e) == "WORKFLOW_TASK_FAILED" and e.workflow_task_failed_event_attributes.cause == RESET_CAUSE:
            return e.event_id
    raise ValueError("This history is not a reset run's: it has no workflow task failed by a reset.")


REWIND_SCRIPT: list[Step] = [
    call("write_file", path="notes.md", content="keep me"),
    call("write_file", path="notes.md", content="oops"),
    final("Tidied up."),
]
"""The run that goes wrong: it writes notes.md, then (the bad turn) overwrites it."""


async def check_rewind(lab: Lab, choose: Callable[[WorkflowHistory], Any]) -> Check:
    """Exercise 10: `choose(history)` picks the reset point that leaves notes.md saying "keep me" after v2's run.

    Runs the bad run afresh on v1 (so notes.md says "oops"), resets it where `choose` says onto v2,
    and reads the new run's history and sandbox.
    """
    check = Check("10 · rewind far enough")
    bad = await rewind_drill.bad_run(lab, REWIND_SCRIPT)
    history = bad.histories[bad.workflow_id]
    point = choose(history)
    if not check.require(
        isinstance(point, int) and not isinstance(point, bool),
        f"Return an event id (a whole number), not {point!r}: `events_table(history)` lists them.",
    ):
        return check
    kinds = {e.event_id: event_type(e) for e in history.events}
    if not check.require(
        kinds.get(point) == "WORKFLOW_TASK_COMPLETED",
        f"Event {point} is {kinds.get(point, 'not in the history')}: a reset point is a WORKFLOW_TASK_COMPLETED "
        "event (the end of a workflow task, where the new run takes over).",
    ):
        return check
    try:
        new = await rewind_drill.reset(lab, bad.workflow_id, point)
    except RewindFailed as exc:
        second_request = model_requests(history)[1]
        check.require(
            False,
            f"Event {point} comes after the second model request (event {second_request}), the overwrite: v2 had to "
            f"replay that answer, which its guard refuses, so the new run could not go on ({exc}). Reset earlier.",
        )
        return check
    notes = new.files().get("notes.md")
    check.require(
        notes == "keep me",
        f"notes.md says {notes!r}: the new run kept the first write_file (it ran before event {point}) and did "
        "not run it again, and a reset does not undo what v1's tools did to the disk. Reset to before the "
        "model request that asked for that write.",
    )
    check.run = new  # type: ignore[attr-defined]
    return check
