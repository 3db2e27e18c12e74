"""Where the Temporal SDK's log lines go while a lab runs: the lab's own log file, not the notebook.

A worker logs every failed activity attempt with its traceback, and the SDK's core logs every
retried connection. In a notebook those lines would land under whatever cell runs next, for failures
the workbook causes on purpose and the history records anyway. So each lab attaches a handler that
writes them to `worker.log` in its sandbox root, and detaches it when it stops: a second lab (05
starts three) adds its own file and takes nothing from the first, and once the last lab stops the
`temporalio` logger is as it was.
"""

from __future__ import annotations

import logging
from pathlib import Path

WORKER_LOG = "worker.log"
"""The in-process worker's log file, in the lab's sandbox root beside the server's log."""

SDK_LOGGER = logging.getLogger("temporalio")


class LabLog(logging.FileHandler):
    """One lab's log file on the SDK's logger."""


def attach(path: Path) -> LabLog:
    """Send the SDK's logs (and its core's, see `servers.quiet_runtime`) to `path` until `detach`."""
    handler = LabLog(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    SDK_LOGGER.addHandler(handler)
    SDK_LOGGER.propagate = False
    return handler


def detach(handler: LabLog | None) -> None:
    """Take one lab's file off the SDK's logger; with no lab's left, the logger propagates again."""
    if handler is None:
        return
    SDK_LOGGER.removeHandler(handler)
    handler.close()
    if not any(isinstance(h, LabLog) for h in SDK_LOGGER.handlers):
        SDK_LOGGER.propagate = True
