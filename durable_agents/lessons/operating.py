"""Notebook 10 (operating durable agents): rewind a run, pause a tool, talk to a conversation.

    bad = await rewind_drill.bad_run(lab, script)          # v1 of the agent makes a wrong turn
    point = reset_point(bad.histories[bad.workflow_id], request=2)
    fixed = await rewind_drill.reset(lab, bad.workflow_id, point)   # v2 (with a guard) redoes it

    await pause_activity(lab, workflow_id, activity_id)     # the operator's console: the server's API
    reply = await say(lab, "chat-42", "hello", script)      # one message, by update-with-start

Everything here talks to the server through the client's API (no blocking subprocess on the event
loop that hosts the lab's worker). The workflow code itself is in `durable_agents.workflows`; the
only workflow class here is the fixed version of the demo workflow the rewind deploys.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask
from pydantic_ai.durable_exec.temporal import PydanticAIPayloadConverter, PydanticAIPlugin, PydanticAIWorkflow
from temporalio import workflow
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.enums.v1 import (
    EventType,
    PendingActivityState,
    VersionDrainageStatus,
    WorkerDeploymentVersionStatus,
    WorkflowTaskFailedCause,
)
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    PauseActivityRequest,
    ResetActivityRequest,
    ResetWorkflowExecutionRequest,
    SetWorkerDeploymentCurrentVersionRequest,
    UnpauseActivityRequest,
    UpdateActivityOptionsRequest,
)
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHistory
from temporalio.common import (
    AutoUpgradeVersioningOverride,
    VersioningBehavior,
    WorkerDeploymentVersion,
    WorkflowIDConflictPolicy,
)
from temporalio.converter import DataConverter, ExternalStorage, StorageDriver, StorageDriverClaim
from temporalio.service import RPCError
from temporalio.worker import Worker, WorkerDeploymentConfig

with workflow.unsafe.imports_passed_through():
    from pydantic_ai import ModelResponse, RunContext, TextPart, ToolCallPart
    from pydantic_ai.capabilities import AbstractCapability

    from durable_agents.agent import build_agent
    from durable_agents.deps import AgentRequest, DemoDeps
    from durable_agents.lab.lab import Lab
    from durable_agents.lab.run import Run
    from durable_agents.lab.worker import make_worker
    from durable_agents.lessons.exercises import Check
    from durable_agents.script import Step, call, final
    from durable_agents.workflows import AGENTS, Conversation, ConversationWorkflow, DemoAgentWorkflow

# ---- Rewind: the fixed version of the agent, and reset ----


@dataclass
class NoOverwrite(AbstractCapability[DemoDeps]):
    """v2's fix: the model may not overwrite a file it wrote earlier in the run.

    A model answer that calls `write_file` on such a path becomes a text answer saying so. It reads
    only the conversation (workflow state), never the disk, so it is deterministic workflow code.
    """

    async def after_model_request(
        self, ctx: RunContext[DemoDeps], *, request_context: Any, response: ModelResponse
    ) -> ModelResponse:
        written = {path for message in ctx.messages for path in _written(message)}
        again = sorted(written & set(_written(response)))
        if not again:
            return response
        return ModelResponse(
            parts=[TextPart(f"I will not overwrite {', '.join(again)}: I wrote it earlier in this run.")]
        )


def _written(message: Any) -> list[str]:
    """The paths a model response asks `write_file` to write (none for any other message)."""
    if not isinstance(message, ModelResponse):
        return []
    calls = [p for p in message.parts if isinstance(p, ToolCallPart) and p.tool_name == "write_file"]
    return [str(c.args_as_dict().get("path")) for c in calls]


GUARDED_AGENTS = {**AGENTS, "demo": build_agent("demo", extra=[NoOverwrite()])}


@workflow.defn(name="DemoAgentWorkflow")
class GuardedWorkflow(PydanticAIWorkflow):
    """v2 of the demo workflow: the same agent and activities, with `NoOverwrite` on its model's answers."""

    __pydantic_ai_agents__ = tuple(GUARDED_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await request.run(GUARDED_AGENTS[request.agent])


REWIND_QUEUE = "durable-agents-rewind"
"""The rewind drill's task queue: v1, then v2, poll it alone (the lab's worker polls its own)."""


class RewindDrill:
    """A run made by v1 of the agent (today's `DemoAgentWorkflow`), then reset onto v2 (`GuardedWorkflow`).

    A deploy is new code on the task queue: here a worker of this process with v1, stopped, then one
    with v2. A reset keeps the workflow's id, input and task queue, so the new run goes to v2.
    """

    async def bad_run(self, lab: Lab, script: Sequence[Step | dict[str, Any]], prompt: str = "Tidy up.") -> Run:
        """Run `script` to its end on a v1 worker of `REWIND_QUEUE`."""
        wid, request = lab.request(script, prompt, agent="demo")
        async with make_worker(lab.client, REWIND_QUEUE, "v1-worker"):
            await self._start(lab, wid, request)
            return await lab.follow(wid)

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

    @staticmethod
    async def _start(lab: Lab, wid: str, request: AgentRequest) -> None:
        Path(request.sandbox_dir).mkdir(parents=True, exist_ok=True)
        await lab.client.start_workflow(
            "DemoAgentWorkflow", request, id=wid, task_queue=REWIND_QUEUE, execution_timeout=timedelta(seconds=60)
        )


@dataclass
class ResetRun(Run):
    """The run a reset started: a `Run`, and `reset_run_id`, the new run's id (the workflow id stays)."""

    reset_run_id: str = ""


class RewindFailed(RuntimeError):
    """The code on the task queue cannot replay the history up to the reset point (a nondeterminism error)."""


async def _task_failure(handle: Any, after: int) -> str:
    """Wait until a workflow task after event `after` fails for a reason other than the reset; returns why."""
    while True:
        for e in (await handle.fetch_history()).events:
            attrs = e.workflow_task_failed_event_attributes
            if e.event_id > after and _type(e) == "WORKFLOW_TASK_FAILED" and attrs.cause != RESET_CAUSE:
                return attrs.failure.message.split("\n")[0][:160]
        await asyncio.sleep(0.1)


rewind_drill = RewindDrill()


async def reset_workflow(lab: Lab, workflow_id: str, event_id: int, reason: str = "rewind") -> str:
    """Reset a workflow's latest run to `event_id` (a `WorkflowTaskCompleted`); returns the new run's id.

    The same as `temporal workflow reset --workflow-id ID --event-id N`: the server copies the history
    up to that workflow task, fails the old run's task there, and starts a new run that carries on
    from it. Signals (and updates) received after the point are sent to the new run again.
    """
    response = await lab.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=lab.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            reason=reason,
            workflow_task_finish_event_id=event_id,
            request_id=str(uuid.uuid4()),
        )
    )
    return response.run_id


def _type(event: Any) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def model_requests(history: WorkflowHistory) -> list[int]:
    """The event id of each model request's `ActivityTaskScheduled`, in order."""
    return [
        e.event_id
        for e in history.events
        if _type(e) == "ACTIVITY_TASK_SCHEDULED"
        and "__model_request" in e.activity_task_scheduled_event_attributes.activity_type.name
    ]


def reset_point(history: WorkflowHistory, request: int) -> int:
    """The event to reset to so that model request number `request` (from 1) runs again, and nothing before it.

    A reset point is a `WorkflowTaskCompleted`: the workflow task whose commands scheduled that request.
    """
    scheduled = model_requests(history)[request - 1]
    completed = [e.event_id for e in history.events if _type(e) == "WORKFLOW_TASK_COMPLETED" and e.event_id < scheduled]
    return completed[-1]


def events_table(history: WorkflowHistory, first: int = 1, last: int | None = None) -> list[dict[str, Any]]:
    """The events of a history from `first` to `last`: id, type, and what it is about (activity, tool, result)."""
    rows = []
    for e in history.events:
        if e.event_id < first or (last is not None and e.event_id > last):
            continue
        rows.append({"event": e.event_id, "type": _type(e), "about": _about(e)})
    return rows


def _about(event: Any) -> str:
    kind = _type(event)
    if kind == "ACTIVITY_TASK_SCHEDULED":
        attrs = event.activity_task_scheduled_event_attributes
        name = attrs.activity_type.name.split("__", 2)[-1]  # agent__<agent>__model_request -> model_request
        return name + (f" ({_tool(attrs)})" if "call_tool" in name else "")
    if kind == "WORKFLOW_TASK_FAILED":
        attrs = event.workflow_task_failed_event_attributes
        cause = WorkflowTaskFailedCause.Name(attrs.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_").lower()
        return f"{cause}: {attrs.failure.message[:80]}"
    if kind == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
        return event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
    return ""


def _tool(attrs: Any) -> str:
    import json

    for payload in attrs.input.payloads:
        data = json.loads(payload.data)
        if isinstance(data, dict) and "name" in data:
            return str(data["name"])
    return "?"


def kept_and_redone(old: WorkflowHistory, new: WorkflowHistory) -> dict[str, Any]:
    """What a reset kept (activities copied from the old run, not run again) and what the new run ran."""
    point = _reset_point_of(new)
    kept = [e for e in new.events if _type(e) == "ACTIVITY_TASK_COMPLETED" and e.event_id < point]
    ran = [e for e in new.events if _type(e) == "ACTIVITY_TASK_STARTED" and e.event_id > point]
    redone = [e for e in new.events if _type(e) == "ACTIVITY_TASK_SCHEDULED" and e.event_id > point]
    return {
        "old run's events": len(old.events),
        "events copied from it": point - 1,
        "activities kept (not run again)": len(kept),
        "activities the new run ran": len(ran),
        "of them model requests": sum("model_request" in _about(e) for e in redone),
    }


RESET_CAUSE = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW


def _reset_point_of(history: WorkflowHistory) -> int:
    """The event id of the `WorkflowTaskFailed` (cause: reset) where a reset run takes over from the old one."""
    for e in history.events:
        if _type(e) == "WORKFLOW_TASK_FAILED" and e.workflow_task_failed_event_attributes.cause == RESET_CAUSE:
            return e.event_id
    raise ValueError("This history is not a reset run's: it has no workflow task failed by a reset.")


# ---- An operator's console: pause, update-options, unpause, reset an activity ----


async def pending_tool(lab: Lab, workflow_id: str, toolset: str = "faults", timeout: float = 30) -> str:
    """Wait until `workflow_id` has a pending activity of `toolset`; returns its activity id."""
    handle = lab.client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for pending in (await handle.describe()).raw_description.pending_activities:
            if f"__{toolset}__" in pending.activity_type.name:
                return pending.activity_id
        await asyncio.sleep(0.02)
    raise TimeoutError(f"No {toolset} activity of {workflow_id} was pending within {timeout} s.")


async def pause_activity(lab: Lab, workflow_id: str, activity_id: str, reason: str = "") -> None:
    """`temporal activity pause`: no further attempt until unpaused (a running attempt runs to its end)."""
    await lab.client.workflow_service.pause_activity(
        PauseActivityRequest(**_target(lab, workflow_id, activity_id), reason=reason, request_id=str(uuid.uuid4()))
    )


async def unpause_activity(lab: Lab, workflow_id: str, activity_id: str) -> None:
    """`temporal activity unpause`: the next attempt is scheduled now; the attempt count carries on."""
    await lab.client.workflow_service.unpause_activity(UnpauseActivityRequest(**_target(lab, workflow_id, activity_id)))


async def reset_activity(lab: Lab, workflow_id: str, activity_id: str, keep_paused: bool = False) -> None:
    """`temporal activity reset`: the attempt count starts again from 1 (and the retry interval with it)."""
    await lab.client.workflow_service.reset_activity(
        ResetActivityRequest(**_target(lab, workflow_id, activity_id), keep_paused=keep_paused)
    )


async def retry_activity_with(
    lab: Lab, workflow_id: str, activity_id: str, *, maximum_attempts: int, initial_interval: float
) -> None:
    """`temporal activity update-options --retry-maximum-attempts N --retry-initial-interval S`, for one activity."""
    options = ActivityOptions()
    options.retry_policy.maximum_attempts = maximum_attempts
    options.retry_policy.initial_interval.FromTimedelta(timedelta(seconds=initial_interval))
    mask = FieldMask(paths=["retry_policy.maximum_attempts", "retry_policy.initial_interval"])
    await lab.client.workflow_service.update_activity_options(
        UpdateActivityOptionsRequest(
            **_target(lab, workflow_id, activity_id), activity_options=options, update_mask=mask
        )
    )


def _target(lab: Lab, workflow_id: str, activity_id: str) -> dict[str, Any]:
    return {
        "namespace": lab.client.namespace,
        "execution": WorkflowExecution(workflow_id=workflow_id),
        "id": activity_id,
        "identity": "operator",
    }


async def activity_state(lab: Lab, workflow_id: str, activity_id: str) -> dict[str, Any]:
    """What `describe()` says of one pending activity: state, attempt, its retry policy now, why it paused."""
    description = await lab.client.get_workflow_handle(workflow_id).describe()
    for pending in description.raw_description.pending_activities:
        if pending.activity_id == activity_id:
            policy = pending.activity_options.retry_policy
            return {
                "state": PendingActivityState.Name(pending.state).removeprefix("PENDING_ACTIVITY_STATE_"),
                "attempt": pending.attempt,
                "maximum attempts": policy.maximum_attempts,
                "retry interval": f"{policy.initial_interval.ToTimedelta().total_seconds():g} s",
                "paused because": pending.pause_info.manual.reason if pending.paused else "",
                "last failure": pending.last_failure.message,
            }
    return {"state": "no longer pending", "attempt": "", "maximum attempts": "", "retry interval": ""}


def attempts(history: WorkflowHistory, toolset: str = "faults") -> list[dict[str, Any]]:
    """Each activity of `toolset` in a history: the attempt it ended on, the retry policy its scheduling recorded."""
    rows = []
    for e in history.events:
        if _type(e) != "ACTIVITY_TASK_SCHEDULED":
            continue
        attrs = e.activity_task_scheduled_event_attributes
        if f"__{toolset}__" not in attrs.activity_type.name:
            continue
        started = next(
            s
            for s in history.events
            if _type(s) == "ACTIVITY_TASK_STARTED"
            and s.activity_task_started_event_attributes.scheduled_event_id == e.event_id
        )
        rows.append(
            {
                "activity": attrs.activity_id,
                "tool": _tool(attrs),
                "recorded maximum attempts": attrs.retry_policy.maximum_attempts,
                "ended on attempt": started.activity_task_started_event_attributes.attempt,
            }
        )
    return rows


# ---- A conversation: each message an update-with-start ----


async def say(lab: Lab, conversation_id: str, message: str, script: Sequence[Step | dict[str, Any]]) -> str:
    """Send one message to the conversation `conversation_id`, starting it if it is not running; returns the reply.

    One call, one request to the server (update-with-start): if no workflow with this id is running,
    the server starts one and hands it the update in its first workflow task; otherwise it updates
    the running one. `script` is the model's script for the whole conversation (used when it starts).
    """
    _, request = lab.request(script, "", workflow_id=conversation_id)
    start = WithStartWorkflowOperation(
        ConversationWorkflow.run,
        Conversation(request),
        id=conversation_id,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=lab.task_queue,
    )
    return await lab.client.execute_update_with_start_workflow(
        ConversationWorkflow.say, message, start_workflow_operation=start
    )


async def close(lab: Lab, conversation_id: str) -> Run:
    """End a conversation and collect its history (a `Run`, like `lab.run` gives)."""
    await lab.client.get_workflow_handle(conversation_id).execute_update(ConversationWorkflow.close)
    return await lab.follow(conversation_id)


async def history_now(lab: Lab, workflow_id: str) -> WorkflowHistory:
    """The history of a workflow's latest run as it stands now (an open conversation included)."""
    return await lab.client.get_workflow_handle(workflow_id).fetch_history()


def updates(history: WorkflowHistory) -> list[dict[str, Any]]:
    """Each update a history accepted: the event, its name and what it carried.

    An update a reset carried over to the new run is first recorded as admitted (with its input),
    then accepted; a fresh update is accepted with its input at once.
    """
    import json

    admitted = {}
    rows = []
    for e in history.events:
        if _type(e) == "WORKFLOW_EXECUTION_UPDATE_ADMITTED":
            request = e.workflow_execution_update_admitted_event_attributes.request
            admitted[request.meta.update_id] = request
        if _type(e) != "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            continue
        attrs = e.workflow_execution_update_accepted_event_attributes
        request = admitted.get(attrs.protocol_instance_id) or attrs.accepted_request
        args = [json.loads(p.data) for p in request.input.args.payloads]
        how = "carried over by the reset" if attrs.protocol_instance_id in admitted else "sent by a client"
        rows.append({"event": e.event_id, "update": request.input.name, "input": ", ".join(map(str, args)), "how": how})
    return rows


# ---- Worker Versioning: a new version of the agent beside the old one ----

DEPLOY_QUEUE = "durable-agents-deploy"
DEPLOYMENT = "agent"
"""The worker deployment (a name for the fleet of workers of one service) the drill's versions belong to."""

SLOW_SCRIPT: list[Step] = [call("slow", seconds=3.0), final("Done, on the version I started on.")]
"""A run that is still in flight when v2 is deployed (which takes a second or two): one tool call of 3 s."""


@dataclass
class Deployment:
    """Versions of the demo workflow on `DEPLOY_QUEUE`, each a worker of this process with its own build id.

    Every worker declares `WorkerDeploymentConfig(version=..., use_worker_versioning=True)` and pins
    its runs by default (`VersioningBehavior.PINNED`): a run stays on the version it started on. The
    server sends new runs to the deployment's *current* version, which an operator sets.
    """

    lab: Lab
    workers: dict[str, Worker]

    @classmethod
    async def start(cls, lab: Lab, build_id: str = "v1", workflow_class: type | None = None) -> Deployment:
        """Start version `build_id` (today's `DemoAgentWorkflow` unless given) and make it current."""
        deployment = cls(lab, {})
        await deployment.roll_out(build_id, workflow_class or DemoAgentWorkflow)
        return deployment

    async def roll_out(self, build_id: str, workflow_class: type) -> None:
        """Start a worker for version `build_id`, then make it the current version (new runs go there)."""
        worker = Worker(
            self.lab.client,
            task_queue=DEPLOY_QUEUE,
            workflows=[workflow_class],
            identity=f"{build_id}-worker",
            deployment_config=WorkerDeploymentConfig(
                version=WorkerDeploymentVersion(DEPLOYMENT, build_id),
                use_worker_versioning=True,
                default_versioning_behavior=VersioningBehavior.PINNED,
            ),
        )
        self.workers[build_id] = worker
        self._tasks.append(asyncio.create_task(worker.run()))
        await set_current_version(self.lab, build_id)

    def __post_init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    async def start_run(self, script: Sequence[Step | dict[str, Any]], auto_upgrade: bool = False) -> Any:
        """Start a demo run on the deployment's queue; `auto_upgrade=True` lets it move to each new current version."""
        wid, request = self.lab.request(script)
        Path(request.sandbox_dir).mkdir(parents=True, exist_ok=True)
        return await self.lab.client.start_workflow(
            "DemoAgentWorkflow",
            request,
            id=wid,
            task_queue=DEPLOY_QUEUE,
            execution_timeout=timedelta(seconds=60),
            versioning_override=AutoUpgradeVersioningOverride() if auto_upgrade else None,
        )

    async def versions(self) -> list[dict[str, Any]]:
        """`temporal worker deployment describe`: each version's status (current, draining, ...)."""
        response = await self.lab.client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=self.lab.client.namespace, deployment_name=DEPLOYMENT)
        )
        return [
            {
                "version": v.deployment_version.build_id,
                "status": WorkerDeploymentVersionStatus.Name(v.status).removeprefix(
                    "WORKER_DEPLOYMENT_VERSION_STATUS_"
                ),
                "drainage": VersionDrainageStatus.Name(v.drainage_status)
                .removeprefix("VERSION_DRAINAGE_STATUS_")
                .replace("UNSPECIFIED", ""),
            }
            for v in sorted(
                response.worker_deployment_info.version_summaries, key=lambda v: v.deployment_version.build_id
            )
        ]

    async def stop(self) -> None:
        """Stop every version's worker."""
        await asyncio.gather(*(w.shutdown() for w in self.workers.values()))
        self.workers.clear()


async def set_current_version(lab: Lab, build_id: str, timeout: float = 30) -> None:
    """`temporal worker deployment set-current-version --deployment-name agent --build-id ID`.

    The server knows a version once one of its workers has polled: until then it refuses, so this
    retries for up to `timeout` seconds.
    """
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=lab.client.namespace, deployment_name=DEPLOYMENT, build_id=build_id, identity="operator"
    )
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await lab.client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def versioning_of(handle: Any) -> dict[str, Any]:
    """What `describe()` says of a run's versioning: its behavior, the version it is on, an override."""
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    override = "auto-upgrade" if info.versioning_override.auto_upgrade else ""
    return {
        "run": handle.id,
        "behavior": VersioningBehavior(info.behavior).name,
        "on version": info.deployment_version.build_id,
        "override": override,
    }


def task_versions(history: WorkflowHistory) -> list[dict[str, Any]]:
    """Each workflow task of a history: which worker ran it, on which deployment version, or how it failed."""
    rows = []
    for e in history.events:
        row = {
            "run": history.workflow_id,
            "event": e.event_id,
            "workflow task": "",
            "worker": "",
            "version": "",
            "why": "",
        }
        if _type(e) == "WORKFLOW_TASK_COMPLETED":
            done = e.workflow_task_completed_event_attributes
            row |= {"workflow task": "completed", "worker": done.identity, "version": done.deployment_version.build_id}
        elif _type(e) == "WORKFLOW_TASK_FAILED":
            failed = e.workflow_task_failed_event_attributes
            row |= {"workflow task": "failed", "worker": failed.identity, "why": failed.failure.message.split(":")[0]}
        else:
            continue
        rows.append(row)
    return rows


# ---- Large payloads: the SDK's External Storage ----

EXTERNAL_QUEUE = "durable-agents-external"
REFERENCE_TYPE = "temporal.api.sdk.v1.ExternalStorageReference"


class FolderDriver(StorageDriver):
    """An External Storage driver that keeps each large payload in a file of `folder`, named by its hash.

    The SDK calls `store` for every payload over the threshold before it leaves the process, and
    puts a small reference in its place; `retrieve` turns references back into payloads when a worker
    or client decodes them. (S3 and GCS drivers ship in `temporalio.contrib`; this is the same idea on disk.)
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def name(self) -> str:
        return "folder"

    async def store(self, context: Any, payloads: Sequence[Payload]) -> list[StorageDriverClaim]:
        claims = []
        for payload in payloads:
            data = payload.SerializeToString()
            key = hashlib.sha256(data).hexdigest()
            (self.folder / key).write_bytes(data)
            claims.append(StorageDriverClaim(claim_data={"key": key}))
        return claims

    async def retrieve(self, context: Any, claims: Sequence[StorageDriverClaim]) -> list[Payload]:
        payloads = []
        for claim in claims:
            payload = Payload()
            payload.ParseFromString((self.folder / claim.claim_data["key"]).read_bytes())
            payloads.append(payload)
        return payloads


async def external_client(lab: Lab, folder: Path, threshold: int = 10_000) -> Client:
    """A client of the lab's server whose data converter stores payloads over `threshold` bytes in `folder`."""
    converter = DataConverter(
        payload_converter_class=PydanticAIPayloadConverter,
        external_storage=ExternalStorage(drivers=[FolderDriver(folder)], payload_size_threshold=threshold),
    )
    config = lab.client.service_client.config
    return await Client.connect(
        config.target_host, namespace=lab.client.namespace, plugins=[PydanticAIPlugin()], data_converter=converter
    )


async def run_with_a_big_file(lab: Lab, client: Client, task_queue: str, size: int) -> WorkflowHistory:
    """Run `read_file` on a `size`-byte file then answer, through `client` on `task_queue`; the history."""
    wid, request = lab.request([call("read_file", path="big.txt"), final("Read it.")])
    Path(request.sandbox_dir).mkdir(parents=True, exist_ok=True)
    (Path(request.sandbox_dir) / "big.txt").write_text("x" * size)
    handle = await client.start_workflow(
        "DemoAgentWorkflow", request, id=wid, task_queue=task_queue, execution_timeout=timedelta(seconds=60)
    )
    await handle.result()
    return await client.get_workflow_handle(wid).fetch_history()


def references(history: WorkflowHistory) -> int:
    """How many payloads of a history are External Storage references (the data itself is elsewhere).

    Each reference is a payload whose metadata names `REFERENCE_TYPE`, wherever in an event it sits.
    """
    return sum(e.SerializeToString().count(REFERENCE_TYPE.encode()) for e in history.events)


async def external_storage_rows(lab: Lab, size: int = 200_000, threshold: int = 10_000) -> list[dict[str, Any]]:
    """The same run twice, a `size`-byte file read by a tool: inline (the lab's client), then with External Storage."""
    folder = lab.sandbox_root / "external-payloads" / uuid.uuid4().hex[:8]
    client = await external_client(lab, folder, threshold)
    inline = await run_with_a_big_file(lab, lab.client, lab.task_queue, size)
    async with make_worker(client, EXTERNAL_QUEUE, "external-worker"):
        external = await run_with_a_big_file(lab, client, EXTERNAL_QUEUE, size)
    stored = sorted(folder.iterdir())
    return [
        {"run": "inline", "history bytes": _size(inline), "references": references(inline), "bytes stored outside": 0},
        {
            "run": f"External Storage (over {threshold:,} bytes)",
            "history bytes": _size(external),
            "references": references(external),
            "bytes stored outside": sum(p.stat().st_size for p in stored),
        },
    ]


def _size(history: WorkflowHistory) -> int:
    return sum(e.ByteSize() for e in history.events)


# ---- The exercise: rewind far enough ----

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
    kinds = {e.event_id: _type(e) for e in history.events}
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
