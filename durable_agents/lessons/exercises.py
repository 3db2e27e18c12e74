"""What every exercise check shares: `Check` (shows as ✅ or ❌ with hints), one normaliser for what a
person types (`answer`: numbers as text, the arrow notation, case, spacing) and one checker for
predictions (`check_predictions`, a run's steps compared step by step).

Each notebook's own checks live in its lesson module (`orientation.check_reading`, ...,
`capstone.check_your_agent`), beside what else that notebook uses.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from durable_agents.errors import root_cause

if TYPE_CHECKING:
    from durable_agents.lab.run import Run


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


def finished_check(exercise: str, run: Run) -> Check:
    """A check that has already looked at whether the run finished."""
    check = Check(exercise)
    check.require(run.error is None, f"The run failed ({root_cause(run.error)}); does each script end with final()?")
    return check


def tool_steps(run: Run) -> list[Any]:
    return [s for s in run.graph().steps if s.kind == "tool"]


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


def did_not_start(what: str, error: BaseException) -> str:
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


def strangers(run: Run, identities: set[str]) -> set[str]:
    """Workers in the run's histories that are not the reader's."""
    return {w for node in run.graph().walk() for w in node.workers if w not in identities}
