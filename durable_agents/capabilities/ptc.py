"""Programmatic tool calling (PTC): the model writes Python that runs inside the workflow.

`CodeMode` (from `pydantic-ai-harness`) gives the model one tool, `run_code`, whose code runs in the
Monty sandbox. Under `TemporalDurability`, `run_code` is workflow code (no activity), and every
tool the code calls goes through Pydantic AI's normal tool execution, so it keeps its own
transport: a sandbox tool is an activity, `spawn` a child workflow, exactly as a direct call.

`CancelSiblingsOnFailure` adds what `CodeMode` leaves out: when one call made by a snippet fails,
the calls from the same snippet still in flight are cancelled (Temporal records the cancel
requests), instead of running to completion after the snippet has already failed.

`SnippetTimeLimit` is the runaway-loop guard. A snippet computes on the workflow's own thread, and
a workflow-native tool call does not hand the thread back to Temporal, so every turn of a snippet
(the code between two tool calls) adds up until the next real wait; past Temporal's 2 s deadlock
detector the workflow task fails again and again. So each snippet gets `SNIPPET_SECONDS` of CPU
time in total, over all its turns, and is stopped when that is spent, or when its turns take
`TASK_SECONDS` on the clock in one workflow task (a machine too busy to give it the CPU). The model
is told its code was stopped for a time limit. See `SnippetTimeLimit` for why this stays
replay-safe. The budget counts the snippet's Monty worker and the harness's own work between turns
on the workflow thread, and what a snippet may print is bounded (`PRINT_LIMIT`) so that the work
after its last turn stays small too: a workflow task that replays slower than it first ran must
still finish well inside the deadlock detector's 2 s.

`SendableResults` makes a value the code returns that cannot travel (bytes that are not text, a
list nested hundreds deep) a retry prompt the model reads, instead of a failed run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, TypeVarTuple, Unpack

import psutil
from anyio.from_thread import BlockingPortal
from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai_harness import CodeMode
from pydantic_ai_harness.code_mode import CodeModeResourceLimits
from pydantic_core import PydanticSerializationError, to_json
from pydantic_monty import AsyncMonty, MontyCrashedError
from temporalio import workflow

from durable_agents import upstream
from durable_agents.capabilities.counts import execution_counts
from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolExecutionError, ToolValidationError

SNIPPET_SECONDS = 0.5
"""How much CPU time one snippet may use in total, summed over its turns, before it is stopped.

A quarter of Temporal's 2 s deadlock detector, because what a snippet did live it does again on
replay, where nothing times it: a worker that picks a run up after a crash, on a machine busier than
the one that first ran it, replays each turn at its own speed. Past 2 s the detector fails that
workflow task, and the SDK (temporalio 1.35) cannot then evict the run: it stays stuck on that worker
(see `tests/test_history.py`, the live-replay test). Half a second of compute is not orchestration
anyway. Outside a workflow Monty's own clock applies the same limit.

CPU time, not time on the clock: on a machine busy with other work a turn takes longer without the
code doing more. A snippet's first turn (Monty type-checks the code, then runs it to its first call)
costs ~40 ms of CPU, and took 0.25-0.3 s on the clock beside six busy processes on two cores, and over
half a second in a CI run, where a clock budget stopped it before its first call."""

TASK_SECONDS = 1.0
"""The most time on the clock a snippet's turns may take within one workflow task, whatever CPU they used.

Half the deadlock detector's 2 s, the other half left to the rest of the task: on a machine so busy
that the CPU budget is not spent in a second, the snippet is stopped here, so the task still ends in time."""

LIMITS: CodeModeResourceLimits = {"max_memory": 64 * 1024 * 1024, "max_duration_secs": SNIPPET_SECONDS}
"""The sandbox's limits per snippet: heap (Monty raises `MemoryError` beyond it) and time (outside a workflow)."""

PRINT_LIMIT = 256 * 1024
"""The most one snippet may print, in bytes (Monty's own default is 10 MiB); past it the snippet fails
with a `MemoryError` the model reads. The model is shown at most `PART_LIMIT` characters of it anyway,
and handling 10 MiB of output in workflow code costs more than a snippet's whole budget.
`ptc_capabilities` applies it (`upstream.bound_print_output`: the harness offers no setting for it)."""

BACKSTOP_SECONDS = 30.0
"""The Monty pool's own per-turn deadline: only a backstop, should the guard below ever miss."""


def monty_pool() -> AsyncMonty:
    """Monty worker processes, with a backstop deadline per turn."""
    return AsyncMonty(request_timeout=BACKSTOP_SECONDS)


class TimeLimitError(Exception):
    """A snippet spent its compute budget and was stopped; the message is what the model reads."""

    def __init__(self) -> None:
        super().__init__(
            f"Your code was stopped because it reached the time limit: a snippet may compute for "
            f"{SNIPPET_SECONDS:g} s in total (tool calls do not count). Make it do less work per snippet, "
            "or split the work over several run_code calls."
        )


def _cpu_clock(pid: int | None) -> Callable[[], float]:
    """A reader of the CPU time (user and system) process `pid` has used so far.

    Time on the clock stands in where there is no local process to read (a remote sandbox), and a
    process that is gone (a stop killed it) keeps its last reading."""
    try:
        process = psutil.Process(pid) if pid is not None else None
    except psutil.Error:
        process = None
    if process is None:
        return time.monotonic
    last = 0.0

    def read() -> float:
        nonlocal last
        with contextlib.suppress(psutil.Error):
            used = process.cpu_times()
            last = used.user + used.system
        return last

    return read


class _TurnWatch(threading.Thread):
    """Watches one turn: the CPU time it uses, and a kill of the snippet's Monty worker once its share is spent.

    Every reading is taken on this thread: psutil looks itself up in `sys.modules` as it runs, and on
    the workflow thread that is the workflow sandbox's, which does not hold it."""

    def __init__(self, pid: int | None, cpu: float, clock: float) -> None:
        super().__init__(name="snippet-time-limit", daemon=True)
        self.pid = pid  # the Monty worker to read, and to kill
        self.cpu, self.clock = cpu, clock  # what the turn may use: CPU seconds, and seconds on the clock
        self.used = 0.0  # the CPU seconds the turn used, as read when it ended (or was stopped)
        self.fired = threading.Event()
        self._ready, self._done = threading.Event(), threading.Event()

    def __enter__(self) -> _TurnWatch:
        self.start()
        self._ready.wait()  # the turn starts once its first reading is taken
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        try:
            cpu = _cpu_clock(self.pid)
            start, started = cpu(), time.monotonic()
        finally:
            self._ready.set()  # even if the first reading failed: the turn must not wait forever

        def left() -> float:
            self.used = cpu() - start
            return min(self.cpu - self.used, self.clock - (time.monotonic() - started))

        # A process's CPU time runs no faster than the clock, so waiting what is left never overshoots.
        while (remaining := left()) > 0:
            if self._done.wait(max(remaining, 0.005)):
                left()  # the reading at the turn's end
                return
        self.fired.set()
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):  # a worker that crashed meanwhile
                os.kill(self.pid, signal.SIGKILL)


@dataclass
class SnippetTimeLimit:
    """The compute budget of one `run_code` snippet inside a workflow, and the record of its stop.

    Every call from `CodeMode` into Monty (one *turn*: the code runs until it calls a tool, awaits,
    or ends) passes through `turn()`, on the workflow thread. Each turn may use what is left of
    `SNIPPET_SECONDS` of CPU time, and of `TASK_SECONDS` on the clock within one workflow task; a
    watcher thread kills the snippet's Monty worker when either runs out.

    Replay. A clock is not deterministic: on replay a turn may run faster or slower than it did, and
    a stop that happens on one run and not the other sends the workflow down another path. So the
    clock decides only once, and history keeps the decision: when a turn is stopped, the workflow
    records a marker (`workflow.patched`) named after the snippet and the turn. On replay nothing is
    timed. Before each turn the workflow asks whether history holds that turn's marker: if it does,
    the turn is not run at all and the snippet stops exactly where it stopped; if not, the turn runs
    to its end, as it did the first time. What this gives up: on replay a turn is not bounded by the
    clock (it finished within the budget the first time, so it finishes again, at the replaying
    machine's speed), and a snippet near the limit may be stopped on one run and not another (its
    CPU time varies a little, and on a very busy machine the clock's ceiling comes first; the model
    is told, and history records it). Monty offers no deterministic measure of work (an instruction
    count) that would avoid both.
    """

    snippet: int
    """Which snippet of this workflow execution (0, 1, ...): with the turn, it names the marker."""
    spent: float = 0.0
    """CPU seconds used so far: the snippet's turns in its Monty worker, and the harness's work between turns."""
    elapsed: float = 0.0
    """Seconds on the clock the snippet's turns and the work between them took in the current workflow task."""
    mark: float = field(default_factory=time.monotonic)
    """When the snippet's last turn ended: the harness's work since then counts too (not its work before the
    first turn, starting a Monty worker and a session, which costs what a process start costs, not the code)."""
    mark_cpu: float = field(default_factory=time.thread_time)
    """The workflow thread's CPU time at `mark`."""
    task: Any = None
    """The workflow time of the workflow task `mark` belongs to (`workflow.now()` is fixed within one)."""
    turns: int = 0
    session: Any = None
    """The Monty session the snippet runs in (the first turn starts it), whose worker a stop kills."""

    def marker(self) -> str:
        return f"ptc-time-limit/snippet-{self.snippet}/turn-{self.turns}"

    def turn(self, portal: BlockingPortal, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> Any:
        """Run one turn through the harness's portal, within the budget (or as history recorded it)."""
        self.turns += 1
        if workflow.unsafe.is_replaying():
            if workflow.patched(self.marker()):
                raise TimeLimitError()
            return portal.call(fn, *args)
        session = upstream.monty_session(fn)  # the first turn starts the snippet in its session
        if session is not None:
            self.session = session
        pid = getattr(self.session, "worker_pid", None)
        task = workflow.now()
        if task != self.task:
            self.task, self.elapsed = task, 0.0
        elif self.turns > 1:  # the harness's work since the last turn counts, in one task
            self.spent += time.thread_time() - self.mark_cpu
            self.elapsed += time.monotonic() - self.mark
        started = time.monotonic()
        with _TurnWatch(pid, SNIPPET_SECONDS - self.spent, TASK_SECONDS - self.elapsed) as watch:
            try:
                result = portal.call(fn, *args)
            except MontyCrashedError:
                if not watch.fired.is_set():
                    raise
                result = None
            finally:
                self.mark, self.mark_cpu = time.monotonic(), time.thread_time()
        self.spent += watch.used
        self.elapsed += self.mark - started
        if watch.fired.is_set():
            workflow.patched(self.marker())  # records the stop in history, for replay
            raise TimeLimitError()
        return result


_snippet_limit: contextvars.ContextVar[SnippetTimeLimit | None] = contextvars.ContextVar("snippet_limit", default=None)


_Args = TypeVarTuple("_Args")
_T = TypeVar("_T")


async def _call_monty(portal: BlockingPortal | None, fn: Callable[[Unpack[_Args]], Awaitable[_T]], *args: *_Args) -> _T:
    """`CodeMode`'s single door into Monty, with the running snippet's time limit applied.

    The harness offers no hook per turn, so `ptc_capabilities` routes every turn through this
    (`upstream.route_monty_calls`); outside a snippet of a workflow it is the harness's own function.
    """
    limit = _snippet_limit.get()
    if portal is None or limit is None:
        return await upstream.harness_call_monty(portal, fn, *args)
    return limit.turn(portal, fn, args)


@dataclass
class LimitSnippetTime(AbstractCapability[DemoDeps]):
    """Gives every `run_code` snippet run in a workflow its own `SnippetTimeLimit`."""

    async def wrap_tool_execute(
        self, ctx: RunContext[DemoDeps], *, call: Any, tool_def: Any, args: Any, handler: Any
    ) -> Any:
        if call.tool_name != "run_code" or not workflow.in_workflow():
            return await handler(args)
        counts = execution_counts()  # counted per execution: a replay starts again at 0
        number, counts.snippets = counts.snippets, counts.snippets + 1
        token = _snippet_limit.set(SnippetTimeLimit(number, task=workflow.now()))
        try:
            return await handler(args)
        finally:
            _snippet_limit.reset(token)


UNSENDABLE = (
    "Your code ran, but the value it returned cannot be sent back ({reason}). Return plain data: text, numbers, "
    "and lists or dicts nested a few levels deep (decode bytes to text first), or print what you need."
)


def unsendable(result: Any) -> str | None:
    """Why `result` cannot become a tool result (None if it can): the check the payload converter would fail."""
    try:
        to_json(result)
    except (PydanticSerializationError, ValueError, RecursionError) as exc:
        return str(exc).removeprefix("Error serializing to JSON: ")
    return None


@dataclass
class SendableResults(AbstractCapability[DemoDeps]):
    """A `run_code` result that cannot be serialised reaches the model as a retry prompt.

    Unchecked, bytes that are not UTF-8 or a value nested past pydantic's serialisation depth fail
    the run when the next model request is sent; a value nested thousands deep overflows the
    harness's own conversion with `RecursionError`, which fails the workflow task again and again.
    """

    async def wrap_tool_execute(
        self, ctx: RunContext[DemoDeps], *, call: Any, tool_def: Any, args: Any, handler: Any
    ) -> Any:
        if call.tool_name != "run_code":
            return await handler(args)
        try:
            result = await handler(args)
        except RecursionError:
            raise ToolValidationError(UNSENDABLE.format(reason="it is nested too deep")) from None
        if (reason := unsendable(result)) is not None:
            raise ToolValidationError(UNSENDABLE.format(reason=reason))
        return result


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
    """`run_code` over every other tool of the agent, with sibling cancellation and a time limit per snippet.

    It applies the two patches the time limit needs to the harness (each once, however often it is called)."""
    upstream.route_monty_calls(_call_monty)
    upstream.bound_print_output(PRINT_LIMIT)
    return [
        # The harness types the pool as `AsyncMontyWebsocket`; the local `AsyncMonty` pool has the same interface.
        CodeMode(resource_limits=LIMITS, max_tool_calls=50, monty_sandbox=monty_pool),  # type: ignore[arg-type]
        CancelSiblingsOnFailure(),
        LimitSnippetTime(),
        SendableResults(),
    ]
