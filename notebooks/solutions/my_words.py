"""02 · exercise 2, one way to do it: a toolset of your own, one tool with its own activity settings,
one workflow-native.

A worker process loads this file when it starts with $DURABLE_AGENTS_YOUR_TOOLS naming it; nothing
here mentions a workflow.
"""

from dataclasses import dataclass
from datetime import timedelta

from pydantic_ai import Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from durable_agents.capabilities.one_toolset import one_toolset

DICTIONARY = {"durable": "able to withstand wear", "agent": "one who acts"}


async def define(word: str) -> str:
    """What `word` means (a dictionary service would be I/O: an activity)."""
    return DICTIONARY.get(word.lower(), f"no entry for {word}")


async def shout(text: str) -> str:
    """`text` in capitals, with an exclamation mark (pure computation)."""
    return text.upper() + "!"


DEFINE_ACTIVITY = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=5),
    retry_policy=RetryPolicy(maximum_attempts=2),
)


@dataclass
class WordsCapability(AbstractCapability):
    """Gives the agent `define` (an activity with its own settings) and `shout` (in the workflow)."""

    toolset_id: str = "words"

    @one_toolset
    def get_toolset(self) -> FunctionToolset:
        return FunctionToolset(
            [Tool(define, metadata={"temporal": DEFINE_ACTIVITY}), Tool(shout, metadata={"temporal": False})],
            id=self.toolset_id,
        )


CAPABILITY = WordsCapability()
