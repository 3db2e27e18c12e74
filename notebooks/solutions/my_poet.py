"""03 · exercise 2, one way to do it: a subagent's agent of your own: its instructions and its tool.

A worker process loads this file when it starts with $DURABLE_AGENTS_YOUR_TOOLS naming it, and the
`yours` agent it hosts gets this capability; a roster entry `Role("yours", ...)` makes it a subagent.
"""

from dataclasses import dataclass

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset

RHYMES = {"durable": ["curable", "endurable"], "flow": ["go", "slow", "know"], "state": ["wait", "late"]}


async def rhyme(word: str) -> str:
    """Words that rhyme with `word`."""
    return ", ".join(RHYMES.get(word.lower(), [])) or f"nothing rhymes with {word}"


@dataclass
class PoetCapability(AbstractCapability):
    """The poet's own instructions, and a rhyming dictionary."""

    toolset_id: str = "verse"

    def get_instructions(self) -> str:
        return "You are a poet: you write rhyming couplets, and look rhymes up with the rhyme tool."

    @one_toolset
    def get_toolset(self) -> FunctionToolset:
        return FunctionToolset([rhyme], id=self.toolset_id)


CAPABILITY = PoetCapability()
