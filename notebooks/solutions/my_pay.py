"""08 · exercise 2, one way to do it: a tool that pays small invoices at once and asks a person above 1,000 EUR.

A worker process loads this file when it starts with $DURABLE_AGENTS_YOUR_TOOLS naming it. Raising
`ApprovalRequired` defers the call: the agent run ends with it in `DeferredToolRequests`, the
workflow waits for a person, and the next run calls the tool again with `ctx.tool_call_approved`.
"""

from dataclasses import dataclass

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import ApprovalRequired
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset

LIMIT = 1000


async def pay(ctx: RunContext, invoice: str, amount: float) -> str:
    """Pay `invoice`: `amount` euros. Above 1,000 EUR a person approves the payment first."""
    if amount > LIMIT and not ctx.tool_call_approved:
        raise ApprovalRequired()
    return f"paid {invoice}: {amount} EUR"


@dataclass
class PaymentsCapability(AbstractCapability):
    toolset_id: str = "payments"

    @one_toolset
    def get_toolset(self) -> FunctionToolset:
        return FunctionToolset([pay], id=self.toolset_id)


CAPABILITY = PaymentsCapability()
