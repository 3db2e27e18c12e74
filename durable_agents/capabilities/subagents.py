"""`spawn`: a subagent as a Temporal child workflow.

`spawn` is workflow-native (`metadata={"temporal": False}`): it runs in the parent's workflow
code and starts a child `DemoAgentWorkflow` on the same task queue, with parent-close policy
TERMINATE (or the run's `parent_close`). The child is a full agent run, with its own model
requests, tools and spawns, and its own history. Outside a workflow (a plain agent) the subagent simply runs in-process.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import RunContext, Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

from durable_agents.deps import AgentRequest, DemoDeps
from durable_agents.errors import ToolExecutionError, ToolValidationError, root_cause

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
        scripts=deps.scripts,
        roster=deps.roster,
        instructions=role.instructions,
        parent_close=deps.parent_close,
    )


async def spawn(ctx: RunContext[DemoDeps], agent_name: str, task: str) -> str:
    """Hand `task` to the subagent `agent_name` (e.g. 'generic', 'researcher') and return its answer."""
    request = child_request(ctx.deps, agent_name, task)
    if not workflow.in_workflow():
        from durable_agents.workflows import run_agent

        return await run_agent(request)
    child_id = f"{workflow.info().workflow_id}.{agent_name}-{workflow.uuid4().hex[:4]}"
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


async def spawn_inline(ctx: RunContext[DemoDeps], agent_name: str, task: str) -> str:
    """Like `spawn`, but the subagent runs inside this workflow: its activities join this history.

    For comparison (notebook 03): durable, but one history holds every level of the tree.
    """
    from durable_agents.workflows import run_agent

    return await run_agent(child_request(ctx.deps, agent_name, task))


async def spawn_in_activity(ctx: RunContext[DemoDeps], agent_name: str, task: str) -> str:
    """Like `spawn`, but the whole subagent runs inside one activity.

    For comparison (notebook 03): small history, but nothing inside the subagent is durable; a
    retry runs the whole subagent again.
    """
    from durable_agents.workflows import run_agent

    return await run_agent(child_request(ctx.deps, agent_name, task))


@dataclass
class SubagentsCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `spawn` (child workflow) and, for comparison, `spawn_inline` and `spawn_in_activity`."""

    toolset_id: str = "subagents"

    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        native = {"temporal": False}
        return FunctionToolset(
            [Tool(spawn, metadata=native), Tool(spawn_inline, metadata=native), spawn_in_activity],
            id=self.toolset_id,
        )
