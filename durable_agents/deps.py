"""What a run carries: the workflow's input (`AgentRequest`) and what every tool sees (`DemoDeps`).

Both travel inside Temporal payloads (the workflow input, every activity's input), so they stay
small, plain and serialisable. The script and the subagent roster travel here rather than in a
process-global registry, so a worker in any process follows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic_ai.usage import UsageLimits

from durable_agents.script import Step

if TYPE_CHECKING:
    from pydantic_ai import Agent


@dataclass(frozen=True)
class Role:
    """A subagent the model may spawn: which hosted agent runs it, with which extra instructions."""

    agent: str
    instructions: str


ROSTER: dict[str, Role] = {
    "generic": Role("demo", "You are a subagent. Do the task you are given with your tools and answer briefly."),
    "researcher": Role(
        "reader", "You are a research subagent. Read the sandbox files you need and answer with a short summary."
    ),
}
"""The subagents every run may spawn; `lab.run(..., roster={...})` adds more for one run."""

TOOL_RETRIES = 3
"""How many times in a row the model may be told to fix a call to one tool (a bad argument, a path
outside the sandbox) before the run fails; `lab.run(..., tool_retries=N)` sets it for one run."""

REQUEST_LIMIT = 50
"""How many model requests one agent run may make; `lab.run(..., request_limit=N)` sets it for one run."""


@dataclass
class DemoDeps:
    """Run dependencies, seen by every tool (and serialised into every activity)."""

    sandbox_dir: str
    """Absolute path of this run's sandbox folder; file tools cannot leave it. Subagents share it."""
    script: list[Step] | None = None
    """The model script this run follows (None with a live model)."""
    depth: int = 0
    """How many spawns deep this run is (0 for a top-level run)."""
    scripts: dict[str, list[Step]] = field(default_factory=dict)
    """Scripts for subagents, by task, so a spawned subagent follows its own script."""
    roster: dict[str, Role] = field(default_factory=lambda: dict(ROSTER))
    """The subagents this run may spawn, by name."""
    model: str | None = None
    """The live model's name, passed on to subagents (None when scripted)."""
    parent_close: ParentClose = "TERMINATE"
    """What happens to this run's subagents if it ends before they do."""
    teaching_tools: bool = False
    """Offer a live model the teaching-only tools too (see `durable_agents.agent.TEACHING_TOOLS`)."""
    tool_retries: int = TOOL_RETRIES
    """How many retry prompts in a row one tool may cause (passed on to subagents)."""
    request_limit: int = REQUEST_LIMIT
    """How many model requests the run may make (passed on to subagents)."""
    base_url: str | None = None
    """Where the live model's provider is reached (None: its default); passed on to subagents."""


ParentClose = Literal["TERMINATE", "REQUEST_CANCEL", "ABANDON"]


@dataclass
class AgentRequest:
    """The input of `DemoAgentWorkflow`: everything one agent run needs."""

    prompt: str
    sandbox_dir: str
    script: list[Step] | None = None
    agent: str = "demo"
    model: str | None = None
    depth: int = 0
    scripts: dict[str, list[Step]] = field(default_factory=dict)
    roster: dict[str, Role] = field(default_factory=lambda: dict(ROSTER))
    instructions: str | None = None
    """Extra instructions for this run (a subagent's role)."""
    parent_close: ParentClose = "TERMINATE"
    """The parent-close policy of the subagents this run spawns."""
    teaching_tools: bool = False
    """Offer a live model the teaching-only tools too."""
    tool_retries: int = TOOL_RETRIES
    request_limit: int = REQUEST_LIMIT
    base_url: str | None = None
    """Where the live model's provider is reached: e.g. a local OpenAI-compatible server for
    `ollama:<name>` (None: the provider's default, or `$OPENAI_BASE_URL` / `$ANTHROPIC_BASE_URL` /
    `$OLLAMA_BASE_URL` on the worker). See `durable_agents.live`."""

    def deps(self) -> DemoDeps:
        """The deps the agent runs with."""
        return DemoDeps(
            self.sandbox_dir,
            self.script,
            self.depth,
            self.scripts,
            self.roster,
            self.model,
            self.parent_close,
            self.teaching_tools,
            self.tool_retries,
            self.request_limit,
            self.base_url,
        )

    async def run(self, agent: Agent[DemoDeps, str]) -> str:
        """Run `agent` on this request: in a workflow its I/O becomes activities; outside one it runs in-process."""
        result = await agent.run(
            self.prompt,
            deps=self.deps(),
            model=self.model,
            instructions=self.instructions,
            retries={"tools": self.tool_retries},
            usage_limits=UsageLimits(request_limit=self.request_limit),
        )
        return result.output
