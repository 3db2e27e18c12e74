"""The workflow every notebook runs: one durable agent run per workflow execution."""

from __future__ import annotations

from typing import ClassVar

from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from durable_agents.agent import DURABLE_AGENTS
    from durable_agents.deps import AgentRequest
    from durable_agents.legacy import legacy_agent

__all__ = ["AGENTS", "WORKFLOWS", "AgentRequest", "DemoAgentWorkflow", "run_agent"]

AGENTS = {agent.name: agent for agent in (*DURABLE_AGENTS, legacy_agent)}
"""Every agent a worker hosts, by name; `AgentRequest.agent` picks one."""


async def run_agent(request: AgentRequest) -> str:
    """One agent run: in a workflow its I/O becomes activities; outside one it runs in-process."""
    agent = AGENTS[request.agent]
    result = await agent.run(
        request.prompt, deps=request.deps(), model=request.model, instructions=request.instructions
    )
    return result.output


@workflow.defn
class DemoAgentWorkflow(PydanticAIWorkflow):
    """Runs `request.agent` on `request.prompt` and returns its answer. Subagents are children of this type."""

    __pydantic_ai_agents__: ClassVar = list(AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request)


WORKFLOWS: list[type] = [DemoAgentWorkflow]
"""The workflow classes a worker registers (and a `Replayer` needs)."""
