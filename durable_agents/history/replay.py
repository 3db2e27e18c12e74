"""Replay: run today's workflow code against a recorded history and check it makes the same commands.

A worker that picks up a run it has not seen (after a crash, a deploy, or on another machine)
rebuilds the workflow's state this way; `temporalio.worker.Replayer` does the same offline.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from durable_agents.workflows import AGENTS, WORKFLOWS, agent_named


async def replay(
    histories: Mapping[str, WorkflowHistory] | list[WorkflowHistory], workflows: Sequence[type] = WORKFLOWS
) -> int:
    """Replay histories against today's workflow code (or `workflows`); raises on any non-determinism.

    Returns how many histories were replayed. (`durable_agents.lessons.versions.replay_against`
    replays against changed versions and reads out why a replay fails.)
    """
    items = list(histories.values()) if isinstance(histories, Mapping) else list(histories)
    for name in {asked_for(history) or "demo" for history in items} - set(AGENTS):
        agent_named(name)  # one built on first use: its code must be here before the replay asks for it
    # `debug_mode` turns off the deadlock detector, which checks speed, not determinism: a workflow
    # task that replays slower than 2 s (a snippet that computed for most of its budget, on a busy
    # machine) would otherwise fail, and its eviction then waits forever on the code still running.
    replayer = Replayer(workflows=list(workflows), plugins=[PydanticAIPlugin()], debug_mode=True)
    await replayer.replay_workflows(_each(items))  # one replaying worker for them all: ~0.05 s less a history
    return len(items)


async def _each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


def asked_for(history: WorkflowHistory) -> str | None:
    """The agent a recorded run of the demo workflow asked for (its input's `agent`), if it names one."""
    started = history.events[0].workflow_execution_started_event_attributes
    payloads = started.input.payloads if started.HasField("input") else []
    try:
        request = json.loads(payloads[0].data) if payloads else None
    except ValueError:
        return None
    agent = request.get("agent") if isinstance(request, dict) else None
    return agent if isinstance(agent, str) else None
