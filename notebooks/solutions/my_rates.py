"""05 · exercise 2, one way to do it: a tool, its error classes and its toolset's activity settings.

A worker process loads this file when it starts with $DURABLE_AGENTS_YOUR_TOOLS naming it; nothing
here mentions a workflow.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.errors import ToolExecutionError, ToolRetryableError

RATES = {"USD": 1.08, "GBP": 0.85}


async def fetch_rate(currency: str) -> str:
    """How many units of `currency` one euro buys."""
    if currency not in RATES:
        raise ToolExecutionError(f"no rate for {currency}: it is not a currency we know")  # never worth a retry
    if activity.info().attempt == 1:
        raise ToolRetryableError("the rate service is busy")  # transient: Temporal tries again
    return f"1 EUR = {RATES[currency]} {currency}"


@dataclass
class RatesCapability(AbstractCapability):
    """Gives the agent `fetch_rate`, in a toolset of its own with its own activity settings."""

    toolset_id: str = "rates"
    activity_config: ActivityConfig = field(
        default_factory=lambda: ActivityConfig(
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3),
        )
    )

    @one_toolset
    def get_toolset(self) -> FunctionToolset:
        return FunctionToolset([fetch_rate], id=self.toolset_id)


CAPABILITY = RatesCapability()
