"""What the next run does: how a free-text prompt picks a scripted route, and which scenario an alias names.

With the scripted model there is no LLM to read the prompt, so the demo reads it instead: a few
keywords pick one of the routes below, each a model script that shows one kind of durable work
(a tool activity, a child workflow, code that runs in the workflow, a retry, a slow tool to
cancel). The prompt's own words go into what the script writes, so each run leaves its own files.
The REPL says which route it took, and `/routes` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from durable_agents.demo import ALIASES
from durable_agents.scenarios import SCENARIOS, Scenario
from durable_agents.script import Step, call, code, final, spawn


class UnknownScenario(KeyError):
    """No scenario or alias by that name; the message lists the names there are."""

    def __str__(self) -> str:
        return str(self.args[0])


def scenario(name: str) -> tuple[str, Scenario]:
    """The scenario called `name` (a full name from `SCENARIOS` or an alias), with its full name."""
    full = ALIASES.get(name, name)
    if full not in SCENARIOS:
        close = [n for n in [*ALIASES, *SCENARIOS] if name and (name in n or n in name)][:5]
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownScenario(
            f"No scenario {name!r}.{hint} Aliases: {', '.join(ALIASES)}; `/scenarios` lists all {len(SCENARIOS)}."
        )
    return full, SCENARIOS[full]


@dataclass(frozen=True)
class Route:
    """A scripted route: the words that pick it, what it shows, and how it builds its script."""

    name: str
    keywords: tuple[str, ...]
    shows: str
    build: Callable[[str], list[Step]]
    agent: str = "demo"


def _slug(prompt: str) -> str:
    words = re.findall(r"[a-z0-9]+", prompt.lower())[:4]
    return "-".join(words) or "note"


SLOW_DEFAULT = 3.0
"""Seconds the slow route works when the prompt names none: long enough to press Ctrl-C, well inside
the slow tool's own 20-second timeout (a longer wait you ask for times out there, and Temporal retries it)."""


def _seconds(prompt: str, default: float = SLOW_DEFAULT) -> float:
    found = re.search(r"(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)", prompt)
    return float(found.group(1)) if found else default


def _note(prompt: str) -> list[Step]:
    path = f"notes/{_slug(prompt)}.txt"
    return [call("write_file", path=path, content=prompt), call("read_file", path=path), final(f"Saved to {path}.")]


def _spawn(prompt: str) -> list[Step]:
    return [
        call("write_file", path="plan.txt", content=prompt),
        spawn(
            "researcher", "Read plan.txt and summarise it.", [call("read_file", path="plan.txt"), final(prompt[:60])]
        ),
        final("The researcher read the plan."),
    ]


def _ptc(prompt: str) -> list[Step]:
    source = (
        "import asyncio\n"
        f"await asyncio.gather(write_file(path='a.txt', content={prompt!r}), "
        "write_file(path='b.txt', content='second'), spawn(agent_name='researcher', task='List the files.'))"
    )
    return [code(source, scripts={"List the files.": [call("list_files"), final("listed")]}), final("Gathered.")]


def _retry(prompt: str) -> list[Step]:
    return [call("flaky", fail_times=2), final("It worked on the third attempt.")]


def _slow(prompt: str) -> list[Step]:
    return [call("slow", seconds=_seconds(prompt)), final("Done waiting.")]


ROUTES: list[Route] = [
    Route(
        "slow",
        ("slow", "wait", "sleep", "long"),
        f"one slow tool activity that heartbeats, {SLOW_DEFAULT:g} s unless you say how long (try Ctrl-C)",
        _slow,
    ),
    Route(
        "retry", ("retry", "retries", "flaky", "fail", "again"), "a tool that fails twice; Temporal retries it", _retry
    ),
    Route(
        "ptc",
        ("ptc", "code", "python", "loop", "gather"),
        "code in the workflow gathers writes and a spawn",
        _ptc,
        agent="ptc",
    ),
    Route(
        "spawn",
        ("spawn", "subagent", "delegate", "research", "summary", "summarise", "summarize"),
        "a subagent as a child workflow",
        _spawn,
    ),
    Route("note", (), "write a file, read it back: two tool activities (the default)", _note),
]
"""The routes, tried in order; the last one is the default."""


@dataclass
class Plan:
    """What the next run will do: a script (None for a live model), the agent, the prompt, and why."""

    script: list[Step] | None
    prompt: str
    agent: str = "demo"
    origin: str = ""
    """How the plan was chosen: `route note`, `scenario ptc_loop`, `your script`, `live model ...`."""
    options: dict[str, Any] = field(default_factory=dict)
    """More keyword arguments for `Lab.run` (a scenario's cancel_after, parent_close...)."""


def scenario_plan(name: str, row: Scenario) -> Plan:
    """The plan that runs scenario `name` as the tests run it (its agent, its operator actions)."""
    options = row.run_options()
    return Plan(row.script, "Do the task.", options.pop("agent"), f"scenario {name}", options)


_ENDINGS = ("", "s", "es", "ed", "ing", "er", "ers")
"""A keyword matches a whole word, or the word with one of these endings (`wait`: waits, waiting)."""


def matches(route: Route, prompt: str) -> bool:
    """Whether one of `route`'s keywords is a whole word of `prompt` ("along" and "await" are not `long`, `wait`)."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    return any(word == key + ending for word in words for key in route.keywords for ending in _ENDINGS)


def pick(prompt: str) -> tuple[Route, list[Step]]:
    """The route a prompt takes (the first with a keyword among its words) and that route's script."""
    route = next((r for r in ROUTES if matches(r, prompt)), ROUTES[-1])
    return route, route.build(prompt)


def prompt_plan(text: str, model: str | None = None) -> Plan:
    """The plan for a free-text prompt: the route's script, or with a live model the route's agent and no script."""
    route, script = pick(text)
    if model:  # the route picks the agent (`ptc` offers run_code), the live model what it does with it
        return Plan(None, text, agent=route.agent, origin=f"live model {model}")
    return Plan(script, text, agent=route.agent, origin=f"route {route.name}")
