"""A capability a reader could write: notes saved as text files in the sandbox.

A capability's tools are ordinary async functions. Nothing here mentions Temporal: the
`TemporalDurability` capability turns each tool into a generated activity when the agent runs
inside a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.capabilities.sandbox import sandbox_path, told_to_the_model
from durable_agents.deps import DemoDeps


async def save_note(ctx: RunContext[DemoDeps], title: str, body: str) -> str:
    """Save a note called `title` with text `body`."""
    target = sandbox_path(ctx.deps.sandbox_dir, f"notes/{title}.txt")
    with told_to_the_model(f"notes/{title}.txt"):  # a title may clash with a note's folder: the model is told
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    return f"saved note {title!r}"


@dataclass
class NotesCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `save_note`."""

    toolset_id: str = "notes"

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        return FunctionToolset([save_note], id=self.toolset_id)
