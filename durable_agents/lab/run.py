"""The outcome of one lab run: its answer, its sandbox folder and its Temporal histories.

Everything a notebook shows about a run (the files, what the model was told, the graph, the
diagram) is read from these, so a run that failed can be looked at the same way.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory

from durable_agents.errors import root_cause
from durable_agents.history import events, store
from durable_agents.history.graph import WorkflowNode, build_graph
from durable_agents.history.render import Diagram
from durable_agents.history.timeline import Timeline


class RunFailed(RuntimeError):
    """A workflow run failed. `.run` keeps its history, files and diagram for a look."""

    def __init__(self, run: Run) -> None:
        cause = root_cause(run.error)
        failure, hint = what_to_do(run.error)
        said = "" if failure in cause else f"{failure}. "  # the failure a setting governs, unless the cause is it
        super().__init__(f"Workflow {run.workflow_id} failed: {cause}" + (f"\n{said}{hint}" if hint else ""))
        self.run = run


HINTS = {
    "exceeded max retries count": (
        "The retry budget is how many times in a row the model may be told to fix its call to one tool "
        "(3 by default). Pass lab.run(..., tool_retries=N) to allow more."
    ),
    "exceed the request_limit": (
        "A run may make 50 model requests by default; a script step is one request. "
        "Pass lab.run(..., request_limit=N) to allow more."
    ),
}
"""What to do about the failures a run has a setting for, by a phrase of their message."""


def what_to_do(error: BaseException | None) -> tuple[str, str]:
    """The failure in `error`'s chain that a run has a setting for, and what to do about it (or two blanks)."""
    while error is not None:
        text = str(error).split(". Consider raising")[0]
        for phrase, hint in HINTS.items():
            if phrase in text:
                return text, hint
        error = getattr(error, "cause", None)
    return "", ""


@dataclass
class Run:
    """The outcome of one workflow run: its answer, its sandbox and its Temporal histories."""

    workflow_id: str
    output: str | None
    sandbox_dir: Path
    histories: dict[str, WorkflowHistory]
    error: BaseException | None = None
    seconds: float = 0.0
    ui_url: str | None = None
    """This run's page in the Temporal Web UI (None when the lab has no Web UI)."""
    streamed: list[Any] = field(default_factory=list)
    """The agent's own events, as its Workflow Stream delivered them (only for an agent that streams)."""

    def files(self) -> dict[str, str | bytes]:
        """The files the run left in its sandbox: relative path -> text (bytes for a file that is not UTF-8).

        Symbolic links are left out: the file tools never make one, and one may lead out of the sandbox.
        """
        found: dict[str, str | bytes] = {}
        for folder, _, names in os.walk(self.sandbox_dir):  # does not descend into linked folders
            for name in names:
                path = Path(folder, name)
                if path.is_symlink() or not path.is_file():
                    continue
                data = path.read_bytes()
                try:
                    found[str(path.relative_to(self.sandbox_dir))] = data.decode("utf-8")
                except UnicodeDecodeError:
                    found[str(path.relative_to(self.sandbox_dir))] = data
        return dict(sorted(found.items()))

    @functools.cached_property
    def history_json(self) -> dict[str, dict[str, Any]]:
        """The histories as history-JSON dicts, by workflow id (what the graph and the tables read)."""
        return store.as_dicts(self.histories)

    def activity_options(self) -> list[dict[str, Any]]:
        """What Temporal recorded for each activity of the workflow: type, tool, timeouts, retries."""
        return events.activity_options(self.history_json[self.workflow_id])

    def told(self, workflow_id: str | None = None) -> list[str]:
        """What the model was told, in order: the prompt, tool results, retry prompts.

        `workflow_id` picks a child workflow's agent instead of the top-level one.
        """
        return events.told(self.history_json[workflow_id or self.workflow_id])

    def graph(self) -> WorkflowNode:
        """The run as a typed graph: this workflow, its steps, its children nested inside."""
        return build_graph(self.history_json, root=self.workflow_id)

    def diagram(self, **options: Any) -> Diagram:
        """The run's history drawn as a graphviz diagram (displays as SVG in a notebook)."""
        return Diagram(self.graph(), **options)

    def timeline(self, **options: Any) -> Any:
        """The run replayed event by event: a Play button and a slider over its history events (children's
        interleaved by time), the diagram as it stood at each, the event described below it."""
        from durable_agents.history.timeline_view import TimelineView  # ipywidgets: only when a notebook asks

        return TimelineView(Timeline(self.history_json, self.workflow_id, **options))
