"""The workflow every notebook runs: one durable agent run per workflow execution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from durable_agents.agent import DURABLE_AGENTS
    from durable_agents.deps import DemoDeps
    from durable_agents.legacy import legacy_agent
    from durable_agents.script import Step


AGENTS = {agent.name: agent for agent in (*DURABLE_AGENTS, legacy_agent)}
"""Every agent a worker hosts, by name; `AgentRequest.agent` picks one."""


@dataclass
class AgentRequest:
    """The workflow's input. The script travels here, so any worker follows it."""

    prompt: str
    sandbox_dir: str
    script: list[Step] | None = None
    agent: str = "demo"
    model: str | None = None
    depth: int = 0


@workflow.defn
class DemoAgentWorkflow(PydanticAIWorkflow):
    """Runs `request.agent` on `request.prompt` and returns its answer."""

    __pydantic_ai_agents__: ClassVar = list(AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        agent = AGENTS[request.agent]
        deps = DemoDeps(sandbox_dir=request.sandbox_dir, script=request.script, depth=request.depth)
        result = await agent.run(request.prompt, deps=deps, model=request.model)
        return result.output


WORKFLOWS: list[type] = [DemoAgentWorkflow]
"""The workflow classes a worker registers (and a `Replayer` needs)."""
