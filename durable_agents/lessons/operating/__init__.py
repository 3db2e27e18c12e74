"""Notebook 10 (operating durable agents): one module per section, the names the notebook uses here.

    bad = await rewind_drill.bad_run(lab, script)          # 1 · rewind: v1 of the agent makes a wrong turn
    fixed = await rewind_drill.reset(lab, bad.workflow_id, reset_point(bad_history, request=2))
    await pause_activity(lab, workflow_id, activity_id)     # 2 · the operator's console
    reply = await say(lab, "chat-42", "hello", script)      # 3 · one message, by update-with-start
    deployment = await deployments.Deployment.start(lab, "v1", ConversationWorkflow)   # 4 · deploy
    table(await external_storage_rows(lab))                  # 5 · large payloads out of the history

Everything here talks to the server through the client's API (no blocking subprocess on the event
loop that hosts the lab's worker). The workflow code itself is in `durable_agents.workflows` (and
the changed versions in `durable_agents.versions`), except the rewind's fixed workflow.
"""

from durable_agents.lessons.operating import deployments
from durable_agents.lessons.operating.console import (
    activity_state,
    attempts,
    pause_activity,
    pending_tool,
    reset_activity,
    retry_activity_with,
    unpause_activity,
)
from durable_agents.lessons.operating.conversation import close, history_now, say, updates
from durable_agents.lessons.operating.events import event_type, events_table
from durable_agents.lessons.operating.rewind import (
    REWIND_SCRIPT,
    ResetRun,
    RewindFailed,
    check_rewind,
    kept_and_redone,
    model_requests,
    reset_point,
    reset_workflow,
    rewind_drill,
)
from durable_agents.lessons.operating.storage import FolderDriver, external_storage_rows, references
from durable_agents.versions import GuardedWorkflow, NoOverwrite

__all__ = [
    "REWIND_SCRIPT",
    "FolderDriver",
    "GuardedWorkflow",
    "NoOverwrite",
    "ResetRun",
    "RewindFailed",
    "activity_state",
    "attempts",
    "check_rewind",
    "close",
    "deployments",
    "event_type",
    "events_table",
    "external_storage_rows",
    "history_now",
    "kept_and_redone",
    "model_requests",
    "pause_activity",
    "pending_tool",
    "references",
    "reset_activity",
    "reset_point",
    "reset_workflow",
    "retry_activity_with",
    "rewind_drill",
    "say",
    "unpause_activity",
    "updates",
]
