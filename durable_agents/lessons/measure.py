"""Timing helpers shared by notebook 01 and `benchmark.py`: what durability costs, measured.

Notebook 01's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from durable_agents import agent as agent
from durable_agents import legacy as legacy
from durable_agents import workflows as workflows
from durable_agents.agent import build_agent
from durable_agents.deps import AgentRequest
from durable_agents.lab.worker import make_worker as make_worker
from durable_agents.lessons.exercises import (
    Check,
    finished_check,
    tool_steps,
)
from durable_agents.lessons.notebook import listed
from durable_agents.script import Step, parse_script, subagent_scripts

if TYPE_CHECKING:
    from durable_agents.lab.lab import Lab
    from durable_agents.lab.run import Run

plain_agent = build_agent("plain", durable=False)
"""The demo agent without `TemporalDurability`: tools and model run in-process, nothing is recorded."""


@dataclass(frozen=True)
class Cost:
    """Median seconds per run of the same script, plain and durable."""

    plain: float
    durable: float
    runs: int
    steps: int

    @property
    def ratio(self) -> float:
        return self.durable / self.plain

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{name}</td><td>{s * 1000:.1f} ms</td><td>{s / self.steps * 1000:.2f} ms</td></tr>"
            for name, s in (("plain agent", self.plain), ("durable agent", self.durable))
        )
        return (
            f"<table><tr><th></th><th>median per run</th><th>per script step</th></tr>{rows}"
            f"<tr><td colspan=3>durable / plain = <b>{self.ratio:.0f}×</b> over {self.runs} runs each</td></tr></table>"
        )


async def plain_run(
    script: Sequence[Step | dict[str, Any]], sandbox_dir: str | Path, prompt: str = "Do the task."
) -> str:
    """Run the plain agent on `script` in this process; returns its answer."""
    steps = parse_script(script)
    deps = AgentRequest(prompt, str(sandbox_dir), steps, scripts=subagent_scripts(steps)).deps()
    return (await plain_agent.run(prompt, deps=deps)).output


async def durability_cost(lab: Lab, script: Sequence[Step | dict[str, Any]], runs: int = 5) -> Cost:
    """Run `script` `runs` times on the plain agent and on `lab`'s durable agent; compare medians."""
    steps = parse_script(script)
    plain, durable = [], []
    for _ in range(runs):
        started = time.perf_counter()
        await plain_run(steps, lab.sandbox_root / "plain")
        plain.append(time.perf_counter() - started)
        durable.append((await lab.run(steps)).seconds)
    return Cost(statistics.median(plain), statistics.median(durable), runs, len(steps))


async def stream_cost(lab: Lab, script: Sequence[Step | dict[str, Any]]) -> list[dict[str, Any]]:
    """The same script run by the demo agent and by the `streaming` agent (the demo agent publishing its
    events to a Workflow Stream): what the stream adds to the workflow's own history."""
    rows = []
    for name in ("demo", "streaming"):
        run = await lab.run(script, agent=name)
        events = run.history_json[run.workflow_id]["events"]
        kinds = [e["eventType"].removeprefix("EVENT_TYPE_") for e in events]
        rows.append(
            {
                "agent": name,
                "history events": len(events),
                "history KB": round(len(run.histories[run.workflow_id].to_json()) / 1024, 1),
                "signals (batches published)": kinds.count("WORKFLOW_EXECUTION_SIGNALED"),
                "updates (subscriber polls)": kinds.count("WORKFLOW_EXECUTION_UPDATE_COMPLETED"),
                "agent events delivered": len(run.streamed),
            }
        )
    return rows


# --- The exercises' checks -------------------------------------------------------------------------


def check_wrapping(run: Run) -> Check:
    """Exercise 01: write `plan.txt` (three lines), read it back, answer with its first line."""
    check = finished_check("01 · a plan in three lines", run)
    if not check.passed:
        return check
    plan = run.files().get("plan.txt")
    if check.require(
        isinstance(plan, str), "No plan.txt in the sandbox: add call('write_file', path='plan.txt', ...)."
    ):
        lines = str(plan).splitlines()
        check.require(len(lines) == 3, f"plan.txt has {len(lines)} line(s); put three in content, joined by '\\n'.")
        check.require(
            run.output == (lines[0] if lines else None),
            f"The answer is {run.output!r}; make final(...) say the plan's first line, {lines[0] if lines else ''!r}.",
        )
    names = [s.label for s in tool_steps(run)]
    wrote_then_read = "write_file" in names and "read_file" in names[names.index("write_file") :]
    check.require(
        wrote_then_read,
        f"The tool activities were {listed(names)}: read plan.txt back with call('read_file', ...) after writing it.",
    )
    return check
