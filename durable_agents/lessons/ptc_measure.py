"""The point of programmatic tool calling, measured (notebook 04).

The same task, "write N files, read them back, report the total length", done two ways:

- **direct**: the model calls one tool per turn, so every result costs a model request, and each
  request carries the whole conversation so far;
- **PTC**: the model writes one `run_code` snippet that loops over the files; the calls inside are
  still activities, but the model is asked twice in all.

Notebook 04's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.display import SVG

from durable_agents.capabilities import ptc as ptc
from durable_agents.history.events import ERROR_MARKS, first_error_line
from durable_agents.history.graph import Step, event_attrs
from durable_agents.lessons.exercises import (
    Check,
    as_number,
    finished_check,
)
from durable_agents.lessons.notebook import table
from durable_agents.script import Step as ScriptStep
from durable_agents.script import call, code, final

if TYPE_CHECKING:
    from durable_agents.lab.lab import Lab
    from durable_agents.lab.run import Run


def sibling_cancel(run: Run) -> dict[str, Any]:
    """What the first failure in a gather did (notebook 04): roughly how long the run took, and whether
    the snippet's five-second `slow` ran to the end."""
    snippet = [s for top in run.graph().steps if top.kind == "code" for s in top.inner]
    long_ones = [s for s in snippet if s.label == "slow" and "seconds=5" in s.detail]
    finished = bool(long_ones) and all(s.status == "completed" for s in long_ones)
    return {
        "seconds, about (1 or 5)": 1 if run.seconds < 3 else 5,
        "the 5-second slow finishes": "yes" if finished else "no",
    }


_ENDED = {
    "cancel_requested": "asked to stop; the run went on without waiting for it",
    "cancelled": "cancelled",
    "completed": "finished",
    "failed": "failed",
}


def _cancel_events(step: Step, events: list[dict[str, Any]]) -> list[str]:
    """The parent's events about cancelling `step`: found by its scheduled event (an activity) or its id (a child)."""
    child_id = step.child.workflow_id if step.child else None
    names = []
    for event in events:
        kind, attrs = event["eventType"].removeprefix("EVENT_TYPE_"), event_attrs(event)
        if "CANCEL" not in kind:
            continue
        if str(attrs.get("scheduledEventId")) == str(step.event_id) or (
            child_id and attrs.get("workflowExecution", {}).get("workflowId") == child_id
        ):
            names.append(kind)
    return names


def snippet_calls(run: Run) -> Any:
    """Each call a `run_code` snippet made, how it ended, and what the parent's history records about
    cancelling it (notebook 04, after one call failed): a table."""
    events = run.history_json[run.workflow_id]["events"]
    rows = []
    for step in (s for top in run.graph().steps if top.kind == "code" for s in top.inner):
        name = f"spawn {step.label} ({step.detail})" if step.kind == "child" else f"{step.label}({step.detail})"
        ended = _ENDED.get(step.status, step.status)
        if step.outcome == "tool_failed" or (step.status in ("completed", "failed") and step.failures):
            ended = f"failed: {step.failures[-1]}" if step.failures else "failed"
        records = " → ".join(_cancel_events(step, events)) or "—"
        rows.append({"call": name, "how it ended": ended, "the history records": records})
    return table(rows)


PTC_SOURCE = """
total = 0
for i in range({n}):
    await write_file(path=f"data/{{i}}.txt", content="x" * (i + 1))
for i in range({n}):
    total += len(await read_file(path=f"data/{{i}}.txt"))
total
"""


def direct_script(n: int) -> list[ScriptStep]:
    """One tool call per model turn: n writes, n reads, then the answer."""
    writes = [call("write_file", path=f"data/{i}.txt", content="x" * (i + 1)) for i in range(n)]
    reads = [call("read_file", path=f"data/{i}.txt") for i in range(n)]
    return [*writes, *reads, final(str(n * (n + 1) // 2))]


def ptc_script(n: int) -> list[ScriptStep]:
    """One `run_code` snippet doing the same work, then the answer."""
    return [code(PTC_SOURCE.format(n=n).strip()), final(str(n * (n + 1) // 2))]


@dataclass
class Row:
    files: int
    way: str
    model_requests: int
    activities: int
    events: int
    history_kb: float
    seconds: float


@dataclass
class Comparison:
    rows: list[Row]

    def _repr_html_(self) -> str:

        return table([vars(r) for r in self.rows]).data

    def plot(self) -> Any:
        """Model requests and history size against the number of files, both ways."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(10, 2.8))
        for way in ("direct", "PTC"):
            rows = [r for r in self.rows if r.way == way]
            for ax, (field, title) in zip(
                axes,
                [("model_requests", "model requests"), ("history_kb", "history (KB)"), ("seconds", "seconds")],
                strict=True,
            ):
                ax.plot([r.files for r in rows], [getattr(r, field) for r in rows], marker="o", label=way)
                ax.set_title(title)
                ax.set_xlabel("files")
        axes[0].legend()
        fig.tight_layout()
        svg = io.StringIO()
        fig.savefig(svg, format="svg")
        plt.close(fig)
        return SVG(svg.getvalue())


async def compare(lab: Lab, sizes: tuple[int, ...] = (1, 5, 20)) -> Comparison:
    """Run both ways for each size on `lab` and measure what each run cost."""
    rows = []
    for n in sizes:
        for way, agent, script in (("direct", "demo", direct_script(n)), ("PTC", "ptc", ptc_script(n))):
            started = time.perf_counter()
            run = await lab.run(script, agent=agent)
            seconds = time.perf_counter() - started
            assert run.output == str(n * (n + 1) // 2), run.output
            graph = run.graph()
            steps = [s for top in graph.steps for s in (top, *top.inner)]
            history = run.histories[run.workflow_id]
            rows.append(
                Row(
                    n,
                    way,
                    sum(s.kind == "model" for s in steps),
                    sum(s.kind == "tool" for s in steps),
                    len(history.events),
                    round(len(history.to_json()) / 1024, 1),
                    round(seconds, 2),
                )
            )
    return Comparison(rows)


# --- The exercises' checks -------------------------------------------------------------------------


def check_ptc(run: Run) -> Check:
    """Exercise 04: squares of the even numbers 1..6, written concurrently from one `run_code`."""
    check = finished_check("04 · a loop, a branch, a gather", run)
    if not check.passed:
        return check
    codes = [s for s in run.graph().steps if s.kind == "code"]
    if not check.require(bool(codes), "No run_code step: the script needs code('...') as its first step."):
        return check
    writes = [s for s in codes[0].inner if s.label == "write_file"]
    files = run.files()
    wanted = {f"squares/{n}.txt": str(n * n) for n in (2, 4, 6)}
    written = {k: v for k, v in files.items() if k.startswith("squares/")}
    check.require(
        written == wanted,
        f"The sandbox holds {', '.join(f'{k} ({v!s})' for k, v in written.items()) or 'no squares'}; write only "
        "squares/2.txt, 4.txt, 6.txt with 4, 16, 36 (an `if n % 2 == 0` skips the odd ones).",
    )
    check.require(
        len(writes) >= 2 and len({s.batch for s in writes}) == 1,
        f"The {len(writes)} writes were scheduled in {len({s.batch for s in writes})} workflow tasks, one after "
        "another: collect them and `await asyncio.gather(*calls)` so they start together.",
    )
    result = run.told()[-1].strip() if run.told() else ""
    check.require(
        as_number(result.splitlines()[-1] if result else "") == 56,
        f"The snippet returned {result[-60:]!r}: make its last line the sum of the squares, 56.",
    )
    return check


def check_your_code_tool(run: Run) -> Check:
    """Exercise 04, the second: the reader's `price` tool, in their own file, called three times from one
    snippet under `asyncio.gather`, returning numbers the snippet adds up (7.5)."""
    check = finished_check("04 · your own tool, called from code", run)
    if not check.passed:
        return check
    codes = [s for s in run.graph().steps if s.kind == "code"]
    if not check.require(bool(codes), "No run_code step: the script needs code(my_snippet) as its first step."):
        return check
    told = run.told()
    result = told[-1] if told else ""
    prices = [s for s in codes[0].inner if s.label == "price"]
    error = first_error_line(result) if any(mark in result for mark in ERROR_MARKS) else ""
    if not prices:
        check.require(
            False,
            f"No `price` call ran: the snippet was told `{error}`. Monty checks a snippet against each tool's "
            "signature before it runs it, and code can only add up numbers: make `price` return a float, and "
            "say so (`-> float`)."
            if error
            else "The snippet never called `price`: does your file's toolset give it?",
        )
        return check
    check.require(len(prices) == 3, f"{len(prices)} `price` calls ran: ask for apple, bread and cheese.")
    texts = [s for s in prices if as_number(s.result.strip("'\"")) is None]
    check.require(
        not texts,
        f"`price` returned {texts[0].result if texts else ''} (event {texts[0].event_id if texts else ''}): code "
        "adds up what a tool returns, so return the number itself, a float.",
    )
    check.require(
        len({s.batch for s in prices}) == 1,
        f"The 3 `price` calls were scheduled in {len({s.batch for s in prices})} workflow tasks, one after another: "
        "`await asyncio.gather(...)` them so they run together.",
    )
    check.require(
        as_number(result.strip().splitlines()[-1] if result.strip() else "") == 7.5,
        f"The snippet was told `{first_error_line(result)[-120:]}`: end it with the sum of the three prices, 7.5.",
    )
    return check
