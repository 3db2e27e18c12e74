"""Leave a process that used the Temporal SDK without finalizing the interpreter (`exit_now`).

The SDK's Rust runtime lives until the interpreter finalizes, and its threads call into Python (a
finished poll, a failed connect). If one of them is inside Python as finalization begins, pyo3
aborts the process (SIGABRT in `PyGILState_Release`: seen in 1 run in ~30 of `durable-agents demo
--address` to a closed port, exit code 134 instead of 2); if one tries to enter afterwards, pyo3
parks it and the runtime's drop waits for it forever. A command's `main` therefore runs the exit
handlers and flushes its output as a normal exit would, then leaves with `os._exit`: no finalization,
no race, and no final garbage collection of the ~1 s it costs a process that imported pydantic-ai.

A notebook kernel cannot leave that way (IPython saves its history at exit), so `freeze_heap` makes
the collections of its exit cheap instead.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable

from durable_agents import upstream


def exit_now(main: Callable[[], object]) -> None:
    """Run `main`, then the exit handlers, flush stdout and stderr, and leave with its exit code."""
    code: object = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):  # `sys.exit("message")`: Python prints it and exits with 1
        print(code, file=sys.stderr)
        code = 1
    _flush()  # before the handlers too: what was printed survives a handler that crashes the process
    upstream.run_exit_handlers()
    _flush()
    os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            stream.flush()


def freeze_heap() -> None:
    """Hide every object alive now from the cyclic garbage collector (`gc.freeze()`), once per process.

    `Lab.start` and a worker process call it, once the libraries are loaded. A kernel that imported
    pydantic-ai, temporalio and the MCP client holds ~230,000 objects that live as long as it does,
    and each full collection walks them all: IPython's reset at shutdown and the interpreter's
    finalization made a kernel's shutdown take 1.6-2.2 s here, 0.5 s after the freeze; in a worker,
    such a collection would run inside a workflow task, on the deadlock detector's clock. Frozen
    objects are still freed by reference counting; only a reference cycle among them that becomes
    garbage later is kept, which is why it is done once, not at every start (what later labs and
    runs make is collected as usual).
    """
    if not gc.get_freeze_count():
        gc.freeze()
