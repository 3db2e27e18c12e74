"""`spawn`: a subagent as a Temporal child workflow.

`spawn` is workflow-native (`metadata={"temporal": False}`): it runs in the parent's workflow
code and starts a child `DemoAgentWorkflow` on the same task queue, with parent-close policy
TERMINATE (or the run's `parent_close`). The child is a full agent run, with its own model
requests, tools and spawns, and its own history. Outside a workflow (a plain agent) the subagent simply runs in-process.

The capability is handed the table of agents it may run in-process (`agents`), rather than
importing the module that builds them: that module builds agents *with* this capability.

A child's workflow id is its parent's id, its role and how many subagents the parent had spawned
before it (`demo-001-ab12cd.generic-3`): unique among the parent's children, and the same on replay.
A child carries only the scripts of its own subtree, not every script of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

from durable_agents.capabilities.counts import execution_counts
from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.deps import AgentRequest, DemoDeps
from durable_agents.errors import ToolExecutionError, ToolValidationError, root_cause
from durable_agents.script import subagent_scripts

MAX_DEPTH = 3
"""How deep subagents may nest: a subagent at this depth may not spawn."""


def child_request(deps: DemoDeps, agent_name: str, task: str) -> AgentRequest:
    """The child workflow's input, or a model-visible error (unknown subagent, too deep, no script)."""
    role = deps.roster.get(agent_name)
    if role is None:
        raise ToolValidationError(f"No subagent {agent_name!r}. The roster has: {', '.join(sorted(deps.roster))}.")
    if deps.depth >= MAX_DEPTH:
        raise ToolExecutionError(
            f"Depth limit: this agent is {deps.depth} spawns deep and may not spawn (limit {MAX_DEPTH}). "
            "Do the task yourself."
        )
    script = deps.scripts.get(task)
    if deps.script is not None and script is None:
        raise ToolValidationError(
            f"No script for the subagent task {task!r}: write the step as spawn(agent_name, task, script=[...])."
        )
    return AgentRequest(
        prompt=task,
        sandbox_dir=deps.sandbox_dir,
        script=script,
        agent=role.agent,
        model=deps.model,
        depth=deps.depth + 1,
        scripts=subagent_scripts(script or []),
        roster=deps.roster,
        instructions=role.instructions,
        parent_close=deps.parent_close,
        teaching_tools=deps.teaching_tools,
        tool_retries=deps.tool_retries,
        request_limit=deps.request_limit,
        base_url=deps.base_url,
    )


def child_workflow_id(parent_id: str, agent_name: str, number: int) -> str:
    """The id of the parent's `number`-th child (from 1): unique among its children, and the same on replay."""
    return f"{parent_id}.{agent_name}-{number}"


def next_child_number() -> int:
    """How many children this workflow execution has spawned, this one included (kept on the workflow
    instance, so a replay, which builds a new instance, counts again from the start)."""
    counts = execution_counts()
    counts.children += 1
    return counts.children


@dataclass
class SubagentsCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `spawn` (child workflow) and, for comparison, `spawn_inline` and `spawn_in_activity`."""

    toolset_id: str = "subagents"
    agents: Mapping[str, Agent[DemoDeps, str]] = field(default_factory=dict, repr=False)
    """The agents a subagent may run on in this process (outside a workflow, or inline), by name."""

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        native = {"temporal": False}
        return FunctionToolset(
            [Tool(self.spawn, metadata=native), Tool(self.spawn_inline, metadata=native), self.spawn_in_activity],
            id=self.toolset_id,
        )

    async def spawn(self, ctx: RunContext[DemoDeps], agent_name: str, task: str) -> str:
        """Hand `task` to the subagent `agent_name` (e.g. 'generic', 'researcher') and return its answer."""
        request = child_request(ctx.deps, agent_name, task)
        if not workflow.in_workflow():
            return await self.run_here(request)
        child_id = child_workflow_id(workflow.info().workflow_id, agent_name, next_child_number())
        try:
            return await workflow.execute_child_workflow(
                "DemoAgentWorkflow",
                request,
                id=child_id,
                result_type=str,
                parent_close_policy=workflow.ParentClosePolicy[ctx.deps.parent_close],
                memo={"agent_name": agent_name, "task": task, "tool_call_id": ctx.tool_call_id},
            )
        except ChildWorkflowError as exc:
            raise ToolExecutionError(f"Subagent {agent_name!r} ({child_id}) failed: {root_cause(exc)}") from exc
        except WorkflowAlreadyStartedError as exc:
            raise ToolExecutionError(
                f"Subagent {agent_name!r} could not start: a workflow with the id {child_id} is already running."
            ) from exc

    async def spawn_inline(self, ctx: RunContext[DemoDeps], agent_name: str, task: str) -> str:
        """Like `spawn`, but the subagent runs inside this workflow: its activities join this history.

        For comparison (notebook 03): durable, but one history holds every level of the tree.
        """
        return await self.run_here(child_request(ctx.deps, agent_name, task))

    async def spawn_in_activity(self, ctx: RunContext[DemoDeps], agent_name: str, task: str) -> str:
        """Like `spawn`, but the whole subagent runs inside one activity.

        For comparison (notebook 03): small history, but nothing inside the subagent is durable; a
        retry runs the whole subagent again.
        """
        return await self.run_here(child_request(ctx.deps, agent_name, task))

    async def run_here(self, request: AgentRequest) -> str:
        """Run a subagent in this process (or this workflow), on the agent its role names."""
        return await request.run(self.agents[request.agent])
