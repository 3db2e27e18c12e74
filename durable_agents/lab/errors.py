"""The lab's one error for a learner: it says what happened and what to do next, in one line or two."""

from __future__ import annotations

import asyncio


class LabError(RuntimeError):
    """The lab cannot start or run; the message says what to do."""


class Interrupted(asyncio.CancelledError):
    """A cell waiting on the lab was interrupted (Jupyter's Stop): the message says what goes on without it.

    A `CancelledError`, so code that cancels a task still sees the cancellation it expects."""
