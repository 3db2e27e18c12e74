"""Tools a person must approve first (Pydantic AI's deferred tools), for notebook 08.

`requires_approval=True` makes every call of the tool *deferred*: instead of running it, the agent
run ends with a `DeferredToolRequests` output listing the calls, and a later run, given
`deferred_tool_results`, runs the approved ones and tells the model which were denied.
`durable_agents.workflows.LongRunWorkflow` waits for a person between the two runs.

The harness's `AskUser` with no answerer defers its questions the same way; `DurableAskUser` only
gives its toolset the `id` that `TemporalDurability` needs to name the tool's activity.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import RunContext, Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from pydantic_ai_harness.ask_user import TOOL_NAME, AskUser, AskUserToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.capabilities.sandbox import sandbox_path
from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolExecutionError


async def delete_file(ctx: RunContext[DemoDeps], path: str) -> str:
    """Delete the file at `path` (relative to the sandbox). A person approves each call first."""
    target = sandbox_path(ctx.deps.sandbox_dir, path)
    if not target.is_file():
        raise ToolExecutionError(f"No file {path!r} in the sandbox.")
    target.unlink()
    return f"deleted {path}"


@dataclass
class ApprovalsCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `delete_file`, which runs only once a person approves the call."""

    toolset_id: str = "approvals"

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        return FunctionToolset([Tool(delete_file, requires_approval=True)], id=self.toolset_id)


class DurableAskUser(AskUser[DemoDeps]):
    """`AskUser` whose tool can run in a Temporal workflow.

    The harness's `AskUserToolset` is a toolset without an `id`, and `TemporalDurability` refuses a
    leaf toolset without one (the id names its activities). This serves the same
    `ask_user_question` tool from a toolset whose id is the capability's (`ask_user`).
    """

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        inner = AskUserToolset[DemoDeps](answerer=self.answerer, timeout=self.timeout)
        return FunctionToolset([Tool(inner.ask_user_question, name=TOOL_NAME)], id=self.id or "ask_user")
