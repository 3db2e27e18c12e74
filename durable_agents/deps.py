"""What a run carries: the workflows' inputs (`AgentRequest`, `LongRun`, `Conversation`), a person's
`Answer`, and what every tool sees (`DemoDeps`).

They travel inside Temporal payloads (a workflow's input, an update's argument, every activity's
input), so they stay small, plain and serialisable. The script and the subagent roster travel here
rather than in a process-global registry, so a worker in any process follows them.

Workflow code imports this module passed through the sandbox, so each class is one object for a
worker's life. Pydantic AI's payload converter builds a `TypeAdapter` once per class: a class the
sandbox imported afresh for each run (as it does the workflow modules) had its schema built again
for every run, every continue-as-new and every replay, ~0.17 s for `LongRun`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic_ai.messages import ModelMessage
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
    """The model script this run follows (None with a live model); in a workflow, from its first model
    request on, only the step that request answers (see `durable_agents.capabilities.script_window`)."""
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
    script_start: int = 0
    """Which step of the whole script `script` starts at."""

    def __post_init__(self) -> None:
        self.whole_script = self.script
        """The whole script, kept where the deps were made (the workflow). An attribute, not a field:
        never serialised, so the activities carry `script` only."""


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


DAY = 86_400.0
"""A day, in seconds: how long a person has to answer, and a conversation may go quiet, by default."""


@dataclass
class LongRun:
    """The input of `LongRunWorkflow`: an agent run that may wait for people and outlive its history."""

    request: AgentRequest
    answer_within: float = DAY
    """Seconds a person has to answer the pending calls; then `on_timeout` decides each one."""
    on_timeout: Literal["deny", "approve"] = "deny"
    """What an unanswered approval becomes when the deadline passes (an unanswered question is
    always told `TIMED_OUT`)."""
    continue_as_new: bool = True
    """Continue as new when Temporal suggests it; False keeps the whole run in one history."""
    messages: list[ModelMessage] | None = None
    """The conversation so far, carried over by continue-as-new (None on the first run)."""
    run_number: int = 1
    """Which run of the chain this is: 1, then one more after each continue-as-new."""


@dataclass
class Answer:
    """A person's answer to one pending call: an approval (`approve`) or a question (`choices`)."""

    call_id: str
    approve: bool | None = None
    """For a tool that needs approval: True runs the call, False denies it."""
    reason: str = ""
    """Told to the model when the call is denied."""
    choices: dict[str, list[str]] | None = None
    """For `ask_user_question`: each question's header -> the option labels picked."""


@dataclass
class PendingCall:
    """A call the run is waiting on, as the `pending` query shows it."""

    call_id: str
    tool: str
    args: dict[str, Any]
    kind: Literal["approval", "question"]
    answer: str | None = None
    """None while nobody has answered; then what was decided (`approved`, `denied: ...`, the choices)."""
    by: str = ""
    """`person` or `deadline`."""


@dataclass
class Conversation:
    """The input of `ConversationWorkflow`: the run's settings (its script covers every turn) and the talk so far."""

    request: AgentRequest
    """Sandbox, script and limits; its prompt is not used (each message is one)."""
    messages: list[ModelMessage] | None = None
    """The conversation so far, carried over by continue-as-new (None on the first run)."""
    idle_timeout: float = DAY
    """Seconds without a message after which the conversation ends."""
    upgrade: bool = True
    """Under Worker Versioning: continue as new onto a new current version between messages (False: stay)."""
