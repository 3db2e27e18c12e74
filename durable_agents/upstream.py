"""Every private name of a library the package relies on, in one place, and every patch it applies.

Pydantic AI, the harness, Temporal's SDK and CPython's own modules each leave a few things this
package needs without a public API: a run's current context, a door into the Monty sandbox, the exit
handlers, a signal handler already installed. Each is reached here and nowhere else, by a small
function whose comment says what it is for and which public API would replace it; when one exists,
the function goes and its callers use it. `tests/test_upstream.py` has one test per name, which fails
naming the name and this module when an upgrade moves it.

Patches are applied by a call, never by importing this module, and applying one twice changes
nothing. The imports sit inside the functions so that this module stays cheap to import (a
`lab/` command that needs one name does not pay for pydantic-ai).
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import sys
import types
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

# ---- pydantic-ai ----


def current_run_context() -> Any:
    """The `RunContext` of the agent run this code is part of (None outside one).

    For: the scripted model, which reads its script from the run's deps inside `Model.request`.
    Private: `pydantic_ai._run_context.get_current_run_context`. Would be replaced by the same
    function exported from `pydantic_ai`, or by a `Model.request` that receives the run context.
    """
    from pydantic_ai._run_context import get_current_run_context

    return get_current_run_context()


def make_run_context_current(ctx: Any) -> None:
    """Make `ctx` the current run context for the rest of this task (an activity's task has its own).

    For: `legacy.py`, whose deprecated `TemporalAgent` does not make the context current inside its
    model activity, as the `TemporalDurability` capability does. Private:
    `pydantic_ai._run_context._CURRENT_RUN_CONTEXT`. Would be replaced by `TemporalAgent` doing it
    itself (or by a public `set_current_run_context`).
    """
    from pydantic_ai._run_context import _CURRENT_RUN_CONTEXT

    _CURRENT_RUN_CONTEXT.set(ctx)


def toolset_activity_config(durability: Any, toolset_id: str) -> Any:
    """The activity settings a `TemporalDurability` was given for one toolset (None if none).

    For: tests that check a capability's `activity_config` reaches the durability capability.
    Private: `TemporalDurability._toolset_activity_config`. Would be replaced by a public read of
    the settings a generated activity is scheduled with.
    """
    return durability._toolset_activity_config.get(toolset_id)


def model_errors_never_retried(durability: Any) -> Any:
    """The model errors a `TemporalDurability` never retries, as it resolved them.

    For: tests of the live models' settings. Private:
    `TemporalDurability._non_retryable_model_errors`. Would be replaced by a public read of it.
    """
    return durability._non_retryable_model_errors


PRELOAD = ["pydantic_ai.durable_exec.temporal._function_toolset"]
"""Private modules the worker fork server imports ahead (`lab/forkserver.py`), because pydantic-ai
imports them only when the first agent is built. Would be replaced by their public parent importing
them (then the public name in `forkserver.PRELOAD` serves)."""


# ---- pydantic-ai-harness (CodeMode) ----

MontyCall = Callable[..., Awaitable[Any]]
"""The harness's door into Monty, `call_monty(portal, fn, *args)`: every turn of a snippet passes it."""

_harness: dict[str, Any] = {}
"""The harness's own functions, kept the first time a patch replaces them (so a patch never wraps itself)."""


def _monty_exec() -> types.ModuleType:
    from pydantic_ai_harness import _monty_exec

    _harness.setdefault("call_monty", _monty_exec.call_monty)
    _harness.setdefault("PrintCapture.__init__", _monty_exec.PrintCapture.__init__)
    return _monty_exec


def route_monty_calls(door: MontyCall) -> None:
    """Send every call `CodeMode` makes into Monty through `door(portal, fn, *args)` (idempotent).

    For: `capabilities/ptc.py`'s time limit per snippet, which must see each turn. `door` hands what
    it does not handle to `harness_call_monty`. Private: `pydantic_ai_harness._monty_exec.call_monty`.
    Would be replaced by a hook per turn on `CodeMode` (or a per-turn deadline it enforces itself).
    """
    setattr(_monty_exec(), "call_monty", door)  # noqa: B010 (a module's attribute, replaced on purpose)


async def harness_call_monty(portal: Any, fn: Any, *args: Any) -> Any:
    """The harness's own `call_monty`, whatever `route_monty_calls` installed."""
    _monty_exec()
    return await _harness["call_monty"](portal, fn, *args)


def bound_print_output(max_bytes: int) -> None:
    """Make every snippet's print capture stop at `max_bytes` (Monty's default is 10 MiB; idempotent).

    For: `capabilities/ptc.py` (`PRINT_LIMIT`). Private: `pydantic_ai_harness._monty_exec.PrintCapture`.
    Would be replaced by a `CodeMode` setting for the print limit.
    """
    from pydantic_monty import CollectString

    def bounded(capture: Any) -> None:
        capture.callback = CollectString(max_bytes=max_bytes)

    _monty_exec().PrintCapture.__init__ = bounded


def monty_session(fn: Any) -> Any:
    """The Monty session a call into Monty starts a snippet in, or None for any other call.

    For: `capabilities/ptc.py`, which kills the session's worker (its public `worker_pid`) when a
    snippet's time is up. Relies on how the harness calls Monty: `CodeMode` starts a snippet with
    `partial(session.feed_start, ...)`. Would be replaced by the hook per turn above handing the
    session over (or by `CodeMode` enforcing the deadline itself).
    """
    return getattr(getattr(fn, "func", None), "__self__", None)


# ---- Temporal's SDK ----


def activity_name(fn: Callable[..., Any]) -> str:
    """The name an activity function is registered under.

    For: `agent.activity_names`. Private: the `__temporal_activity_definition` that `@activity.defn`
    sets. Would be replaced by a public accessor in `temporalio.activity`.
    """
    return fn.__temporal_activity_definition.name  # type: ignore[attr-defined]


def is_workflow_class(cls: object) -> bool:
    """Whether `cls` is a class decorated with `@workflow.defn`.

    For: `lessons/capstone.py`, which finds the workflow a reader's module defines. Private: the
    `__temporal_workflow_definition` that `@workflow.defn` sets. Would be replaced by a public
    accessor in `temporalio.workflow`.
    """
    return isinstance(cls, type) and hasattr(cls, "__temporal_workflow_definition")


def no_completion_yet(exc: BaseException) -> bool:
    """Whether `exc` is the SDK's word for a wait on a result that ended before the workflow did.

    For: `demo/runner.py`, which waits again (see `Runner._start_and_wait`). Relies on the text of the
    `RuntimeError` that `WorkflowHandle.result` raises. Would be replaced by an exception class of its own.
    """
    return isinstance(exc, RuntimeError) and str(exc) == NO_COMPLETION


NO_COMPLETION = "No completion event found"


# ---- CPython ----


def run_exit_handlers() -> None:
    """Run the `atexit` handlers now, as a normal exit would (each runs once: they are unregistered).

    For: `lab/exit.py`, which leaves with `os._exit` so the SDK's threads cannot race finalization.
    Private: `atexit._run_exitfuncs` (CPython has no public way to run them early).
    """
    atexit._run_exitfuncs()


@contextlib.contextmanager
def main_module_hidden() -> Iterator[None]:
    """While inside, `multiprocessing` sees an empty main module, so a child it starts does not re-run ours.

    For: `lab/forkserver.py`: a script's or a command's main module would import the package before
    the child has its environment. Relies on `multiprocessing.spawn.get_preparation_data` reading
    `sys.modules["__main__"]` when a process starts. Would be replaced by a `multiprocessing` option
    not to prepare the main module.
    """
    main, sys.modules["__main__"] = sys.modules["__main__"], types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


_HELPERS: list[Any] = []
"""The helper processes `helpers_in_own_session` started (kept, so none is reported as left running)."""


@contextlib.contextmanager
def helpers_in_own_session() -> Iterator[None]:
    """While inside, the helper processes `multiprocessing` starts (its fork server, its resource
    tracker) start in a session of their own instead of the caller's process group.

    For: `lab/forkserver.py`. A Jupyter kernel, asked to shut down, signals every process of its group
    and waits until they are gone; the resource tracker ignores SIGTERM (it leaves once its pipe
    closes, when the kernel is gone), so each shutdown waited ~2.5 s, until Jupyter sent the kernel
    itself SIGTERM. Their own session also keeps a terminal's Ctrl-C from them. Private:
    `multiprocessing.util.spawnv_passfds`, which both call to start their process. Would be replaced
    by a `multiprocessing` option to start its helpers in a new session.
    """
    import multiprocessing.util
    import subprocess

    def spawn(path: str, args: list[str], passfds: Any) -> int:
        process = subprocess.Popen(args, executable=path, pass_fds=sorted(map(int, passfds)), start_new_session=True)
        _HELPERS.append(process)
        return process.pid

    original, multiprocessing.util.spawnv_passfds = multiprocessing.util.spawnv_passfds, spawn  # type: ignore[assignment]
    try:
        yield
    finally:
        multiprocessing.util.spawnv_passfds = original


def signal_handler(loop: Any, signum: signal.Signals) -> tuple[Callable[..., object], tuple[Any, ...]] | None:
    """The callback and arguments `loop.add_signal_handler(signum, ...)` installed, or None.

    For: `demo/runner.py`, which puts the command's SIGINT handler back after a run. Private: the
    loop's `_signal_handlers` table and its handles' `_callback` and `_args`. Would be replaced by a
    public getter in `asyncio`.
    """
    handle = getattr(loop, "_signal_handlers", {}).get(signum)
    return None if handle is None else (handle._callback, handle._args)
