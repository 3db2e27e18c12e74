"""Checks for the notebook exercises: each says what is right, or gives a hint that points at the fix."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from durable_agents.errors import root_cause
from durable_agents.scenarios import shape


@dataclass
class Check:
    """The outcome of an exercise check; shows as ✅ or ❌ with hints in a notebook."""

    exercise: str
    hints: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.hints

    def require(self, condition: bool, hint: str) -> bool:
        if not condition:
            self.hints.append(hint)
        return condition

    def assert_passed(self) -> None:
        """Raise `AssertionError` with the hints unless the check passed (for solution cells and CI)."""
        assert self.passed, f"{self.exercise}: " + " ".join(self.hints)

    def _repr_html_(self) -> str:
        if self.passed:
            return f"<p>✅ <b>{html.escape(self.exercise)}</b>: well done.</p>"
        items = "".join(f"<li>{html.escape(h)}</li>" for h in self.hints)
        return f"<p>❌ <b>{html.escape(self.exercise)}</b>: not yet.</p><ul>{items}</ul>"


def _started(exercise: str, run: Any) -> Check:
    """A check that has already looked at whether the run finished."""
    check = Check(exercise)
    check.require(run.error is None, f"The run failed ({root_cause(run.error)}); does each script end with final()?")
    return check


def _tool_steps(run: Any) -> list[Any]:
    return [s for s in run.graph().steps if s.kind == "tool"]


def check_wrapping(run: Any) -> Check:
    """Exercise 01: write `plan.txt` (three lines), read it back, answer with its first line."""
    check = _started("01 · a plan in three lines", run)
    if not check.passed:
        return check
    plan = run.files().get("plan.txt")
    if check.require(plan is not None, "No plan.txt in the sandbox: add call('write_file', path='plan.txt', ...)."):
        lines = plan.splitlines()
        check.require(len(lines) == 3, f"plan.txt has {len(lines)} line(s); put three in content, joined by '\\n'.")
        check.require(
            run.output == (lines[0] if lines else None),
            f"The answer is {run.output!r}; make final(...) say the plan's first line, {lines[0] if lines else ''!r}.",
        )
    names = [s.label for s in _tool_steps(run)]
    wrote_then_read = "write_file" in names and "read_file" in names[names.index("write_file") :]
    check.require(
        wrote_then_read,
        f"The tool activities were {names}: read plan.txt back with call('read_file', ...) after writing it.",
    )
    return check


def check_tools(run: Any) -> Check:
    """Exercise 02: `flaky` failing once and `word_count` in one turn, then `count.txt` with the count."""
    check = _started("02 · retries and a workflow-native tool", run)
    if not check.passed:
        return check
    steps = _tool_steps(run)
    flaky = [s for s in steps if s.label == "flaky"]
    check.require(bool(flaky), "No flaky activity: add call('flaky', fail_times=1) to the parallel step.")
    check.require(
        any(s.attempts == 2 for s in flaky),
        f"flaky took {[s.attempts for s in flaky]} attempt(s); with fail_times=1 it needs 2.",
    )
    check.require(
        not any(s.label == "word_count" for s in steps),
        "word_count showed up as an activity; it is workflow-native and should not.",
    )
    counts = [t for t in run.told() if t.isdigit()]
    check.require(bool(counts), "The model was never told a word count: call word_count(text=...) in the same turn.")
    written = run.files().get("count.txt")
    check.require(
        written is not None and written.strip() in counts,
        f"count.txt holds {written!r}; write the number word_count returned ({', '.join(counts) or '?'}).",
    )
    return check


def check_spawn(run: Any) -> Check:
    """Exercise 03: a `poet` subagent, added to the roster, writes `poem.txt`."""
    check = _started("03 · a new subagent", run)
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
    poem = run.files().get("poem.txt", "")
    check.require(bool(poem.strip()), "No poem.txt: in the poet's script, call('write_file', path='poem.txt', ...).")
    check.require(
        run.output == "A poem was written.", f"The parent answered {run.output!r}, not 'A poem was written.'."
    )
    return check


def check_ptc(run: Any) -> Check:
    """Exercise 04: squares of the even numbers 1..6, written concurrently from one `run_code`."""
    check = _started("04 · a loop, a branch, a gather", run)
    if not check.passed:
        return check
    codes = [s for s in run.graph().steps if s.kind == "code"]
    if not check.require(bool(codes), "No run_code step: the script needs code('...') as its first step."):
        return check
    writes = [s for s in codes[0].inner if s.label == "write_file"]
    files = run.files()
    wanted = {f"squares/{n}.txt": str(n * n) for n in (2, 4, 6)}
    check.require(
        {k: v for k, v in files.items() if k.startswith("squares/")} == wanted,
        f"The sandbox holds {sorted(files)}; write only squares/2.txt, 4.txt, 6.txt with 4, 16, 36 "
        "(an `if n % 2 == 0` skips the odd ones).",
    )
    check.require(
        len(writes) >= 2 and len({s.batch for s in writes}) == 1,
        "The writes ran one after another: collect them and `await asyncio.gather(*calls)` so they run together.",
    )
    check.require(any(t.strip().endswith("56") for t in run.told()), "The snippet should end with the sum, 56.")
    return check


def check_prediction(prediction: list[str], run: Any) -> Check:
    """Exercise 05: the reader predicted the run's shape (`scenarios.shape`) before running it."""

    check = Check("05 · predict the diagram")
    actual = shape(run.graph())
    for index, (said, was) in enumerate(zip(prediction, actual, strict=False)):
        if said != was:
            check.require(False, f"Step {index}: you predicted {said!r}, the history says {was!r}.")
            break
    check.require(
        len(prediction) == len(actual),
        f"You predicted {len(prediction)} steps, the history has {len(actual)}: "
        "does the workflow go on after a tool runs out of attempts?",
    )
    return check


def check_migration(run: Any, pool: Any) -> Check:
    """Exercise 06: one `run_code` gathers three subagents, each writing `part<i>.txt`, on the worker pool."""
    check = _started("06 · a fan-out across processes", run)
    if not check.passed:
        return check
    graph = run.graph()
    codes = [s for s in graph.steps if s.kind == "code"]
    children = [s for c in codes for s in c.inner if s.kind == "child"]
    check.require(
        len(children) == 3, f"{len(children)} subagent(s) ran inside run_code; gather three spawn(...) calls."
    )
    parts = {k for k in run.files() if k.startswith("part")}
    check.require(
        parts == {"part0.txt", "part1.txt", "part2.txt"}, f"Files {sorted(parts)}: each subagent writes one part."
    )
    workers = {w for node in graph.walk() for w in node.workers}
    check.require(workers <= set(pool.identities), f"Workers {sorted(workers)} are not all in the pool.")
    return check


def check_long_running(run: Any) -> Check:
    """Exercise 08: of the three deletions the agent asks for, approve `old.log` and `draft.txt`,
    deny `notes.txt` with a reason the model reads."""
    check = _started("08 · a person decides", run)
    if not check.passed:
        return check
    files = run.files()
    check.require("notes.txt" in files, "notes.txt was deleted: deny its call (approve=False).")
    for path in ("old.log", "draft.txt"):
        check.require(path not in files, f"{path} is still in the sandbox: approve its call (approve=True).")
    told = "\n".join(run.told())
    check.require("denied by default" not in told, "A call waited out its deadline: answer every pending call.")
    check.require(
        "no reason given" not in told,
        "The model was told no reason for the denial: pass reason='...' with it; the model reads it.",
    )
    return check
