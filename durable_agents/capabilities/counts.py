"""What a workflow execution has counted so far: the subagents it spawned, the snippets it ran.

The counts number what the workflow makes (a child's id, a snippet's time-limit marker), so they
must be the same on a replay: they belong to one workflow instance, and a replay builds a new one
that counts again from 0. They are kept in a table beside the instances, not set as attributes on
workflow objects of classes the capabilities do not own (a reader's workflow class included).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from temporalio import workflow


@dataclass
class ExecutionCounts:
    """The counts of one workflow execution."""

    children: int = 0
    """Child workflows `spawn` has started."""
    snippets: int = 0
    """`run_code` snippets started."""


_COUNTS: weakref.WeakKeyDictionary[object, ExecutionCounts] = weakref.WeakKeyDictionary()
"""By workflow instance: an entry goes when its instance does (the worker evicts it, or a replay ends)."""


def execution_counts() -> ExecutionCounts:
    """The counts of the workflow execution this code runs in (only inside a workflow)."""
    return _COUNTS.setdefault(workflow.instance(), ExecutionCounts())
