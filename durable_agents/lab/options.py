"""A run's options, defined once: `RunOptions` checks itself and builds the workflow's input.

`lab.run(...)`, `lab.start_run(...)`, `lab.request(...)` and a long run all take these as keywords
(`lab.run(script, tool_retries=5)`), so a misspelt one is told by name, with the spelling meant,
and every check happens here, before Temporal is asked for anything.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from durable_agents import live
from durable_agents.capabilities import payloads
from durable_agents.deps import REQUEST_LIMIT, ROSTER, TOOL_RETRIES, ParentClose, Role
from durable_agents.lab.errors import LabError
from durable_agents.script import Step, parse_script, subagent_scripts
from durable_agents.workflows import AGENT_NAMES, LONG_RUN_AGENTS, AgentRequest

_step: TypeAdapter[Step] = TypeAdapter(Step)
_request = TypeAdapter(AgentRequest)

Script = Sequence[Step | dict[str, Any]]
"""A model script as a reader writes it: steps from `durable_agents.script`, or their plain dicts."""


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How one run goes. Every field has a default; `lab.run(..., name=value)` sets one."""

    agent: str = "demo"
    """Which hosted agent runs (`durable_agents.workflows.AGENT_NAMES`)."""
    model: str | None = None
    """A live model instead of a script (`"gpt-5.5"`, `"anthropic:claude-..."`, `"ollama:qwen3"`)."""
    base_url: str | None = None
    """Where the live model is served, for an OpenAI-compatible local server (Ollama, LM Studio, vLLM)."""
    roster: Mapping[str, Role] | None = None
    """Subagents this run may spawn besides the standard ones (name -> `Role`)."""
    parent_close: ParentClose = "TERMINATE"
    """What the run's subagents do when it is cancelled or terminated."""
    teaching_tools: bool = False
    """Offer a live model the tools that fail on purpose too."""
    tool_retries: int = TOOL_RETRIES
    """How many retry prompts in a row one tool may cause before the run fails."""
    request_limit: int = REQUEST_LIMIT
    """How many model requests the run may make."""
    timeout: float = 60
    """Seconds the whole run may take (Temporal's execution timeout)."""
    task_timeout: float = 10
    """Seconds a worker may hold one workflow task (Temporal's workflow task timeout; 10 is its default).
    A worker that fails a task again lets it time out rather than say so twice, so this is also how long
    a task a broken deploy holds waits before another worker is offered it (notebook 07)."""

    def __post_init__(self) -> None:
        __tracebackhide__ = True
        if self.agent not in AGENT_NAMES and self.agent not in LONG_RUN_AGENTS:
            raise LabError(
                f"Unknown agent {self.agent!r}: the worker hosts {', '.join([*AGENT_NAMES, *LONG_RUN_AGENTS])}."
            )
        object.__setattr__(self, "roster", dict(self.roster or {}))
        if unknown := {name: r.agent for name, r in (self.roster or {}).items() if r.agent not in AGENT_NAMES}:
            raise LabError(
                f"Roster entries {unknown} name agents the worker does not host: use one of {', '.join(AGENT_NAMES)}."
            )
        for name, least in (("tool_retries", 0), ("request_limit", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise LabError(f"{name}={value!r}: give a whole number of at least {least}.")
        for name, example in (("timeout", 60), ("task_timeout", 10)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise LabError(f"{name}={value!r}: give the run a positive number of seconds, e.g. {name}={example}.")
        if self.model is not None:
            if not isinstance(self.model, str) or not self.model.strip():
                raise LabError(
                    f"model={self.model!r}: name a live model (e.g. 'gpt-5.5'), or leave it out for a script."
                )
            object.__setattr__(self, "model", live.resolve(self.model, self.base_url))
        elif self.base_url is not None:
            raise LabError("base_url is where a live model is served: add model='ollama:<name>' (or another model).")

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> RunOptions:
        """`RunOptions(**options)`, with an unknown keyword told by name (and the one probably meant)."""
        __tracebackhide__ = True
        names = [f.name for f in dataclasses.fields(cls)]
        for key in options:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                meant = f" Did you mean {close[0]}=?" if close else ""
                raise LabError(f"A run has no option {key!r}.{meant} Its options: {', '.join(names)}.")
        return cls(**options)

    def request(self, script: Script | None, prompt: str, sandbox_dir: Path) -> AgentRequest:
        """The workflow's input for one run (checks the script, the prompt and what can travel first)."""
        __tracebackhide__ = True
        if self.model is None and script is None:
            raise LabError("Give the run a model script (a list of steps), or model='openai:...' for a live model.")
        check_prompt(prompt)
        steps = parse_script(script) if script is not None else None
        request = AgentRequest(
            prompt=prompt,
            sandbox_dir=str(sandbox_dir),
            script=steps,
            agent=self.agent,
            model=self.model,
            base_url=live.check_base_url(self.base_url) if self.model else None,
            scripts=subagent_scripts(steps or []),
            roster={**ROSTER, **(self.roster or {})},
            parent_close=self.parent_close,
            teaching_tools=self.teaching_tools,
            tool_retries=self.tool_retries,
            request_limit=self.request_limit,
        )
        check_sendable(request)
        return request


def check_prompt(prompt: object) -> None:
    """A prompt is text Temporal can carry: a `str`, valid as UTF-8, well under the payload limit."""
    if not isinstance(prompt, str):
        raise LabError(f"prompt={prompt!r}: give the run's task as text, e.g. prompt='Write a haiku'.")
    try:
        size = len(prompt.encode())
    except UnicodeEncodeError as exc:
        raise LabError(
            f"The prompt cannot be sent to Temporal: {exc.reason} at character {exc.start}. Use ordinary text."
        ) from None
    if size * 2 > payloads.PAYLOAD_LIMIT:
        raise LabError(
            f"The prompt is {payloads.megabytes(size)}: it travels with every model request, so it must stay under "
            f"half of Temporal's {payloads.megabytes(payloads.PAYLOAD_LIMIT)} payload limit. Put large content in a "
            "file the run reads (a tool produces or reads it), and keep the prompt short."
        )


def check_sendable(request: AgentRequest) -> None:
    """Raise `LabError` if `request` cannot travel as a Temporal payload: a step that will not
    serialise, or a script too large for the model requests that carry it (naming the step)."""
    sizes = []
    for index, step in enumerate(request.script or []):
        try:
            sizes.append(payloads.size(step, _step))
        except Exception as exc:  # pydantic's serialisation errors have no common base
            raise LabError(
                f"Step {index} of the script cannot be sent to Temporal: {exc}. Tool arguments travel as JSON: "
                "use text (valid UTF-8), numbers, booleans, lists and dicts."
            ) from None
    total = payloads.size(request, _request)
    if total * 2 > payloads.PAYLOAD_LIMIT:
        biggest = max(range(len(sizes)), key=sizes.__getitem__, default=0)
        where = f" (step {biggest} alone is {payloads.megabytes(sizes[biggest])})" if sizes else ""
        raise LabError(
            f"The run's input is {payloads.megabytes(total)}{where}. It travels as one payload, and the script's "
            "steps come back in the conversation every model request carries, so it must stay under half of Temporal's "
            f"{payloads.megabytes(payloads.PAYLOAD_LIMIT)} payload limit. Keep large content out of the script: "
            "have a tool produce it, or split it over several steps."
        )
