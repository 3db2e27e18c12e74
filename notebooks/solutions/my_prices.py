"""04 · exercise 2, one way to do it: a tool written to be called from code, in a toolset of your own.

Code adds up what a tool returns, so the tool returns data (a number), not a sentence. A worker
process loads this file when it starts with $DURABLE_AGENTS_YOUR_TOOLS naming it, and the
`yours_ptc` agent (the `ptc` agent plus this capability) offers `price` inside `run_code`.
"""

from dataclasses import dataclass

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.errors import ToolExecutionError

PRICES = {"apple": 0.5, "bread": 2.25, "cheese": 4.75}


async def price(item: str) -> float:
    """The price of one `item`, in euros."""
    if item not in PRICES:
        raise ToolExecutionError(f"no price for {item!r}; we sell {', '.join(PRICES)}")
    return PRICES[item]


@dataclass
class ShopCapability(AbstractCapability):
    """Gives the agent `price`."""

    toolset_id: str = "shop"

    @one_toolset
    def get_toolset(self) -> FunctionToolset:
        return FunctionToolset([price], id=self.toolset_id)


CAPABILITY = ShopCapability()
