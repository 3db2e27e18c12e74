"""The workflow every notebook runs: one durable agent run per workflow execution."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic_ai.durable_exec.temporal import AgentEventStream, PydanticAIWorkflow
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from durable_agents.agent import DURABLE_AGENTS, STREAMING_AGENTS
    from durable_agents.deps import AgentRequest
    from durable_agents.legacy import legacy_agent

__all__ = ["AGENTS", "WORKFLOWS", "AgentRequest", "DemoAgentWorkflow"]

AGENTS = {**DURABLE_AGENTS, legacy_agent.name: legacy_agent}
"""Every agent a worker hosts, by name; `AgentRequest.agent` picks one."""


@workflow.defn
class DemoAgentWorkflow(PydanticAIWorkflow):
    """Runs `request.agent` on `request.prompt` and returns its answer. Subagents are children of this type."""

    __pydantic_ai_agents__: ClassVar = list(AGENTS.values())

    @workflow.init
    def __init__(self, request: AgentRequest) -> None:
        # The Workflow Stream an agent with an `event_stream_topic` publishes to (no event unless one does).
        self.events = AgentEventStream(drain_timeout=timedelta(seconds=5))

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        agent = AGENTS[request.agent]
        if request.agent not in STREAMING_AGENTS:
            return await request.run(agent)
        async with self.events:  # on the way out, waits (up to 5 s) for a subscriber to take the last event
            return await request.run(agent)


WORKFLOWS: list[type] = [DemoAgentWorkflow]
"""The workflow classes a worker registers (and a `Replayer` needs)."""
