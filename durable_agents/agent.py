"""The demo agents: ordinary Pydantic AI agents made durable by the `TemporalDurability` capability."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from pydantic_ai import Agent, DeferredToolRequests, RunContext
from pydantic_ai.capabilities import AbstractCapability, PrepareTools
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelQuotaExceededError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
)
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai_harness.compaction import ClearToolResults
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from durable_agents import upstream
from durable_agents.capabilities import (
    FaultsCapability,
    NotesCapability,
    SandboxCapability,
    SubagentsCapability,
    TextCapability,
)
from durable_agents.capabilities.approvals import ApprovalsCapability, DurableAskUser
from durable_agents.capabilities.downloads import DownloadsCapability
from durable_agents.capabilities.payloads import PayloadLimits
from durable_agents.capabilities.ptc import ptc_capabilities
from durable_agents.capabilities.script_window import ScriptWindow
from durable_agents.capabilities.yours import your_capabilities
from durable_agents.deps import DemoDeps
from durable_agents.live import live_models
from durable_agents.mcp_server import units_toolset
from durable_agents.script import ScriptedModel

INSTRUCTIONS = "You are a careful assistant. Use the sandbox tools for files; answer briefly."

MODEL_ACTIVITY = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        maximum_attempts=3,
        non_retryable_error_types=["ScriptError"],
    ),
)
"""Model requests: one minute each, three attempts; a broken script fails at once (and the model errors
in `NEVER_RETRIED`). A rate limit (429), a server error (5xx), a dropped connection or a timed-out
attempt is retried here, by Temporal, and each attempt is in the history: the provider client's own
retries are off (`durable_agents.live.CLIENT_RETRIES`)."""

NEVER_RETRIED: tuple[type[ModelAPIError], ...] = (
    ModelRequestRejectedError,
    ModelQuotaExceededError,
    ModelRequestTimeout,
)
"""Model errors that sending the same request again cannot fix, so Temporal does not retry them: a
request the provider refused (400/401/403/404/422: a bad request, key or model name), an exhausted
quota, and a run's own `request_timeout` deadline."""


def non_retryable_model_errors() -> tuple[type[ModelAPIError], ...]:
    """`NEVER_RETRIED` added to Pydantic AI's own default for `TemporalDurability(non_retryable_model_errors=...)`.

    A list passed there replaces the default, so the default is read from the installed library and
    extended: an upgrade that adds an error to it keeps it (`tests/test_live_models.py` pins the result).
    """
    default = inspect.signature(TemporalDurability.__init__).parameters["non_retryable_model_errors"].default
    return tuple(dict.fromkeys([*default, *NEVER_RETRIED]))


BASE_ACTIVITY = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3),
)
"""Every other activity: 30 s, three attempts (Temporal's own default retries forever)."""


TEACHING_TOOLS = frozenset({"flaky", "check_positive", "lookup", "slow", "stuck", "spawn_inline", "spawn_in_activity"})
"""Tools that exist to teach (they fail on purpose, or compare spawns): a live model is not offered
them unless the run asks (`teaching_tools=True`). A scripted model is offered every tool."""


async def offered_tools(ctx: RunContext[DemoDeps], tools: list[ToolDefinition]) -> list[ToolDefinition]:
    """The tools the model is offered this step: all of them, less the teaching ones for a live model."""
    if ctx.deps.model is None or ctx.deps.teaching_tools:
        return tools
    return [tool for tool in tools if tool.name not in TEACHING_TOOLS]


DURABLE_AGENTS: dict[str, Agent[DemoDeps, str]] = {}
"""The agents built below with the capability, by name (filled as they are built); the subagents
capability runs an in-process subagent from this table. (The `legacy` agent is in `durable_agents.legacy`.)"""


def standard_capabilities() -> list[AbstractCapability[DemoDeps]]:
    """The demo agent's capabilities: files, failures on purpose, a workflow-native tool, subagents."""
    return [
        SandboxCapability(),
        FaultsCapability(),
        TextCapability(),
        SubagentsCapability(agents=DURABLE_AGENTS),
        PayloadLimits(),
    ]


STANDARD_CAPABILITIES = standard_capabilities()
"""The standard set, shared by every agent built without `capabilities=`: each capability builds its
toolset once (`one_toolset`), so sharing them builds their tools' JSON schemas once, not once per
agent (~25 ms an agent, for the ten or so a worker hosts). Each agent's durability still wraps them
in activities of its own, named after the agent."""


@runtime_checkable
class OwnToolsetSettings(Protocol):
    """A capability that gives its own toolset activity settings (`FaultsCapability`, or a reader's own)."""

    toolset_id: str
    activity_config: ActivityConfig


def toolset_settings(capabilities: Sequence[AbstractCapability[DemoDeps]]) -> dict[str, ActivityConfig]:
    """The activity settings each capability gives its own toolset (its `activity_config`), by toolset id."""
    own = [c for c in capabilities if isinstance(c, OwnToolsetSettings)]
    return {c.toolset_id: c.activity_config for c in own if c.activity_config}


def build_agent(
    name: str = "demo",
    *,
    capabilities: Sequence[AbstractCapability[DemoDeps]] | None = None,
    extra: Sequence[AbstractCapability[DemoDeps]] = (),
    toolsets: Sequence[AbstractToolset[DemoDeps]] = (),
    durable: bool = True,
    output_type: Any = str,
    continue_as_new: Any = None,
    event_stream_topic: str | None = None,
) -> Agent[DemoDeps, Any]:
    """A scripted agent with `capabilities` (default: the standard set) plus `extra`, made durable.

    `name` must be unique per worker: it prefixes every activity the agent generates. Build
    agents at import time, outside any workflow, so the worker registers their activities before a
    workflow runs. `durable=False` gives the same agent without the capability, for comparison.
    `continue_as_new` is `TemporalDurability`'s handler for when Temporal suggests continuing as new.
    `event_stream_topic` makes the run publish its own events to that Workflow Stream topic.
    """
    chosen = [
        ScriptWindow(),  # first: the capabilities after it see the deps as the model request carries them
        *(STANDARD_CAPABILITIES if capabilities is None else capabilities),
        *extra,
        PrepareTools(offered_tools),
        live_models(),
    ]
    if durable:
        chosen.append(
            TemporalDurability(
                activity_config=BASE_ACTIVITY,
                model_activity_config=MODEL_ACTIVITY,
                toolset_activity_config=toolset_settings(chosen),
                non_retryable_model_errors=non_retryable_model_errors(),
                continue_as_new=continue_as_new,
                event_stream_topic=event_stream_topic,
            )
        )
    return Agent(
        ScriptedModel(),
        name=name,
        deps_type=DemoDeps,
        instructions=INSTRUCTIONS,
        capabilities=chosen,
        toolsets=list(toolsets),
        output_type=output_type,
    )


demo_agent = build_agent("demo")
reader_agent = build_agent(
    "reader",
    capabilities=[SandboxCapability(read_only=True), SubagentsCapability(agents=DURABLE_AGENTS), PayloadLimits()],
)
notes_agent = build_agent("notes_demo", extra=[NotesCapability()])
ptc_agent = build_agent("ptc", extra=ptc_capabilities())
yours_agent = build_agent("yours", extra=your_capabilities())
"""The demo agent plus the capability in the reader's own file, in a worker process started with
`$DURABLE_AGENTS_YOUR_TOOLS` (notebooks 02, 03, 05); elsewhere the demo agent under another name."""
yours_ptc_agent = build_agent("yours_ptc", extra=[*your_capabilities(), *ptc_capabilities()])
"""The `ptc` agent plus the reader's capability, the same way (notebook 04): their tools, called from code."""
EVENTS_TOPIC = "agent-events"
streaming_agent = build_agent("streaming", event_stream_topic=EVENTS_TOPIC)
"""The demo agent publishing its own events (model text, tool calls, results) to a Workflow Stream
topic as they happen; `lab.run(..., agent="streaming")` subscribes with `stream_agent_events`."""
STREAMING_AGENTS = {streaming_agent.name: EVENTS_TOPIC}
"""The agents that publish their events, and the topic each publishes to."""

DURABLE_AGENTS.update(
    {
        a.name: a
        for a in (
            demo_agent,
            reader_agent,
            notes_agent,
            ptc_agent,
            streaming_agent,
            yours_agent,
            yours_ptc_agent,
        )
        if a.name is not None
    }
)


MCP_AGENT = "mcp_demo"
"""The agent with the MCP server's tools (notebook 02), built on first use (`hosted`): the MCP client
library takes 1–2 s to import, which every other notebook's set-up cell would otherwise wait for."""


def hosted(name: str) -> Agent[DemoDeps, str]:
    """The durable agent `name`, built now if it is built on first use (the MCP agent).

    Call it outside workflow code, before a worker or a `Replayer` is made: a worker registers the
    activities of the agents built by then (`durable_agents.lab.worker.make_worker`).
    """
    if name == MCP_AGENT and name not in DURABLE_AGENTS:
        DURABLE_AGENTS[name] = build_agent(MCP_AGENT, toolsets=[units_toolset()])
    return DURABLE_AGENTS[name]


def hand_over(ctx: RunContext[DemoDeps]) -> None:
    """`TemporalDurability`'s `continue_as_new` handler: when Temporal suggests it, before a model
    request, the running workflow continues as new carrying the conversation so far, if it knows how
    (`LongRunWorkflow.continue_as_new_with`); otherwise the run goes on in this history."""
    continue_with = getattr(workflow.instance(), "continue_as_new_with", None)
    if continue_with is not None:
        continue_with(ctx.messages)


def long_run_capabilities() -> list[AbstractCapability[DemoDeps]]:
    """Files, a tool a person approves, pages and downloads, and the harness's `AskUser` with no
    answerer: its questions are deferred like approvals, and a person answers them the same way
    (`DurableAskUser` is `AskUser` with the toolset id Temporal needs)."""
    return [SandboxCapability(), ApprovalsCapability(), DownloadsCapability(), DurableAskUser(answerer=None)]


long_run_agent = build_agent(
    "long_run",
    capabilities=long_run_capabilities(),
    output_type=[str, DeferredToolRequests],
    continue_as_new=hand_over,
)
"""An agent that may end a run with calls for a person to answer (`DeferredToolRequests`), and
continues as new when Temporal suggests it. `LongRunWorkflow` runs it."""
compacting_agent = build_agent(
    "compacting",
    capabilities=[*long_run_capabilities(), ClearToolResults(max_messages=8, keep_pairs=2)],
    output_type=[str, DeferredToolRequests],
    continue_as_new=hand_over,
)
"""The same agent with the harness's `ClearToolResults`: once a conversation passes 8 messages,
tool results older than the last two calls are blanked before each model request."""

long_yours_agent = build_agent(
    "long_yours",
    capabilities=[*long_run_capabilities(), *your_capabilities()],
    output_type=[str, DeferredToolRequests],
    continue_as_new=hand_over,
)
"""The long-running agent plus the capability in the reader's own file (notebook 08's second exercise:
a tool of theirs that asks a person first), in a worker process started with `$DURABLE_AGENTS_YOUR_TOOLS`."""

LONG_RUN_AGENTS: dict[str, Agent[DemoDeps, Any]] = {
    a.name: a for a in (long_run_agent, compacting_agent, long_yours_agent) if a.name is not None
}
"""The agents `LongRunWorkflow` hosts, by name."""


def activity_names(agent: Agent[DemoDeps, str]) -> list[str]:
    """The activities the agent's durability capability generated when the agent was built.

    This list is fixed at construction: the agent's name and each toolset's id are baked into the
    names, and a worker registers exactly these. A toolset added later has no activity to run in.
    """
    durability = TemporalDurability.from_agent(agent)
    if durability is None:
        raise ValueError(f"Agent {agent.name!r} has no TemporalDurability capability.")
    return [upstream.activity_name(fn) for fn in durability.temporal_activities]


chat_agent = build_agent("chat")
"""The demo agent as one side of a conversation (notebook 10): `ConversationWorkflow` runs it once
per message, carrying the conversation so far. A worker needs each agent's name once, hence its own."""
