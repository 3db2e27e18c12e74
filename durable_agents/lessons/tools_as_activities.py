"""Notebook 02 (tools as activities): the package code it shows, in one import for its set-up cell.

Notebook 02's set-up cell imports from two places, `lessons.workbook` and this module: the faults
capability (tools that fail on purpose), the workflow-native `text` tools and the MCP server's
toolset, re-exported here (`name as name`) so that the notebook can show each where it discusses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from durable_agents.capabilities import faults as faults
from durable_agents.capabilities import text as text
from durable_agents.errors import root_cause
from durable_agents.history.events import event_rows
from durable_agents.lessons.exercises import (
    Check,
    finished_check,
    tool_steps,
)
from durable_agents.lessons.notebook import listed
from durable_agents.mcp_server import units_toolset as units_toolset

if TYPE_CHECKING:
    from durable_agents.lab.run import Run

# --- The exercises' checks -------------------------------------------------------------------------


def _turns(run: Run, workflow_id: str | None = None) -> list[list[str]]:
    """The tools the model asked for in each of its turns, read from its model requests."""
    root = run.graph()
    node = next((n for n in root.walk() if n.workflow_id == (workflow_id or run.workflow_id)), root)
    return [[name for name, _, _ in s.calls] for s in node.steps if s.kind == "model" and s.calls]


def check_tools(run: Run) -> Check:
    """Exercise 02: `flaky` failing once and `word_count` in one turn, then `count.txt` with the count."""
    check = finished_check("02 · retries and a workflow-native tool", run)
    if not check.passed:
        return check
    steps = tool_steps(run)
    flaky = [s for s in steps if s.label == "flaky"]
    if check.require(bool(flaky), "No flaky activity: add call('flaky', fail_times=1) to the parallel step."):
        check.require(
            any(s.attempts == 2 for s in flaky),
            f"flaky took {listed([s.attempts for s in flaky])} attempt(s); with fail_times=1 it fails once, so it "
            "needs 2.",
        )
    check.require(
        not any(s.label == "word_count" for s in steps),
        "word_count showed up as an activity; it is workflow-native and should not.",
    )
    turns = _turns(run)
    check.require(
        any({"flaky", "word_count"} <= set(turn) for turn in turns),
        f"The model's turns asked for {' | '.join(', '.join(t) for t in turns) or 'no tools'}: put flaky and "
        "word_count in one turn, `parallel(call('flaky', ...), call('word_count', ...))`.",
    )
    counts = [t for t in run.told() if t.isdigit()]
    check.require(bool(counts), "The model was never told a word count: call word_count(text=...) in the same turn.")
    written = run.files().get("count.txt")
    check.require(
        written is not None and written.strip() in counts,
        f"{'No count.txt' if written is None else f'count.txt holds {written!r}'}; write the number word_count "
        f"returned ({', '.join(counts) or '?'}) to count.txt.",
    )
    return check


WORDS_SCRIPT_ANSWERS = {"define": "able to withstand wear", "shout": "DURABLE!"}
"""What `define(word='durable')` and `shout(text='durable')` return in exercise 02's second task."""


def check_your_toolset(run: Run) -> Check:
    """Exercise 02, the second: the reader's `words` toolset, in their own file, run by a worker process.

    `define` is an activity with its own settings (5 s a try, two tries); `shout` is workflow-native.
    Judged from the history and what the model was told, however the file is written.
    """
    check = Check("02 · your own toolset, in a worker process")
    if run.error is not None:
        cause = root_cause(run.error).rstrip(".")
        check.require(False, f"The run failed: {cause}. (Does your file give `define` and `shout`?)")
        return check
    scheduled = [r for r in event_rows(run.history_json[run.workflow_id]) if r["type"] == "ACTIVITY_TASK_SCHEDULED"]
    options = {row["tool"]: row for row in run.activity_options()}
    told = "\n".join(run.told())
    define = options.get("define")
    if define is None:
        check.require(False, "No `define` activity ran: is `define` in your toolset, not workflow-native?")
    else:
        event = next(r["event"] for r in scheduled if r["tool"] == "define")
        check.require(
            (define["start_to_close"], define["max_attempts"]) == ("5s", 2),
            f"Event {event} scheduled `define` with start_to_close {define['start_to_close']} and max_attempts "
            f"{define['max_attempts']}: give it its own settings, `Tool(define, metadata={{'temporal': ActivityConfig("
            "start_to_close_timeout=timedelta(seconds=5), retry_policy=RetryPolicy(maximum_attempts=2))})`.",
        )
        check.require(WORDS_SCRIPT_ANSWERS["define"] in told, "The model was never told what `define` returned.")
    shouted = next((r for r in scheduled if r["tool"] == "shout"), {})
    check.require(
        not shouted,
        f"Event {shouted.get('event')} scheduled `shout` as an activity ({shouted.get('about')}): it is pure "
        "computation, so make it workflow-native, `Tool(shout, metadata={'temporal': False})`.",
    )
    check.require(
        WORDS_SCRIPT_ANSWERS["shout"] in told,
        "The model was never told `DURABLE!`: `shout` should return its text in capitals, with a '!'.",
    )
    return check
