"""Tools a person must approve first (Pydantic AI's deferred tools), for notebook 08.

`requires_approval=True` makes every call of the tool *deferred*: instead of running it, the agent
run ends with a `DeferredToolRequests` output listing the calls, and a later run, given
`deferred_tool_results`, runs the approved ones and tells the model which were denied.
`durable_agents.workflows.LongRunWorkflow` waits for a person between the two runs.

The harness's `AskUser` with no answerer defers its questions the same way; `DurableAskUser` is the
few changes it needs to run in a Temporal workflow.
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
    """`AskUser` with no answerer, made to run in a Temporal workflow. Two things stop the harness's
    own from running there, and this changes only them:

    - its toolset has no `id`, and `TemporalDurability` refuses a leaf toolset without one (the id
      names the toolset's activities);
    - its tool emits `AskUserRequestedEvent` before deferring, and an event emitted inside an
      activity fails the run ("Emitting events from a tool ... is not supported under Temporal
      yet", pydantic-ai issue 7971).

    With no answerer the tool only validates the questions, emits the event and defers: no I/O, the
    same on every replay. So it runs in the workflow itself (`{"temporal": False}`), where events
    may be emitted, from a toolset with the capability's id. An answerer (I/O) is refused here.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.answerer is not None:
            raise ValueError("DurableAskUser defers every question; answer them with the workflow's `answer` update.")

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        inner = AskUserToolset[DemoDeps](answerer=None)
        tool = Tool(inner.ask_user_question, name=TOOL_NAME, metadata={"temporal": False})
        return FunctionToolset([tool], id=self.id or "ask_user")
