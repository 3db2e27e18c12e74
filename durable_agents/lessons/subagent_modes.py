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
from typing import Any

from durable_agents.capabilities import subagents as subagents
from durable_agents.deps import ROSTER as ROSTER
from durable_agents.deps import Role as Role
from durable_agents.history.render import Row, side_by_side
from durable_agents.lessons.notebook import table
from durable_agents.script import ScriptedModel, Step, call, final, spawn

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


async def compare_modes(lab: Any) -> ModeComparison:
    """Run the same subagent task once per mode on `lab` and measure each run."""
    runs = []
    for mode, tool in MODES.items():
        step = spawn("generic", f"the subagent task, {mode}", SUBAGENT).model_copy(update={"tool": tool})
        before = ScriptedModel.served
        run = await lab.run([step, final("parent done")])
        runs.append(ModeRun(mode, run, ScriptedModel.served - before))
    return ModeComparison(runs)
