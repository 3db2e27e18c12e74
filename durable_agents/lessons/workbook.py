"""The workbook's front door: the names most notebooks use, imported in a set-up cell from one place.

    from durable_agents.lessons.workbook import Lab, call, final, show_source, table
    from durable_agents.lessons.orientation import moving_parts     # and the notebook's own lesson module

A notebook's own names (its drills, its measurements, the package code it shows) come from its lesson
module, the second line. Nothing here costs a notebook an import it does not already make: the lab, the
script's steps and the checks are what every set-up cell loaded before this module existed.
"""

from __future__ import annotations

from IPython.display import Markdown

from durable_agents.lab.lab import Lab
from durable_agents.lab.workers import WorkerPool
from durable_agents.lessons.exercises import check_predictions
from durable_agents.lessons.notebook import show_source, table
from durable_agents.scenarios import shape
from durable_agents.script import call, code, final, model_flaky, model_rejects, parallel, spawn

__all__ = [
    "Lab",
    "Markdown",
    "WorkerPool",
    "call",
    "check_predictions",
    "code",
    "final",
    "model_flaky",
    "model_rejects",
    "parallel",
    "shape",
    "show_source",
    "spawn",
    "table",
]
