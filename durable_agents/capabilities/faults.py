"""Tools that fail on purpose, one for each way a failure can travel (see `durable_agents.errors`)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic_ai import RunContext, Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolExecutionError, ToolRetryableError, ToolValidationError


def _attempt() -> int:
    """The Temporal attempt number of the running activity (1 outside an activity)."""
    return activity.info().attempt if activity.in_activity() else 1


async def flaky(ctx: RunContext[DemoDeps], fail_times: int = 2) -> str:
    """Fail with a transient error on the first `fail_times` attempts, then succeed."""
    attempt = _attempt()
    if attempt <= fail_times:
        raise ToolRetryableError(f"transient failure on attempt {attempt}")
    return f"succeeded on attempt {attempt}"


async def check_positive(ctx: RunContext[DemoDeps], value: int) -> str:
    """Accept a positive number; anything else is a mistake the model can repair."""
    if value <= 0:
        raise ToolValidationError(f"value must be positive, got {value}; call again with a number above 0.")
    return f"{value} is positive"


async def lookup(ctx: RunContext[DemoDeps], key: str) -> str:
    """Look up a record that does not exist: a final failure the model is told about."""
    raise ToolExecutionError(f"no record {key!r}; it does not exist, do not retry.")


async def slow(ctx: RunContext[DemoDeps], seconds: float = 1.0, fail: bool = False) -> str:
    """Work for `seconds` in steps of 0.1 s, recording progress in heartbeat details; `fail` then fails for good.

    Each heartbeat tells Temporal the tool is alive *and* how far it got. A retry (after a crash,
    on any worker) reads the last recorded progress from `activity.info().heartbeat_details` and
    resumes there instead of starting over; the result says where it resumed.
    """
    done = resumed = progress()
    while done < seconds:
        step = min(0.1, seconds - done)
        await asyncio.sleep(step)
        done = round(done + step, 3)
        if activity.in_activity():
            activity.heartbeat(done)
    if fail:
        raise ToolExecutionError(f"gave up after {seconds} s")
    return f"slept {seconds} s" + (f" (resumed at {resumed} s on attempt {_attempt()})" if resumed else "")


def progress() -> float:
    """How far an earlier attempt of this activity got, from its last heartbeat (0 on a first attempt)."""
    details = activity.info().heartbeat_details if activity.in_activity() else ()
    return float(details[0]) if details else 0.0


async def stuck(ctx: RunContext[DemoDeps], seconds: float = 10.0) -> str:
    """Take `seconds`, far longer than this tool's one-second start-to-close timeout allows."""
    await asyncio.sleep(seconds)
    return f"finished after {seconds} s"


STUCK_ACTIVITY = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=1),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
)
"""`stuck`'s own activity config: one second per attempt, two attempts."""

SLOW_ACTIVITY = ActivityConfig(start_to_close_timeout=timedelta(seconds=20), heartbeat_timeout=timedelta(seconds=1))
"""`slow`'s own activity config (tool metadata): a longer timeout, and a heartbeat every second or it is retried."""

ATTEMPTS_ENV = "DURABLE_AGENTS_FAULT_ATTEMPTS"
"""How many attempts the faults toolset's retry policy allows (default 5), read when a worker imports it."""

FAST_RETRIES = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=100),
        backoff_coefficient=1.0,
        maximum_attempts=int(os.environ.get(ATTEMPTS_ENV, "5")),
    ),
)
"""The faults toolset's activity config: quick retries so a notebook does not wait.

The workflow code attaches this retry policy to each activity it schedules, the
`ActivityTaskScheduled` event records it, and the server enforces it (it decides when to retry).
A running workflow keeps the policy recorded for each step; the next step gets what the worker
that schedules it was built with (`WorkerPool.start(lab, env={ATTEMPTS_ENV: "3"})`). Changing it is
replay-safe: a replay does not compare retry policies, only what was scheduled."""


@dataclass
class FaultsCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `flaky`, `check_positive`, `lookup`, `slow` and `stuck`, for the failure notebooks.

    `activity_config` is the whole toolset's activity settings: `build_agent` hands it to
    `TemporalDurability(toolset_activity_config={toolset_id: ...})`. A tool's own metadata wins over it.
    """

    toolset_id: str = "faults"
    activity_config: ActivityConfig = field(default_factory=lambda: ActivityConfig(**FAST_RETRIES))

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        slow_tool = Tool(slow, metadata={"temporal": SLOW_ACTIVITY})
        stuck_tool = Tool(stuck, metadata={"temporal": STUCK_ACTIVITY})
        return FunctionToolset([flaky, check_positive, lookup, slow_tool, stuck_tool], id=self.toolset_id)
