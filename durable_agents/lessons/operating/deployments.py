"""Notebook 10, section 4: Worker Versioning, a new version of the agent deployed beside the old one.

    deployment = await Deployment.start(lab, "v1", ConversationWorkflow)   # v1 workers, v1 current
    await deployment.say("chat-1", "hello", script)                        # a conversation on v1
    await deployment.roll_out("v2", RenamedConversationWorkflow, current=False)
    await deployment.ramp("v2", 50)              # half the new runs start on v2
    await deployment.promote("v2")               # v2 current: new runs start there
    await deployment.until_drained("v1")         # v1's last pinned run has closed
    await deployment.retire("v1")                # stop its workers

The runs are conversations (`ConversationWorkflow`): they stay in flight until someone closes them,
so nothing here waits on a clock to keep a run open across a deploy, and every step waits on what
the server reports (a version it knows, routing it has propagated, a drainage status), not on a
duration. Each call names the `temporal worker deployment` command it matches; all go through the
client's API, never a blocking subprocess on the event loop that hosts the workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import RoutingConfigUpdateState, VersionDrainageStatus, WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    DescribeWorkerDeploymentResponse,
    SetWorkerDeploymentCurrentVersionRequest,
    SetWorkerDeploymentRampingVersionRequest,
)
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.worker import Worker, WorkerDeploymentConfig

from durable_agents.history.store import fetch_chain
from durable_agents.lab.lab import Lab
from durable_agents.lessons.operating.conversation import say
from durable_agents.script import Step
from durable_agents.workflows import ConversationWorkflow

DEPLOY_QUEUE = "durable-agents-deploy"
DEPLOYMENT = "agent"
"""The worker deployment (a name for the fleet of workers of one service) the section's versions belong to."""


@dataclass
class Deployment:
    """Versions of a workflow on `DEPLOY_QUEUE`, each a worker of this process with its own build id.

    Every worker declares `WorkerDeploymentConfig(version=..., use_worker_versioning=True)` and pins
    its runs by default (`VersioningBehavior.PINNED`): a run stays on the version it started on. The
    server sends new runs to the deployment's *current* version (or a ramped share of them to the
    *ramping* one), which an operator sets.
    """

    lab: Lab
    workers: dict[str, Worker] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, lab: Lab, build_id: str, workflow_class: type) -> Deployment:
        """Start version `build_id` of `workflow_class` and make it current."""
        deployment = cls(lab)
        await deployment.roll_out(build_id, workflow_class)
        return deployment

    async def roll_out(self, build_id: str, workflow_class: type, current: bool = True) -> None:
        """Start a worker for version `build_id`; make it current (new runs go there) unless `current=False`.

        With `current=False` the version is only deployed: the call returns once the server knows it
        (its worker has polled), ready for `ramp` or `promote`.
        """
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
        if current:
            await self.promote(build_id)
        else:
            await self._until(lambda d: build_id in _build_ids(d), f"the server to know version {build_id}")

    async def promote(self, build_id: str) -> None:
        """`temporal worker deployment set-current-version --deployment-name agent --build-id ID`.

        Returns once the server routes new runs there: the deployment says `build_id` is current and
        its routing change has reached the task queue. Until a version's worker has polled, the
        server does not know it and refuses: this retries then.
        """
        request = SetWorkerDeploymentCurrentVersionRequest(
            namespace=self.lab.client.namespace, deployment_name=DEPLOYMENT, build_id=build_id, identity="operator"
        )
        await self._route(
            lambda: self.lab.client.workflow_service.set_worker_deployment_current_version(request),
            lambda routing: routing.current_deployment_version.build_id == build_id,
            f"new runs to go to {build_id}",
        )

    async def ramp(self, build_id: str, percentage: float) -> None:
        """`temporal worker deployment set-ramping-version --build-id ID --percentage P`: P % of new runs go there.

        The rest go to the current version. Returns once the server routes that way.
        """
        request = SetWorkerDeploymentRampingVersionRequest(
            namespace=self.lab.client.namespace,
            deployment_name=DEPLOYMENT,
            build_id=build_id,
            percentage=percentage,
            identity="operator",
        )
        await self._route(
            lambda: self.lab.client.workflow_service.set_worker_deployment_ramping_version(request),
            lambda routing: routing.ramping_deployment_version.build_id == build_id,
            f"{percentage:g} % of new runs to go to {build_id}",
        )

    async def until_drained(self, build_id: str, timeout: float = 60) -> None:
        """Wait until the server reports version `build_id` *drained*: no open run is pinned to it any more.

        The server checks a draining version's runs periodically (the lab's dev server every second),
        so this takes a moment after the last one closes.
        """
        await self._until(
            lambda d: _version(d, build_id)["drainage"] == "DRAINED", f"{build_id} to be drained", timeout
        )

    async def retire(self, build_id: str) -> None:
        """Stop version `build_id`'s worker (once it is drained, nothing needs it)."""
        await self.workers.pop(build_id).shutdown()

    async def versions(self) -> list[dict[str, Any]]:
        """`temporal worker deployment describe`: each version's status (current, ramping, draining, ...)."""
        described = await self._describe()
        return [_version(described, b) for b in sorted(_build_ids(described))]

    async def say(
        self, conversation_id: str, message: str, script: Sequence[Step | dict[str, Any]], **options: Any
    ) -> str:
        """`operating.say` on the deployment's task queue: one message to a conversation, starting it if need be."""
        return await say(self.lab, conversation_id, message, script, task_queue=DEPLOY_QUEUE, **options)

    async def sample(self, n: int, script: Sequence[Step | dict[str, Any]]) -> list[dict[str, Any]]:
        """Start `n` new conversations (one message each, then closed): the version each one started on."""
        rows = []
        for _ in range(n):
            conversation_id = f"chat-{self.lab.new_workflow_id()}"
            await self.say(conversation_id, "Hello.", script)
            handle = self.lab.client.get_workflow_handle(conversation_id)
            await handle.execute_update(ConversationWorkflow.close)
            rows.append({"conversation": conversation_id, "started on": (await versioning_of(handle))["on version"]})
        return rows

    async def stop(self) -> None:
        """Stop every version's worker."""
        await asyncio.gather(*(w.shutdown() for w in self.workers.values()))
        self.workers.clear()

    async def _describe(self) -> DescribeWorkerDeploymentResponse:
        return await self.lab.client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=self.lab.client.namespace, deployment_name=DEPLOYMENT)
        )

    async def _route(self, change: Callable[[], Awaitable[Any]], routed: Callable[[Any], bool], what: str) -> None:
        """Make a routing `change` (retried until the server accepts it), then wait until the deployment's
        routing says `routed` and the change has reached its task queues."""
        await self._retry(change)
        await self._until(lambda d: routed(d.worker_deployment_info.routing_config) and _propagated(d), what)

    async def _retry(self, call: Callable[[], Awaitable[Any]], timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await call()
                return
            except RPCError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def _until(
        self, done: Callable[[DescribeWorkerDeploymentResponse], bool], what: str, timeout: float = 30
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                if done(await self._describe()):
                    return
            except RPCError:  # the deployment does not exist until a worker of it has polled
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Waited {timeout:g} s for {what}: `await deployment.versions()` says where it is.")
            await asyncio.sleep(0.1)


def _build_ids(described: DescribeWorkerDeploymentResponse) -> list[str]:
    return [v.deployment_version.build_id for v in described.worker_deployment_info.version_summaries]


def _propagated(described: DescribeWorkerDeploymentResponse) -> bool:
    """The deployment's last routing change has reached its task queues (the server says so)."""
    state = described.worker_deployment_info.routing_config_update_state
    return state == RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED


def _version(described: DescribeWorkerDeploymentResponse, build_id: str) -> dict[str, Any]:
    routing = described.worker_deployment_info.routing_config
    for v in described.worker_deployment_info.version_summaries:
        if v.deployment_version.build_id != build_id:
            continue
        ramping = routing.ramping_deployment_version.build_id == build_id
        return {
            "version": build_id,
            "status": WorkerDeploymentVersionStatus.Name(v.status).removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_"),
            "new runs": f"{routing.ramping_version_percentage:g} %" if ramping else "",
            "drainage": VersionDrainageStatus.Name(v.drainage_status)
            .removeprefix("VERSION_DRAINAGE_STATUS_")
            .replace("UNSPECIFIED", ""),
        }
    raise ValueError(f"The deployment {DEPLOYMENT!r} has no version {build_id!r}.")


async def versioning_of(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """What `describe()` says of a run's versioning: its behavior, the version it is on, an override."""
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    override = "auto-upgrade" if info.versioning_override.auto_upgrade else ""
    return {
        "run": handle.id,
        "behavior": VersioningBehavior(info.behavior).name,
        "on version": info.deployment_version.build_id,
        "override": override,
    }


async def chain_versions(lab: Lab, workflow_id: str) -> list[dict[str, Any]]:
    """Each workflow task of every run of a chain (continue-as-new), in order: run, worker, deployment version."""
    rows = []
    for number, history in enumerate(await fetch_chain(lab.client, workflow_id), start=1):
        rows += [{"run": number, **row} for row in task_versions(history)]
    return rows


def task_versions(history: WorkflowHistory) -> list[dict[str, Any]]:
    """Each workflow task of a history: which worker ran it, on which deployment version, or how it failed."""
    rows = []
    for e in history.events:
        if e.HasField("workflow_task_completed_event_attributes"):
            done = e.workflow_task_completed_event_attributes
            rows.append(_task(history, e.event_id, "completed", done.identity, done.deployment_version.build_id))
        elif e.HasField("workflow_task_failed_event_attributes"):
            failed = e.workflow_task_failed_event_attributes
            rows.append(_task(history, e.event_id, "failed", failed.identity, "", failed.failure.message.split(":")[0]))
    return rows


def _task(
    history: WorkflowHistory, event: int, outcome: str, worker: str, version: str, why: str = ""
) -> dict[str, Any]:
    return {
        "workflow": history.workflow_id,
        "event": event,
        "workflow task": outcome,
        "worker": worker,
        "version": version,
        "why": why,
    }


async def until_a_task_fails(lab: Lab, conversation_id: str, message: str, timeout: float = 30) -> dict[str, Any]:
    """Send `message` to a conversation whose next workflow task fails (it cannot replay there); that task's row.

    Such a message is never answered: the task fails and is retried, the update waits. This sends
    it, waits for the failure in the history, terminates the run so nothing is left waiting, and
    returns the failed task (`task_versions`).
    """
    handle = lab.client.get_workflow_handle(conversation_id)
    sending = asyncio.create_task(handle.execute_update(ConversationWorkflow.say, message))
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            failed = [r for r in task_versions(await handle.fetch_history()) if r["workflow task"] == "failed"]
            if failed:
                await handle.terminate(reason=f"cannot replay on the version it moved to: {failed[0]['why']}")
                return failed[0]
            if sending.done():
                raise AssertionError(f"{conversation_id} answered the message: {sending.result()!r}")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"No workflow task of {conversation_id} failed within {timeout:g} s.")
            await asyncio.sleep(0.1)
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
