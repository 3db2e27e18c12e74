"""The scripted model: a deterministic stand-in for an LLM, driven by a list of steps.

A *script* is a list of steps. Each model request answers with the step whose index is the number
of model responses already in the conversation, so the model keeps no state of its own: a worker in
another process, or a replay, picks the same step from the same history. Messages number steps from 1.

Steps are small pydantic models, or the plain dicts they accept::

    call("write_file", path="a.txt", content="hi")   # {"tool": "write_file", "args": {...}}
    parallel(call(...), call(...))                    # {"parallel": [...]}: one turn, several calls
    final("done")                                     # {"final": "done"}
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_ai import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.exceptions import ModelRequestRejectedError, ModelUnavailableError
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.test import TestStreamedResponse
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage
from temporalio import activity

from durable_agents import upstream


class ToolCall(BaseModel):
    """The model calls one tool with these arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tool: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    scripts: dict[str, list[Step]] = Field(default_factory=dict)
    """Scripts for the subagents this call spawns, by task (a `spawn`, or code that spawns).
    The model never sends them: they ride in the run's input, and each subagent finds its own."""

    def __repr__(self) -> str:
        task = self.args.get("task")
        if self.tool == "spawn" and task in self.scripts:
            return f"spawn({self.args.get('agent_name')!r}, {task!r}, {self.scripts[task]!r})"
        if self.tool == "run_code" and set(self.args) == {"code"}:
            return f"code({self.args['code']!r}{f', scripts={self.scripts!r}' if self.scripts else ''})"
        return f"call({', '.join([repr(self.tool), *(f'{k}={v!r}' for k, v in self.args.items())])})"


class Parallel(BaseModel):
    """The model calls several tools in one turn; Pydantic AI runs them concurrently."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    parallel: list[ToolCall] = Field(min_length=1)

    def __repr__(self) -> str:
        return f"parallel({', '.join(map(repr, self.parallel))})"


class Final(BaseModel):
    """The model answers with text and the run ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    final: str = Field(min_length=1)
    """The answer. Not empty: a model that answers nothing has not answered, and is asked again."""

    def __repr__(self) -> str:
        return f"final({self.final!r})"


class ModelFailure(BaseModel):
    """The model request for this step fails: `transient` for its first `times` attempts (Temporal
    retries the model activity, then the model answers `then`), or `rejected` for good (no retry)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model_fails: Literal["transient", "rejected"]
    times: int = Field(default=1, ge=1)
    then: Step | None = None

    def __repr__(self) -> str:
        if self.model_fails == "rejected":
            return "model_rejects()"
        return f"model_flaky({self.then!r}, times={self.times})"


class ModelUnavailable(ModelUnavailableError):
    """A transient model failure (overloaded): Pydantic AI's own category for it; the model activity is retried."""

    def __init__(self, message: str) -> None:
        super().__init__("scripted", message)

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.message,)


class ModelRejected(ModelRequestRejectedError):
    """The provider refused the request for good (invalid request): Pydantic AI's own category for it, which the
    demo agents list in `TemporalDurability(non_retryable_model_errors=...)`, so Temporal does not retry it."""

    def __init__(self, message: str) -> None:
        super().__init__("scripted", message)

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.message,)


Step = ToolCall | Parallel | Final | ModelFailure
ToolCall.model_rebuild()
ModelFailure.model_rebuild()
_steps = TypeAdapter(list[Step])


class ScriptError(ValueError):
    """A model script that cannot be followed; the message says which step and how to fix it."""


def call(tool: str, **args: Any) -> ToolCall:
    """A step that calls `tool` with keyword `args`."""
    return ToolCall(tool=tool, args=args)


def spawn(agent_name: str, task: str, script: Sequence[Step | dict[str, Any]] | None = None) -> ToolCall:
    """A step that spawns subagent `agent_name` on `task`; the subagent follows `script`."""
    scripts = {task: parse_script(script)} if script is not None else {}
    return ToolCall(tool="spawn", args={"agent_name": agent_name, "task": task}, scripts=scripts)


def code(source: str, scripts: Mapping[str, Sequence[Step | dict[str, Any]]] | None = None) -> ToolCall:
    """A step that runs `source` with `run_code` (programmatic tool calling).

    Inside the code, tools are async functions: `await write_file(path=..., content=...)`,
    `await asyncio.gather(...)`. `scripts` gives the subagents the code spawns their scripts, by task.
    """
    parsed = {task: parse_script(steps) for task, steps in (scripts or {}).items()}
    return ToolCall(tool="run_code", args={"code": source}, scripts=parsed)


def model_flaky(then: Step, times: int = 1) -> ModelFailure:
    """A step whose model request fails `times` times (Temporal retries it), then answers `then`."""
    return ModelFailure(model_fails="transient", times=times, then=then)


def model_rejects() -> ModelFailure:
    """A step whose model request the provider rejects for good: no retry, the run fails."""
    return ModelFailure(model_fails="rejected")


def parallel(*calls: ToolCall | dict[str, Any]) -> Parallel:
    """A step that calls several tools in the same model turn (each a `call(...)`, `spawn(...)` or `code(...)`)."""
    __tracebackhide__ = True
    if not calls:
        raise ScriptError("parallel() needs at least one call: parallel(call('a'), call('b')).")
    checked = []
    for number, c in enumerate(calls, start=1):
        try:
            checked.append(ToolCall.model_validate(c))
        except ValidationError as exc:
            raise ScriptError(
                f"parallel(...) call {number} is not a tool call: {c!r}. A parallel step holds calls only "
                "(call(...), spawn(...), code(...)), not another parallel(...) or final(...); "
                "put them side by side: parallel(call('a'), call('b')).\n"
                f"Details: {_detail(exc)}"
            ) from None
    return Parallel(parallel=checked)


def final(text: str) -> Final:
    """A step that ends the run with `text` as the answer (not empty: an empty answer is no answer)."""
    if not isinstance(text, str) or not text:
        raise ScriptError(f"final({text!r}): the answer must be non-empty text, e.g. final('done').")
    return Final(final=text)


def parse_script(script: Sequence[Step | dict[str, Any]]) -> list[Step]:
    """Validate a script (step objects or plain dicts) before a run starts.

    Raises `ScriptError` naming the first bad step and showing the forms a step may take.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of the reader's traceback
    if isinstance(script, (str, bytes, dict)) or not isinstance(script, Sequence):
        raise ScriptError(
            f"A model script is a list of steps, got {type(script).__name__}: "
            "write it as [call('write_file', path='a.txt', content='hi'), final('done')]."
        )
    steps: list[Step] = []
    for index, raw in enumerate(script, start=1):
        if isinstance(raw, (ToolCall, Parallel, Final, ModelFailure)):
            steps.append(raw)
            continue
        kind = _KINDS.get(next(iter(raw), None)) if isinstance(raw, dict) and len(raw) else None
        try:
            steps.append(kind.model_validate(raw) if kind else _steps.validate_python([raw])[0])
        except ValidationError as exc:
            raise ScriptError(_not_a_step(index, raw, exc)) from None
    if not steps:
        raise ScriptError("The model script is empty: give at least one step, for example final('done').")
    return steps


def _not_a_step(index: int, raw: Any, error: ValidationError) -> str:
    return (
        f"Step {index} of the model script is not a step: {raw!r}.\n"
        "A step is one of: {'tool': NAME, 'args': {...}}, {'parallel': [call, ...]}, "
        "{'final': TEXT} (or call(...), parallel(...), final(...) from durable_agents.script).\n"
        f"Details: {_detail(error)}"
    )


_KINDS: dict[Any, type[Step]] = {
    "tool": ToolCall,
    "parallel": Parallel,
    "final": Final,
    "model_fails": ModelFailure,
}
"""The step a dict is meant to be, by its first key: its errors then name the field that is wrong."""


def _detail(exc: ValidationError) -> str:
    """The first validation error, with the field it is about: "final: String should have at least 1 character"."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"] if part != 0)
    return f"{where}: {error['msg']}" if where else error["msg"]


def subagent_scripts(script: Sequence[Step]) -> dict[str, list[Step]]:
    """Every subagent script in `script`, at any depth, keyed by the task it answers.

    A spawned subagent finds its script by its task, so one task text cannot have two scripts.
    """
    found: dict[str, list[Step]] = {}
    pending = list(script)
    while pending:
        step = pending.pop()
        calls = step.parallel if isinstance(step, Parallel) else [step] if isinstance(step, ToolCall) else []
        for c in calls:
            for task, steps in c.scripts.items():
                if found.get(task, steps) != steps:
                    raise ScriptError(f"Two subagent scripts answer the task {task!r}: give each spawn its own task.")
                found[task] = steps
                pending += steps
    return found


def step_index(messages: Sequence[ModelMessage]) -> int:
    """Which step answers this request: one per model response already in the conversation."""
    return sum(isinstance(m, ModelResponse) for m in messages)


def respond(
    script: Sequence[Step], messages: Sequence[ModelMessage], attempt: int = 1, start: int = 0
) -> ModelResponse:
    """The model response that `script` gives to a conversation (on this attempt): a pure function.

    `start` is the number of the script's first step, when `script` is a window of a longer one."""
    index = step_index(messages)
    if index - start >= len(script) or index < start:
        raise ScriptError(
            f"The model script ran out of steps: request {index + 1} wants step {index + 1}, "
            f"but the script has only {start + len(script)} step(s). End the script with final('...')."
        )
    step = script[index - start]
    while isinstance(step, ModelFailure):
        if step.model_fails == "rejected":
            raise ModelRejected(f"request {index + 1} rejected by the provider (script step {index + 1})")
        if attempt <= step.times:
            raise ModelUnavailable(f"model unavailable on attempt {attempt} (script step {index + 1})")
        if step.then is None:
            raise ScriptError(f"Step {index + 1} fails {step.times} time(s) but says nothing to answer then.")
        step = step.then
    if isinstance(step, Final):
        parts: list[Any] = [TextPart(step.final)]
    else:
        calls = step.parallel if isinstance(step, Parallel) else [step]
        parts = [ToolCallPart(c.tool, dict(c.args), tool_call_id=f"step{index}-call{i}") for i, c in enumerate(calls)]
    return ModelResponse(parts=parts, usage=RequestUsage(input_tokens=10, output_tokens=5))


class ScriptedModel(Model):
    """A `Model` that follows the script carried in the run's deps (`deps.script`).

    Because the script travels in the deps, it crosses into the model-request activity with the
    rest of the run context, and any worker process follows it.
    """

    served: ClassVar[int] = 0
    """How many requests this process has answered: a measure of work actually done (and redone)."""

    def __init__(self, script: Sequence[Step | dict[str, Any]] | None = None) -> None:
        super().__init__()
        self._script = parse_script(script) if script is not None else None

    @property
    def model_name(self) -> str:
        return "scripted"

    @property
    def system(self) -> str:
        return "scripted"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        script, start = self._script, 0
        if script is None:
            deps = getattr(upstream.current_run_context(), "deps", None)
            script, start = getattr(deps, "script", None), getattr(deps, "script_start", 0)
        if script is None:
            raise ScriptError("The scripted model has no script: pass script=[...] to the run.")
        attempt = activity.info().attempt if activity.in_activity() else 1
        response = respond(script, messages, attempt, start)
        response.model_name = self.model_name
        ScriptedModel.served += 1
        return response

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: Any = None,
    ) -> AsyncIterator[StreamedResponse]:
        """The same scripted response, streamed: text word by word, each tool call as one event."""
        response = await self.request(messages, model_settings, model_request_parameters)
        yield TestStreamedResponse(
            model_request_parameters=model_request_parameters,
            _model_name=self.model_name,
            _structured_response=response,
            _messages=messages,
            _provider_name=self.system,
        )
