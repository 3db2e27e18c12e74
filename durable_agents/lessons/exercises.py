"""Checks for the notebook exercises: each says what is right, or gives a hint that points at the fix."""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass, field
from typing import Any

from durable_agents.errors import root_cause
from durable_agents.history.events import ERROR_MARKS, event_rows, first_error_line, instructions
from durable_agents.lessons.capstone import NOTES, TOPICS, expected_report
from durable_agents.lessons.notebook import listed
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
        items = "".join(f"<li>{_code_spans(h)}</li>" for h in self.hints)
        return f"<p>❌ <b>{html.escape(self.exercise)}</b>: not yet.</p><ul>{items}</ul>"


def _code_spans(hint: str) -> str:
    """A hint as HTML: `backticked` text becomes code, everything else is escaped."""
    parts = html.escape(hint).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def normalise(step: str) -> str:
    """A step of a predicted shape as a person might type it, in `shape()`'s spelling.

    `Flaky x4`, `flaky×4`, `flaky * 4` and `flaky  ×4` all become `flaky ×4`; `flaky ×3!` becomes `flaky ×3 !`.
    """
    text = " ".join(str(step).lower().split())
    text = re.sub(r"(?:\s+x|\s*[×*])\s*(\d+)", r" ×\1", text)
    return re.sub(r"\s*!$", " !", text).strip()


ARROW = re.compile(r"\s*(?:→|->|=>)\s*")
"""Between the steps of a shape as the tables write it (`model → flaky ×4 → model`), or as typed (`->`)."""

BETWEEN_STEPS = re.compile(r"\s*(?:→|->|=>|,)\s*")
"""Between the steps of a prediction typed as one string: an arrow, or a comma (`workflow code, slow`)."""

NUMBER = re.compile(r"(?:about\s+|~\s*)?(-?\d+(?:\.\d+)?)(?:\s*(?:s|secs?|seconds?))?")
"""A number as a person might type it: `3`, `3.0`, `about 5`, `~5`, `1 s`, `5 seconds`."""


def typed_steps(value: Any) -> list[str]:
    """A prediction of steps as the person typed them: a list as it is, or one string split at its arrows
    or commas (`"model → flaky ×4 → model"`, `"model -> flaky x4 -> model"`, `"workflow code, slow"`)."""
    if isinstance(value, str):
        return [step for step in BETWEEN_STEPS.split(value.strip()) if step.strip()]
    return [str(step) for step in value]


def as_steps(value: Any) -> list[str]:
    """A prediction of steps (see `typed_steps`), each in `shape()`'s spelling (see `normalise`)."""
    return [normalise(step) for step in typed_steps(value)]


def as_number(value: Any) -> float | None:
    """`value` as a number if a person meant one (`3`, `"3"`, `" 3.0 "`, `"about 5 s"`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = NUMBER.fullmatch(" ".join(str(value).lower().split()))
    return float(match.group(1)) if match else None


def answer(value: Any) -> str:
    """One spelling for every answer a check compares: numbers as numbers whether typed as text or not,
    shapes in the arrow notation (from a list or a string), yes/no for booleans, case and spacing ignored."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    number = as_number(value)
    if number is not None:
        return f"{number:g}"
    if isinstance(value, list | tuple):
        return " → ".join(as_steps(value))
    text = str(value)
    return " → ".join(as_steps(text)) if ARROW.search(text) else normalise(text).strip(" .'\"")


def unanswered(value: Any) -> bool:
    """The starter's placeholder (`"?"`, `""`, `None`) is still there."""
    return value is None or str(value).strip() in ("", "?")


def _started(exercise: str, run: Any) -> Check:
    """A check that has already looked at whether the run finished."""
    check = Check(exercise)
    check.require(run.error is None, f"The run failed ({root_cause(run.error)}); does each script end with final()?")
    return check


def _tool_steps(run: Any) -> list[Any]:
    return [s for s in run.graph().steps if s.kind == "tool"]


def _turns(run: Any, workflow_id: str | None = None) -> list[list[str]]:
    """The tools the model asked for in each of its turns, read from its model requests."""
    root = run.graph()
    node = next((n for n in root.walk() if n.workflow_id == (workflow_id or run.workflow_id)), root)
    return [[name for name, _, _ in s.calls] for s in node.steps if s.kind == "model" and s.calls]


def _count(check: Check, what: str, typed: Any, actual: int, how: str) -> None:
    """Require a counted number (typed as a number or as text), with a hint that says which way to look."""
    number = as_number(typed)
    if number is None:
        check.require(False, f"{what}: {typed!r} is not a number; write the count, e.g. 4.")
        return
    way = "too few" if number < actual else "too many"
    check.require(number == actual, f"You counted {number:g} {what}: {way}. {how}")


def check_reading(run: Any, *, activities: Any, model_requests: Any, first_tool: str) -> Check:
    """Exercise 00: read a raw history: how many activities, how many of them model requests, the first tool."""
    check = Check("00 · read a history")
    rows = event_rows(run.history_json[run.workflow_id])
    scheduled = [row for row in rows if row["type"] == "ACTIVITY_TASK_SCHEDULED"]
    _count(check, "activities", activities, len(scheduled), "Count the ACTIVITY_TASK_SCHEDULED rows: one per activity.")
    requests = sum(row["about"].endswith("__model_request") for row in scheduled)
    _count(
        check,
        "model requests",
        model_requests,
        requests,
        "Count the ACTIVITY_TASK_SCHEDULED rows whose activity ends in `__model_request` (the rest call tools).",
    )
    tools = [(row["event"], row["tool"]) for row in scheduled if row["tool"]]
    if unanswered(first_tool):
        check.require(False, "Name the first tool: replace '?' with the name in the table's *tool* column.")
    elif tools:
        event, tool = tools[0]
        check.require(
            answer(first_tool) == tool,
            f"The first tool was not {first_tool!r}: find the first ACTIVITY_TASK_SCHEDULED row with a name in "
            f"the *tool* column (event {event}).",
        )
    return check


def check_predictions(exercise: str, guesses: dict[str, Any], actual: dict[str, Any]) -> Check:
    """A predict-then-run moment: each guess against what the history says, read as a person types it
    (see `answer`: `"3"` is 3, case and spacing do not matter). A list of steps in `actual` (a run's
    shape, `scenarios.shape`) is compared step by step, and the guess may be typed in the arrow notation."""
    check = Check(exercise)
    for question, was in actual.items():
        guess = guesses.get(question)
        if unanswered(guess):
            check.require(False, f"{question}: no guess yet; replace '?' with yours (before looking at the run).")
        elif isinstance(was, list):
            _compare_steps(check, question, typed_steps(guess), was)
        else:
            check.require(answer(guess) == answer(was), f"{question}: you guessed {guess!r}, the history says {was!r}.")
    return check


def _compare_steps(check: Check, question: str, said: list[str], actual: list[str]) -> None:
    """The first step predicted wrong (quoted as typed), and a prediction of too few or too many steps."""
    wrong = next(
        (i for i, (one, was) in enumerate(zip(said, actual, strict=False)) if normalise(one) != normalise(was)), None
    )
    if wrong is not None:
        check.require(
            False, f"{question}, step {wrong + 1}: you predicted {said[wrong]!r}, the history says {actual[wrong]!r}."
        )
    check.require(
        len(said) == len(actual), f"{question}: you predicted {len(said)} steps, the history has {len(actual)}."
    )


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
        f"The tool activities were {listed(names)}: read plan.txt back with call('read_file', ...) after writing it.",
    )
    return check


def check_tools(run: Any) -> Check:
    """Exercise 02: `flaky` failing once and `word_count` in one turn, then `count.txt` with the count."""
    check = _started("02 · retries and a workflow-native tool", run)
    if not check.passed:
        return check
    steps = _tool_steps(run)
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


def check_your_toolset(run: Any) -> Check:
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
    written = {k: v for k, v in files.items() if k.startswith("squares/")}
    check.require(
        written == wanted,
        f"The sandbox holds {', '.join(f'{k} ({v})' for k, v in written.items()) or 'no squares'}; write only "
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


def _node(run: Any, workflow_id: str) -> Any:
    return next(n for n in run.graph().walk() if n.workflow_id == workflow_id)


def _said(told: list[str], phrase: str) -> str | None:
    """The first line of what a model was told that contains `phrase` (None if no line does)."""
    return next((line.strip() for text in told for line in text.splitlines() if phrase in line), None)


def check_your_subagent(run: Any) -> Check:
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


def check_your_code_tool(run: Any) -> Check:
    """Exercise 04, the second: the reader's `price` tool, in their own file, called three times from one
    snippet under `asyncio.gather`, returning numbers the snippet adds up (7.5)."""
    check = _started("04 · your own tool, called from code", run)
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


def check_retry_policy(prediction: str | list[str], run: Any) -> Check:
    """Exercise 05: a retry policy under which `flaky(fail_times=3)` succeeds, and its history predicted first."""
    actual = {"the diagram": shape(run.graph())}
    check = check_predictions("05 · change a retry policy, predict the diagram", {"the diagram": prediction}, actual)
    flaky = [s for s in _tool_steps(run) if s.label == "flaky"]
    attempts = flaky[0].attempts if flaky else 0
    check.require(
        run.error is None and bool(flaky) and flaky[0].status == "completed",
        f"flaky took {attempts} attempt(s) and failed for good: it fails three times before it succeeds, so the "
        "task wants a policy that allows at least 4 (my_attempts).",
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
    check.require(
        len({s.batch for s in children}) <= 1,
        "The subagents started one after another: pass all three spawn(...) calls to one "
        "`await asyncio.gather(...)` so they start together and can land on different workers.",
    )
    parts = {k for k in run.files() if k.startswith("part")}
    check.require(
        parts == {"part0.txt", "part1.txt", "part2.txt"}, f"Files {sorted(parts)}: each subagent writes one part."
    )
    workers = {w for node in graph.walk() for w in node.workers}
    check.require(workers <= set(pool.identities), f"Workers {sorted(workers)} are not all in the pool.")
    return check


def check_your_tool(run: Any) -> Check:
    """Exercise 05, the second: the reader's `fetch_rate`, in their own file, run by a worker process.

    A busy service (every call's first attempt) is retried by Temporal; an unknown currency is told
    to the model at once; the toolset's retry policy allows three attempts, 100 ms apart.
    """
    check = Check("05 · your own tool, in a worker process")
    calls = [s for s in _tool_steps(run) if s.label == "fetch_rate"]
    if not check.require(
        len(calls) == 2,
        f"{len(calls)} `fetch_rate` activities ran, not 2: does your file give `fetch_rate` in the toolset of "
        "`CAPABILITY`, and did you rerun the `%%writefile` cell and then the cell that starts the worker?",
    ):
        return check
    known, unknown = calls
    policy: dict[str, Any] = next((row for row in run.activity_options() if row["tool"] == "fetch_rate"), {})
    allowed = f"{policy.get('max_attempts')} attempts, the first retry after {policy.get('first_retry_after')}"
    allowed = "1 attempt, no retry" if policy.get("max_attempts") == 1 else allowed
    check.require(
        policy.get("max_attempts") == 3 and policy.get("first_retry_after") == "0.100s",
        f"The toolset's retry policy allows {allowed}: give `activity_config` "
        "`retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100))`.",
    )
    ended = "the model was told it failed" if known.outcome == "tool_failed" else known.status.replace("_", " ")
    check.require(
        (known.status, known.attempts, known.outcome) == ("completed", 2, "tool_return"),
        f"fetch_rate('USD') took {known.attempts} attempt(s), then {ended}: a busy service is transient, so "
        "raise `ToolRetryableError` and let Temporal try again (the second attempt succeeds).",
    )
    if unknown.outcome == "tool_failed":
        how = "the model was told"
    elif run.error is not None:
        how = f"the activity {unknown.status}, and the run with it"
    else:
        how = f"the activity {unknown.status}; the run went on and ended {run.output!r}"
    check.require(
        unknown.attempts == 1 and unknown.outcome == "tool_failed",
        f"fetch_rate('XYZ') took {unknown.attempts} attempt(s), then {how}: no attempt will ever find a rate for "
        "an unknown currency, so raise `ToolExecutionError`: the model is told at once and no retry is spent.",
    )
    check.require(run.error is None, f"The run failed ({root_cause(run.error)}).")
    return check


def check_capstone(crash: Any) -> Check:
    """Exercise 09: researchers gathered in a snippet, a failure told, a report written, a worker killed."""
    run = crash.run
    check = _started("09 · the capstone", run)
    if not check.passed:
        return check
    graph = run.graph()
    codes = [s for s in graph.steps if s.kind == "code"]
    if not check.require(bool(codes), "No run_code step: put the research and the long job in one code('...')."):
        return check
    inner = [s for c in codes for s in c.inner]
    researchers = [s for s in inner if s.kind == "child" and s.label == "researcher"]
    check.require(
        len(researchers) == 3,
        f"{len(researchers)} researcher(s) ran inside run_code: gather three "
        "`spawn(agent_name='researcher', task=...)` calls, one per path in `capstone.TOPICS`.",
    )
    check.require(
        len({s.batch for s in researchers}) <= 1,
        "The researchers started one after another: pass all three spawns to one `asyncio.gather(...)`.",
    )
    for researcher in researchers:
        path = next((p for p in TOPICS if p in researcher.detail), None)
        told = "\n".join(run.told(researcher.child.workflow_id)) if researcher.child else ""
        if path in NOTES:
            check.require(
                NOTES[path] in told, f"The researcher of {path} was not told its text: `read_file(path='{path}')`."
            )
        elif path:
            check.require(
                "No file" in told,
                f"The researcher of {path} should try `read_file(path='{path}')`: it was never written, so the "
                "model is told the read failed (the failure in this task), and answers that there are no notes.",
            )
    report = run.files().get("report.md")
    lines = report.splitlines() if isinstance(report, str) else []
    said = "There is no report.md" if report is None else f"report.md says {listed(lines, 'nothing')}"
    check.require(
        lines == expected_report(),
        f"{said}; it should say {listed(expected_report())} (the researchers' answers, one a line).",
    )
    check.require(
        any(s.label == "write_file" and "report.md" in s.detail for s in inner),
        "report.md was not written inside the snippet: join what the gather returned and `write_file` it there.",
    )
    slow = [s for s in inner if s.label == "slow"]
    if check.require(bool(slow), "No slow(...) inside the snippet: the crash needs a long job to interrupt."):
        check.require(
            bool(crash.killed) and slow[0].attempts >= 2 and slow[0].worker != crash.killed,
            f"slow ran {slow[0].attempts} time(s) and no worker died during it: start the run with "
            "`capstone.run_with_crash(lab, pool, script)`, and call slow after the gather.",
        )
    repeated = [n.workflow_id for n in graph.walk() for s in n.steps if s.kind == "model" and s.attempts > 1]
    check.require(not repeated, f"A model request ran twice in {repeated}: the crash should only redo the long job.")
    return check


CRASH_STEPS = ("workflow code", "model request", "write_file", "slow")
"""What may run again after a crash, in the words exercise 07 uses."""


def check_crash_prediction(prediction: str | list[str], run: Any) -> Check:
    """Exercise 07: the reader predicted which steps run again when every worker dies while `slow` runs
    (names from `CRASH_STEPS`, as a list or one string, read as a person types them: see `as_steps`)."""
    from durable_agents.lessons.durability import replays

    check = Check("07 · what runs again after a crash")
    prediction = as_steps(prediction)
    unknown = [p for p in prediction if p not in CRASH_STEPS]
    if not check.require(not unknown, f"{listed(unknown)}: not steps here; use names from {listed(CRASH_STEPS)}."):
        return check
    again = {"workflow code"} if replays(run.history_json[run.workflow_id]) else set()
    for step in run.graph().steps:
        if step.attempts > 1:
            again.add("model request" if step.kind == "model" else step.label)
    for name in CRASH_STEPS:
        if name in prediction and name not in again:
            check.require(False, f"{name!r} did not run again: its result was in the history, so the new "
                                 "worker was handed the result instead of running it.")  # fmt: skip
        elif name == "workflow code" and name in again and name not in prediction:
            check.require(False, "The workflow code did run again: a worker that has not seen the run rebuilds its "
                                 "state by replaying the code from the start (see `durability.replays`).")  # fmt: skip
        elif name in again and name not in prediction:
            check.require(False, f"{name!r} ran again: it was in flight when the workers died, so the history held "
                                 "no result for it; Temporal retried it.")  # fmt: skip
    return check


async def check_patch(step: Any, before: Any, after: Any) -> Check:
    """Exercise 07: the reader's `step` (run before the demo agent's first model request) is replay-safe.

    `before`: histories recorded before the change; `after`: histories of new runs under the
    patched version (`versions.PacedPatchedWorkflow`). The reader's version must replay both.
    """
    from durable_agents.lessons.verdicts import replay_against
    from durable_agents.versions import PACING_PATCH, with_step

    check = Check("07 · a replay-safe change")
    reader = with_step(step)
    old = [v for v in await replay_against(before, reader, "your version") if not v.passed]
    check.require(not old, f"A run from before the change does not replay: {old[0].explain() if old else ''}. "
                           "Guard the new step with `if workflow.patched(...)` so old runs skip it.")  # fmt: skip
    new = [v for v in await replay_against(after, reader, "your version") if not v.passed]
    check.require(not new, f"A new run of the patched version does not replay: {new[0].explain() if new else ''}. "
                           f"New runs pause for `versions.PAUSE` behind the patch id {PACING_PATCH!r}: use that id "
                           "and keep the pause.")  # fmt: skip
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


# --- Code the reader writes, run by worker processes (06, 08, 09) ---------------------------------


def _did_not_start(what: str, error: BaseException) -> str:
    """A hint for a reader's worker program that never polled: the last line its log has, and the likely fix."""
    text = str(error)
    last = text.strip().splitlines()[-1] if text.strip() else type(error).__name__
    fixes = {
        "'ellipsis'": "fill in each `...` the starter left",
        "cannot import name": "define it in your module (its TODOs say how), and rerun that `%%writefile` cell",
        "ModuleNotFoundError": "a worker program runs from its own folder: keep your agent module beside it",
        "(exit code 0)": "your program ended without polling: `await worker.run()` keeps it running",
        "polls as": "pass `identity=identity` to `Worker(...)`",
        "no such file": "run the `%%writefile` cell first",
        "No worker program": "run the `%%writefile` cell first",
    }
    fix = next((f for key, f in fixes.items() if key in text), "read the error above and fix the file")
    return f"{what} did not start polling: `{last}`. {fix[0].upper()}{fix[1:]}."


def _strangers(run: Any, identities: set[str]) -> set[str]:
    """Workers in the run's histories that are not the reader's."""
    return {w for node in run.graph().walk() for w in node.workers if w not in identities}


async def check_your_worker(lab: Any, program: str | Any) -> Check:
    """Exercise 06, the second: the reader's worker program, two processes of it, one killed mid-tool.

    Starts two processes of `program` on `lab`'s task queue (stop every other worker first), runs
    the failover drill on them, and reads from the history that they ran it all and that the
    survivor took over `slow`.
    """
    from durable_agents.lab import WorkerPool
    from durable_agents.lessons.migration import failover_drill

    check = Check("06 · your own worker process")
    try:
        mine = await WorkerPool.start(lab, 2, prefix="mine", program=program)
    except (OSError, RuntimeError, TimeoutError) as exc:
        check.require(False, _did_not_start("Your worker", exc))
        return check
    try:
        drill = await asyncio.wait_for(failover_drill(lab, mine, seconds=1.5, compare=False), 120)
    except TimeoutError:
        check.require(False, "The drill did not finish in two minutes: is every other worker of this lab stopped?")
        return check
    finally:
        survivors = set(mine.identities)
        await mine.stop()
    run = drill.run
    if not check.require(run.error is None, f"The drill's run failed: `{root_cause(run.error)}`."):
        return check
    others = _strangers(run, survivors | {drill.killed})
    check.require(
        not others,
        f"Workers {sorted(others)} ran part of the drill: stop every other worker of this lab first "
        "(`await pool.stop()`), so that only yours poll.",
    )
    slow = [s for s in run.graph().steps if s.label == "slow"]
    check.require(
        bool(slow) and slow[0].attempts == 2 and slow[0].worker in survivors,
        f"slow took {slow[0].attempts if slow else 0} attempt(s), the last on {slow[0].worker if slow else '?'}: "
        f"after {drill.killed} died, the other of your workers should take the second attempt.",
    )
    return check


YOUR_LONG_QUEUE = "your-approvals"
"""The task queue of the worker process that loads the reader's approval tool (notebook 08)."""


def check_your_approval(run: Any) -> Check:
    """Exercise 08, the second: the reader's `pay` tool pays up to 1,000 at once and asks a person above that.

    Read from the history: `INV-1` (120) is paid in the first agent run, before the wait for a
    person (a timer); `INV-2` (9,000) is paid only after it (the person approved it).
    """
    check = Check("08 · your own approval-gated tool")
    steps = run.graph().steps
    waits = [s.event_id for s in steps if s.kind == "timer"]
    if not check.require(
        len(waits) <= 1,
        f"The run asked a person {len(waits)} times: INV-2 was approved, then asked about again. Once a call "
        "is approved, the tool is called with `ctx.tool_call_approved` True: pay then instead of raising.",
    ):
        return check
    if not check.require(run.error is None, f"The run failed: `{root_cause(run.error)}`."):
        return check
    paid = {inv: [s for s in steps if s.label == "pay" and inv in s.detail and "paid" in s.result] for inv in INVOICES}
    if not check.require(
        any(s.label == "pay" for s in steps),
        "No `pay` activity ran: does your file's `CAPABILITY` give a toolset with `pay`, and did you rerun the "
        "`%%writefile` cell, then the cell that starts the worker?",
    ):
        return check
    small, large = paid["INV-1"], paid["INV-2"]
    check.require(
        bool(small) and (not waits or small[0].event_id < waits[0]),
        "The 120 EUR payment waited for a person (it was paid only after the wait): only payments over "
        "1,000 need approval. Raise `ApprovalRequired()` only when `amount > 1000`.",
    )
    check.require(
        bool(waits),
        "The run never waited for a person: the 9,000 EUR payment went through unasked. In `pay`, when "
        "`amount > 1000` and not `ctx.tool_call_approved`, raise `ApprovalRequired()`.",
    )
    if waits:
        check.require(
            bool(large) and large[-1].event_id > waits[0],
            "INV-2 was not paid after the person approved it: the model was told "
            f"{next((t for t in run.told() if 'INV-2' in t), 'nothing about INV-2')!r}. Once approved, "
            "`ctx.tool_call_approved` is True: pay then.",
        )
    return check


INVOICES = {"INV-1": 120, "INV-2": 9000}
"""08's second exercise: the invoices the script pays, and their amounts in EUR."""


async def check_your_agent(lab: Any, agent_file: str | Any, worker_file: str | Any, drive: Any) -> Check:
    """Exercise 09, the second: the reader's own agent module, worker program and crash drive.

    Starts two processes of `worker_file` on a task queue of their own, calls `await drive(lab,
    workers, task_queue)` (which starts the reader's workflow, kills the worker that holds its tool,
    and returns the workflow id), follows the run, reads its history, then replays that history in
    a fresh process that imports `agent_file`.
    """
    from durable_agents.lab import WorkerPool
    from durable_agents.lessons.capstone import YOUR_QUEUE, replay_in_a_process

    check = Check("09 · your own durable agent")
    try:
        workers = await WorkerPool.start(lab, 2, prefix="yours", task_queue=YOUR_QUEUE, program=worker_file)
    except (OSError, RuntimeError, TimeoutError) as exc:
        check.require(False, _did_not_start("Your worker program", exc))
        return check
    started = set(workers.identities)
    try:
        try:
            workflow_id = await asyncio.wait_for(drive(lab, workers, YOUR_QUEUE), 60)
            if not check.require(
                isinstance(workflow_id, str), f"`drive` returned {workflow_id!r}: return the workflow id (`handle.id`)."
            ):
                return check
            run = await asyncio.wait_for(lab.follow(workflow_id, check=False), 90)
        except Exception as exc:  # the reader's drive, or a run that never ends: both are hints here
            check.require(False, f"Driving the run raised `{type(exc).__name__}: {exc}`.")
            return check
    finally:
        killed = sorted(started - set(workers.identities))
        await workers.stop()
    graph = run.graph()
    if not check.require(run.error is None, f"Your workflow failed: `{root_cause(run.error)}`."):
        return check
    check.require(
        graph.workflow_type not in ("DemoAgentWorkflow", "LongRunWorkflow"),
        f"The run is a `{graph.workflow_type}`, the workbook's: start your own workflow.",
    )
    models = [s for s in graph.steps if s.kind == "model"]
    tools = [s for s in graph.steps if s.kind == "tool"]
    check.require(
        len(models) >= 2 and bool(tools),
        f"The history has {len(models)} model request(s) and {len(tools)} tool call(s): your model should "
        "call your tool first, then answer with what it returned.",
    )
    others = _strangers(run, started)
    check.require(not others, f"Workers {sorted(others)} ran part of it: start it on the queue `drive` is given.")
    if check.require(bool(killed), "No worker died: in `drive`, `workers.kill(...)` the one that holds your tool."):
        again = [s for s in tools if s.attempts >= 2]
        check.require(
            bool(again) and again[0].worker not in killed,
            f"{killed[0]} died, but no tool ran again ({', '.join(f'{s.label} ×{s.attempts}' for s in tools)}): "
            "kill it while the tool runs (`durability.tool_in_flight(...)` says when), and make the tool take a "
            "few seconds.",
        )
    repeated = [s.label for s in models if s.attempts > 1]
    check.require(not repeated, f"A model request ran twice ({len(repeated)}): the crash should redo only the tool.")
    if check.passed:
        error = await asyncio.to_thread(replay_in_a_process, agent_file, run.histories)
        check.require(
            not error,
            f"The history does not replay in a fresh process that imports your module: `{error}`. Workflow code "
            "must make the same commands every time: no clock, randomness or I/O outside activities.",
        )
    return check
