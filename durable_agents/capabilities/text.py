"""A workflow-native tool: pure computation that runs inside the workflow, with no activity.

`metadata={"temporal": False}` tells `TemporalDurability` not to wrap the tool. That is only safe
for a tool that is deterministic and does no I/O: it is re-run on every replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import RunContext, Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.deps import DemoDeps


async def word_count(ctx: RunContext[DemoDeps], text: str) -> int:
    """Count the words in `text`."""
    return len(text.split())


@dataclass
class TextCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `word_count`, which runs in the workflow itself."""

    toolset_id: str = "text"

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        return FunctionToolset([Tool(word_count, metadata={"temporal": False})], id=self.toolset_id)
