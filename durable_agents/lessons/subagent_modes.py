"""Three places a subagent can run, measured on the same task (notebook 03).

- `spawn_inline`: inside the parent workflow; its activities join the parent's history.
- `spawn_in_activity`: inside one activity; nothing in it is recorded, a retry redoes all of it.
- `spawn`: as a child workflow; its own history, durable step by step.

The subagent's third step fails once (a stand-in for a crash mid-subagent), so each mode shows
what it redoes. Model requests are counted where they are served (`ScriptedModel.served`), so the
count includes work that a retry threw away.

Notebook 03's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durable_agents.capabilities import subagents as subagents
from durable_agents.deps import ROSTER as ROSTER
from durable_agents.deps import Role as Role
from durable_agents.errors import root_cause
from durable_agents.history.events import event_rows, instructions
from durable_agents.history.render import Row, side_by_side
from durable_agents.lessons.exercises import (
    Check,
    finished_check,
)
from durable_agents.lessons.notebook import table
from durable_agents.script import ScriptedModel, Step, call, final, spawn

if TYPE_CHECKING:
    from durable_agents.lab.lab import Lab
    from durable_agents.lab.run import Run

SUBAGENT: list[Step] = [
    call("write_file", path="sub.txt", content="work"),
    call("read_file", path="sub.txt"),
    call("flaky", fail_times=1),
    final("subagent done"),
]
MODES = {"inline": "spawn_inline", "in one activity": "spawn_in_activity", "child workflow": "spawn"}
NEEDED = 2 + len(SUBAGENT)
"""Model requests the task needs: two for the parent, one per subagent step."""


@dataclass
class ModeRun:
    mode: str
    run: Any
    model_requests: int

    def row(self) -> dict[str, Any]:
        parent = self.run.histories[self.run.workflow_id]
        return {
            "subagent runs": self.mode,
            "parent events": len(parent.events),
            "parent history bytes": len(parent.to_json()),
            "workflows": len(self.run.histories),
            "model requests served": f"{self.model_requests} (task needs {NEEDED})",
        }


@dataclass
class ModeComparison:
    runs: list[ModeRun]

    def rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.runs]

    def _repr_html_(self) -> str:
        return table(self.rows()).data

    def answers(self) -> dict[str, str]:
        """Which mode served the most model requests, and which left the largest parent history."""
        most = max(self.runs, key=lambda r: r.model_requests)
        largest = max(self.runs, key=lambda r: len(r.run.histories[r.run.workflow_id].to_json()))
        return {"most model requests served": most.mode, "largest parent history": largest.mode}

    def diagrams(self) -> Row:
        """The three runs' diagrams side by side, each under its mode's name."""
        return side_by_side({r.mode: r.run.diagram() for r in self.runs})


async def compare_modes(lab: Lab) -> ModeComparison:
    """Run the same subagent task once per mode on `lab` and measure each run."""
    runs = []
    for mode, tool in MODES.items():
        step = spawn("generic", f"the subagent task, {mode}", SUBAGENT).model_copy(update={"tool": tool})
        before = ScriptedModel.served
        run = await lab.run([step, final("parent done")])
        runs.append(ModeRun(mode, run, ScriptedModel.served - before))
    return ModeComparison(runs)


# --- The exercises' checks -------------------------------------------------------------------------


def check_spawn(run: Run) -> Check:
    """Exercise 03: a `poet` subagent, added to the roster, writes `poem.txt`."""
    check = finished_check("03 · a new subagent", run)
    if not check.passed:
        return check
    told = "\n".join(run.told())
    check.require(
        "No subagent 'poet'" not in told, "The model was told there is no 'poet': pass roster={'poet': Role(...)}."
    )
    poets = [wid for wid in run.histories if ".poet-" in wid]
    check.require(bool(poets), "No poet child workflow ran: add spawn('poet', 'Write poem.txt', [...]) to the script.")
    check.require(
        "No script for the subagent task" not in told, "The poet had no script: give spawn(...) its third argument."
    )
    poet_told = [line for wid in poets for text in run.told(wid) for line in text.splitlines()]
    refused = next((line for line in poet_told if "Unknown tool name" in line), None)
    if refused:
        check.require(
            False,
            f"The poet was told `{refused.strip()}`: its agent has no such tool. Give the role an agent that can "
            "write files: Role('demo', ...), not 'reader'.",
        )
    poem = run.files().get("poem.txt", "")
    if not refused:
        check.require(bool(poem.strip()), "No poem.txt: in the poet's script, call('write_file', path='poem.txt').")
    check.require(
        run.output == "A poem was written.", f"The parent answered {run.output!r}, not 'A poem was written.'."
    )
    return check


def _node(run: Run, workflow_id: str) -> Any:
    return next(n for n in run.graph().walk() if n.workflow_id == workflow_id)


def _said(told: list[str], phrase: str) -> str | None:
    """The first line of what a model was told that contains `phrase` (None if no line does)."""
    return next((line.strip() for text in told for line in text.splitlines() if phrase in line), None)


def check_your_subagent(run: Run) -> Check:
    """Exercise 03, the second: a `poet` subagent running the reader's own agent (the `yours` agent with
    their capability: its instructions and a `rhyme` tool) in a worker process, writing a couplet."""
    check = Check("03 · your own subagent, in a worker process")
    if run.error is not None:
        check.require(False, f"The run failed: {root_cause(run.error).rstrip('.')}.")
        return check
    poets = [wid for wid in run.histories if ".poet-" in wid]
    if not poets:
        refused = _said(run.told(), "No subagent")
        fix = "add 'poet' to the roster" if refused else "spawn('poet', 'Write poem.txt', [...]) in the script"
        check.require(False, f"The parent was told `{refused}`: {fix}." if refused else f"No poet ran: {fix}.")
        return check
    poet = poets[0]
    activities = [r["about"] for r in event_rows(run.history_json[poet]) if r["type"] == "ACTIVITY_TASK_SCHEDULED"]
    agent = activities[0].split("__")[1] if activities else "?"
    check.require(
        agent == "yours",
        f"The poet ran the `{agent}` agent (its activities are `agent__{agent}__…`): your file extends the `yours` "
        "agent, so give the role Role('yours', ...).",
    )
    told = run.told(poet)
    rhymes = [s for s in _node(run, poet).steps if s.label == "rhyme"]
    unknown = (_said(told, "Unknown tool name") or "").split(" Available tools")[0]
    check.require(
        bool(rhymes),
        f"The poet was told `{unknown}`: give your toolset the `rhyme` tool."
        if unknown
        else "The poet never called `rhyme`: keep call('rhyme', ...) in its script.",
    )
    sent = instructions(run.history_json[poet])
    check.require(
        any("couplet" in text.lower() for text in sent),
        f"The poet's model was sent the instructions {sent[-1] if sent else ''!r}: none says it writes rhyming "
        "couplets. Your capability's `get_instructions()` returns the poet's own instructions.",
    )
    lines = [line for line in str(run.files().get("poem.txt", "")).splitlines() if line.strip()]
    check.require(len(lines) == 2, f"poem.txt has {len(lines)} line(s): a couplet is two, joined by '\\n'.")
    return check
