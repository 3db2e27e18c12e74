"""Notebook 10, section 3: a conversation, each message an update-with-start.

    reply = await say(lab, "chat-42", "hello", script)      # starts the conversation, or continues it

The workflow is `durable_agents.workflows.ConversationWorkflow`; here are the client's side of it
and the readers of its history (which update was accepted where, and how)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.client import WithStartWorkflowOperation, WorkflowHistory
from temporalio.common import AutoUpgradeVersioningOverride, WorkflowIDConflictPolicy

from durable_agents.lab.lab import Lab
from durable_agents.lab.run import Run
from durable_agents.lessons.operating.events import event_type
from durable_agents.script import Step
from durable_agents.workflows import Conversation, ConversationWorkflow


async def say(
    lab: Lab,
    conversation_id: str,
    message: str,
    script: Sequence[Step | dict[str, Any]],
    *,
    task_queue: str | None = None,
    auto_upgrade: bool = False,
    upgrade: bool = True,
) -> str:
    """Send one message to the conversation `conversation_id`, starting it if it is not running; returns the reply.

    One call, one request to the server (update-with-start): if no workflow with this id is running,
    the server starts one and hands it the update in its first workflow task; otherwise it updates
    the running one. `script` is the model's script for the whole conversation (used when it starts),
    and so are `task_queue` (default: the lab's), `auto_upgrade` (an auto-upgrade run) and `upgrade`
    (False: a pinned conversation stays on its version) of Worker Versioning (section 4).
    """
    _, request = lab.request(script, "", workflow_id=conversation_id)
    start = WithStartWorkflowOperation(
        ConversationWorkflow.run,
        Conversation(request, upgrade=upgrade),
        id=conversation_id,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=task_queue or lab.task_queue,
        versioning_override=AutoUpgradeVersioningOverride() if auto_upgrade else None,
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
        if event_type(e) == "WORKFLOW_EXECUTION_UPDATE_ADMITTED":
            request = e.workflow_execution_update_admitted_event_attributes.request
            admitted[request.meta.update_id] = request
        if event_type(e) != "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            continue
        attrs = e.workflow_execution_update_accepted_event_attributes
        request = admitted.get(attrs.protocol_instance_id) or attrs.accepted_request
        args = [json.loads(p.data) for p in request.input.args.payloads]
        how = "carried over by the reset" if attrs.protocol_instance_id in admitted else "sent by a client"
        rows.append({"event": e.event_id, "update": request.input.name, "input": ", ".join(map(str, args)), "how": how})
    return rows
