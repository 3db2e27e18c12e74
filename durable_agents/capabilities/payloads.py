"""Temporal's payload limits, kept where the model can act on them and where a run can fail fast.

Every activity's input and result is one Temporal payload, and the server refuses one over
`PAYLOAD_LIMIT` (2 MB; a whole gRPC message over 4 MB is refused too). The SDK then fails the
workflow task, and retries it until the run times out, saying nothing but a `TMPRL1103` line on
stderr. A model request carries the whole conversation, so one large tool result is sent again with
every later request. `PayloadLimits` keeps runs inside the limit:

- a tool result or retry prompt over `PART_LIMIT` characters is cut before it is sent, with a note
  that tells the model what happened and what to do (print or return less; read part of a file),
  as the harness's `ToolOutputLimits` does with its `Truncate` band;
- tool arguments too large to travel to their activity are refused with a retry prompt;
- a model request that would still be over the limit fails the run at once, naming the request and
  the limit, instead of hanging until the run's timeout;
- a run whose history nears Temporal's history limits (`HISTORY_BYTES`, `HISTORY_EVENTS`) fails
  before its next model request, saying so, instead of being terminated by the server
  (`Workflow history size exceeds limit`) with nothing told.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import (
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelRequestPart,
    RetryPromptPart,
    ToolReturnPart,
)
from pydantic_ai.models import ModelRequestContext
from temporalio import workflow
from temporalio.exceptions import ApplicationError

from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolValidationError

PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's limit on one payload (an activity's input or result, a workflow's input), in bytes."""

GRPC_LIMIT = 4 * 1024 * 1024
"""Temporal's limit on one gRPC message (a workflow start, a workflow task's commands), in bytes."""

PART_LIMIT = 100_000
"""The most characters one tool result or retry prompt brings back to the model."""

HISTORY_BYTES = 40 * 1024 * 1024
"""A run's history may grow to this many bytes; the server terminates a run at 50 MB (it warns at 10 MB)."""

HISTORY_EVENTS = 40_000
"""A run's history may hold this many events; the server terminates a run at 51,200 (it warns at 10,240)."""

_deps = TypeAdapter(DemoDeps)


def size(value: Any, adapter: TypeAdapter[Any] | None = None) -> int:
    """How many bytes `value` takes as JSON, the way the payload converter writes it."""
    return len((adapter or TypeAdapter(type(value))).dump_json(value))


def megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


class HistoryTooLarge(ApplicationError):
    """A run whose history nears Temporal's limit: it fails at once (no retry) with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="HistoryTooLarge", non_retryable=True)


def check_history() -> None:
    """Raise `HistoryTooLarge` if this workflow's history is past `HISTORY_BYTES` or `HISTORY_EVENTS`."""
    info = workflow.info()
    size, events = info.get_current_history_size(), info.get_current_history_length()
    if size > HISTORY_BYTES or events > HISTORY_EVENTS:
        raise HistoryTooLarge(
            f"The run's history holds {megabytes(size)} in {events:,} events, past this workbook's limit "
            f"({megabytes(HISTORY_BYTES)} or {HISTORY_EVENTS:,} events; Temporal terminates a run at 50 MB or "
            "51,200 events), so the run stops here. Split the work over several runs, or continue as new "
            "(LongRunWorkflow, notebook 08)."
        )


class PayloadTooLarge(ApplicationError):
    """A payload over Temporal's limit: the run fails at once (no retry) with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="PayloadTooLarge", non_retryable=True)


TAIL = 20_000
"""How many of the `PART_LIMIT` characters `cut` keeps from the end: where an error says why code failed
(the harness puts what a snippet printed before its error), and where a long output ends."""


def cut(text: str) -> str:
    """`text`, cut to `PART_LIMIT` characters with a note the model reads, if it is longer.

    The head and the tail are kept and the middle goes: the reason a snippet failed comes last."""
    if len(text) <= PART_LIMIT:
        return text
    return (
        text[: PART_LIMIT - TAIL]
        + f"\n[cut: {len(text) - PART_LIMIT:,} characters from the middle of {len(text):,}, over the {PART_LIMIT:,} "
        "one tool result may bring back (Temporal refuses a payload over 2 MB). Print or return less: a slice, "
        "a count, a summary. The end follows.]\n" + text[-TAIL:]
    )


def _cut_part(part: ModelRequestPart) -> ModelRequestPart:
    """A tool's answer or a retry prompt cut to what the model is shown (`cut`); any other part as it is."""
    if isinstance(part, (ToolReturnPart, RetryPromptPart)) and cut(str(part.content)) != str(part.content):
        answer: ToolReturnPart[Any] | RetryPromptPart = part  # as the base classes: the content becomes text
        return dataclasses.replace(answer, content=cut(str(part.content)))
    return part


@dataclass
class PayloadLimits(AbstractCapability[DemoDeps]):
    """Cuts oversized tool results, refuses oversized tool arguments, fails fast on an oversized request."""

    async def before_tool_execute(
        self, ctx: RunContext[DemoDeps], *, call: Any, tool_def: Any, args: dict[str, Any]
    ) -> dict[str, Any]:
        arguments = size(args, TypeAdapter(dict[str, Any]))
        if arguments + size(ctx.deps, _deps) > PAYLOAD_LIMIT:
            raise ToolValidationError(
                f"The arguments of {call.tool_name} are {megabytes(arguments)}: with the run's context they do not "
                f"fit Temporal's {megabytes(PAYLOAD_LIMIT)} payload limit. Send less at once (split the content)."
            )
        return args

    async def before_model_request(
        self, ctx: RunContext[DemoDeps], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        if workflow.in_workflow():
            check_history()
        for message in ctx.messages:
            if isinstance(message, ModelRequest):
                message.parts = [_cut_part(part) for part in message.parts]
        request = size(request_context.messages, ModelMessagesTypeAdapter) + size(ctx.deps, _deps)
        if request > PAYLOAD_LIMIT:
            number = sum(not isinstance(m, ModelRequest) for m in request_context.messages) + 1
            raise PayloadTooLarge(
                f"Model request {number} would send {megabytes(request)} (the conversation and the run's context), "
                f"over Temporal's {megabytes(PAYLOAD_LIMIT)} payload limit, so the run stops here. "
                "Keep large content out of the script and the tool results."
            )
        return request_context
