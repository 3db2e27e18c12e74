"""Programmatic tool calling (PTC): the model writes Python that runs inside the workflow.

`CodeMode` (from `pydantic-ai-harness`) gives the model one tool, `run_code`, whose code runs in the
Monty sandbox. Under `TemporalDurability`, `run_code` is workflow code (no activity), and every
tool the code calls goes through Pydantic AI's normal tool execution, so it keeps its own
transport: a sandbox tool is an activity, `spawn` a child workflow, exactly as a direct call.

`CancelSiblingsOnFailure` adds what `CodeMode` leaves out: when one call made by a snippet fails,
the calls from the same snippet still in flight are cancelled (Temporal records the cancel
requests), instead of running to completion after the snippet has already failed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai_harness import CodeMode
from pydantic_monty import AsyncMonty

from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolExecutionError

LIMITS = {"max_memory": 64 * 1024 * 1024}
"""The sandbox's heap limit per snippet (Monty raises `MemoryError` in the code beyond it)."""

TURN_SECONDS = 1.0
"""How long a snippet may compute between two tool calls before its Monty worker is killed.

Inside a workflow `CodeMode` turns Monty's own time limit off (elapsed time could make a replay
take another path), so this is the pool's parent-side deadline instead. It stays below
Temporal's 2 s deadlock detector; code that computes for a whole second is not orchestration."""


def monty_pool() -> AsyncMonty:
    """Monty worker processes with a deadline per turn: a runaway loop is killed, not waited on."""
    return AsyncMonty(request_timeout=TURN_SECONDS)


def nested_parent(tool_call_id: str | None) -> str | None:
    """The `run_code` call id a nested call belongs to: code-mode ids are `<parent id>__<n>`."""
    parent, sep, _ = (tool_call_id or "").rpartition("__")
    return parent if sep else None


@dataclass
class _Snippet:
    """The calls one `run_code` snippet has in flight, and those cancelled because a sibling failed."""

    running: set[asyncio.Task[Any]] = field(default_factory=set)
    cancelled: set[asyncio.Task[Any]] = field(default_factory=set)
    first_failure: str = ""


@dataclass
class CancelSiblingsOnFailure(AbstractCapability[DemoDeps]):
    """When a call made inside `run_code` fails, cancel its siblings that are still running.

    It uses Pydantic AI's tool-execution hook, which every nested call passes through. Each nested
    call runs in its own asyncio task, so cancelling the task cancels the activity or child
    workflow it waits on (Temporal records the cancel request). A cancelled sibling then fails
    with `ToolExecutionError`, so the snippet and the model see a failure, not a cancelled run.
    """

    _snippets: dict[str, _Snippet] = field(default_factory=dict, repr=False)

    async def wrap_tool_execute(
        self, ctx: RunContext[DemoDeps], *, call: Any, tool_def: Any, args: Any, handler: Any
    ) -> Any:
        parent = nested_parent(call.tool_call_id)
        task = asyncio.current_task()
        if parent is None or task is None:
            return await handler(args)
        key = f"{ctx.run_id}/{parent}"
        snippet = self._snippets.setdefault(key, _Snippet())
        snippet.running.add(task)
        cancelled = f"{call.tool_name} was cancelled because "
        try:
            return await handler(args)
        except asyncio.CancelledError:
            if task not in snippet.cancelled:
                raise  # the run itself is being cancelled
            task.uncancel()
            raise ToolExecutionError(cancelled + snippet.first_failure) from None
        except Exception as exc:
            if task in snippet.cancelled:  # e.g. a child workflow reports its cancellation as a failure
                raise ToolExecutionError(cancelled + snippet.first_failure) from exc
            snippet.first_failure = snippet.first_failure or f"{call.tool_name} failed first: {exc}"
            for sibling in snippet.running - {task}:
                snippet.cancelled.add(sibling)
                sibling.cancel()
            raise
        finally:
            snippet.running.discard(task)
            if not snippet.running:
                self._snippets.pop(key, None)


def ptc_capabilities() -> list[AbstractCapability[DemoDeps]]:
    """`run_code` over every other tool of the agent, with sibling cancellation."""
    return [CodeMode(resource_limits=LIMITS, max_tool_calls=50, monty_sandbox=monty_pool), CancelSiblingsOnFailure()]
