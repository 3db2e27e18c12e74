"""Notebook 07: replay recorded histories against a changed version of the workflow, and say why in plain words.

`replay_against(histories, version("paced"))` gives a `Verdict` per history; `explain_nondeterminism`
turns Temporal's non-determinism error into a sentence naming the event and the command that differ.
The versions themselves are runtime code (`durable_agents.versions`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from durable_agents.lab.servers import quiet_runtime
from durable_agents.versions import VERSIONS


@dataclass
class Verdict:
    """The outcome of replaying one history against one version of the workflow."""

    workflow_id: str
    version: str
    error: BaseException | None
    history: WorkflowHistory | None = None

    @property
    def passed(self) -> bool:
        return self.error is None

    @property
    def nondeterministic(self) -> bool:
        """True when the replay failed because the code made other commands than the history recorded."""
        return is_nondeterminism(self.error)

    def explain(self) -> str:
        """Why it replays or not, in plain words."""
        if self.error is None:
            return "the code made the commands the history recorded, in the same order"
        return explain_nondeterminism(self.error, self.history)

    def row(self) -> dict[str, str]:
        """One row of a table: history, version, replays?, why."""
        replays = "yes" if self.passed else "no"
        return {"history": self.workflow_id, "version": self.version, "replays": replays, "why": self.explain()}


async def replay_against(
    histories: Mapping[str, WorkflowHistory], workflow_class: type, name: str | None = None
) -> list[Verdict]:
    """Replay each history against `workflow_class` (a version of `DemoAgentWorkflow`); never raises."""
    replayer = Replayer(workflows=[workflow_class], plugins=[PydanticAIPlugin()], runtime=quiet_runtime())
    label = name or next((n for n, cls in VERSIONS.items() if cls is workflow_class), workflow_class.__name__)
    verdicts = []
    for wid, history in histories.items():
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        verdicts.append(Verdict(wid, label, result.replay_failure, history))
    return verdicts


def is_nondeterminism(error: BaseException | str | None) -> bool:
    """True for Temporal's non-determinism error (code TMPRL1100), and for no other failure."""
    return error is not None and "[TMPRL1100] Nondeterminism error" in str(error)


_ACTIVITY_RENAMED = re.compile(
    r"Activity type of scheduled event '(?P<recorded>[^']+)' does not match activity type of activity command "
    r"'(?P<asked>[^']+)'"
)
_OTHER_COMMAND = re.compile(
    r"(?P<machine>\w+) machine does not handle this event: HistoryEvent\(id: (?P<id>\d+), (?P<event>\w+)"
)
_NO_COMMAND = re.compile(r"No command scheduled for event HistoryEvent\(id: (?P<id>\d+), (?P<event>\w+)")
_UNMATCHED_PATCH = re.compile(r"patch marker encountered for change (?P<patch>\S+), but there is no corresponding")

COMMANDS = {
    "Timer": "start a timer",
    "Activity": "schedule an activity",
    "ChildWorkflow": "start a child workflow",
    "Patch": "record a patch marker",
    "CompleteWorkflow": "complete the workflow",
}
"""What each of Temporal's command state machines (named in its errors) was asked to do."""


def describe_event(history: WorkflowHistory | None, event_id: int, kind: str) -> str:
    """One history event in words: `the activity 'agent__demo__model_request' was scheduled`."""
    event = next((e for e in history.events if e.event_id == event_id), None) if history else None
    if kind == "ActivityTaskScheduled":
        name = event.activity_task_scheduled_event_attributes.activity_type.name if event else ""
        return f"the activity {name!r} was scheduled" if name else "an activity was scheduled"
    if kind == "TimerStarted":
        return "a timer was started"
    if kind == "MarkerRecorded":
        return "a marker was recorded"
    if kind == "StartChildWorkflowExecutionInitiated":
        return "a child workflow was started"
    return f"a {kind} event was recorded"


def explain_nondeterminism(error: BaseException | str | None, history: WorkflowHistory | None = None) -> str:
    """Temporal's non-determinism error read out: what the history recorded, and what the code asked for instead.

    Pass the history that was replayed to name the recorded step (an activity's type, say).
    """
    text = str(error or "")
    if not is_nondeterminism(text):
        return f"not a non-determinism error: {text.splitlines()[0] if text else 'no error'}"
    if found := _ACTIVITY_RENAMED.search(text):
        return (
            f"the history scheduled the activity {found['recorded']!r} where the code now schedules "
            f"{found['asked']!r}: the activity's name changed"
        )
    if found := _OTHER_COMMAND.search(text):
        recorded = describe_event(history, int(found["id"]), found["event"])
        asked = COMMANDS.get(found["machine"], f"make a {found['machine']} command")
        return f"at event {found['id']} the history says {recorded}; the code asked to {asked} instead"
    if found := _NO_COMMAND.search(text):
        recorded = describe_event(history, int(found["id"]), found["event"])
        return f"at event {found['id']} the history says {recorded}; the code asked for nothing there"
    if found := _UNMATCHED_PATCH.search(text):
        return f"the history recorded the patch {found['patch']!r}, but the code did not check it at that point"
    return text.split("Nondeterminism error: ", 1)[-1].split('"')[0]
