"""The demo agents: ordinary Pydantic AI agents made durable by the `TemporalDurability` capability."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic_ai import Agent
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.durable_exec.temporal import TemporalDurability, worker_registrations
from pydantic_ai.toolsets import AbstractToolset
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from durable_agents.capabilities import (
    FaultsCapability,
    NotesCapability,
    SandboxCapability,
    SubagentsCapability,
    TextCapability,
)
from durable_agents.capabilities.faults import FAST_RETRIES
from durable_agents.capabilities.ptc import ptc_capabilities
from durable_agents.deps import DemoDeps
from durable_agents.mcp_server import units_toolset
from durable_agents.script import ScriptedModel

INSTRUCTIONS = "You are a careful assistant. Use the sandbox tools for files; answer briefly."

MODEL_ACTIVITY = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        maximum_attempts=3,
        non_retryable_error_types=["ScriptError", "ModelRejected"],
    ),
)
"""Model requests: one minute each, three attempts; a broken script or a rejected request fails at once."""

BASE_ACTIVITY = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3),
)
"""Every other activity: 30 s, three attempts (Temporal's own default retries forever)."""


DURABLE_AGENTS: dict[str, Agent[DemoDeps, str]] = {}
"""The agents built below with the capability, by name (filled as they are built); the subagents
capability runs an in-process subagent from this table. (The `legacy` agent is in `durable_agents.legacy`.)"""


def standard_capabilities() -> list[AbstractCapability[DemoDeps]]:
    """The demo agent's capabilities: files, failures on purpose, a workflow-native tool, subagents."""
    return [SandboxCapability(), FaultsCapability(), TextCapability(), SubagentsCapability(agents=DURABLE_AGENTS)]


def build_agent(
    name: str = "demo",
    *,
    capabilities: Sequence[AbstractCapability[DemoDeps]] | None = None,
    extra: Sequence[AbstractCapability[DemoDeps]] = (),
    toolsets: Sequence[AbstractToolset[DemoDeps]] = (),
    durable: bool = True,
    event_stream_topic: str | None = None,
) -> Agent[DemoDeps, str]:
    """A scripted agent with `capabilities` (default: the standard set) plus `extra`, made durable.

    `name` must be unique per worker: it prefixes every activity the agent generates. Build
    agents at import time, outside any workflow, so the worker registers their activities before a
    workflow runs. `durable=False` gives the same agent without the capability, for comparison.
    `event_stream_topic` makes the run publish its own events to that Workflow Stream topic.
    """
    chosen = [*(standard_capabilities() if capabilities is None else capabilities), *extra]
    if durable:
        chosen.append(
            TemporalDurability(
                activity_config=BASE_ACTIVITY,
                model_activity_config=MODEL_ACTIVITY,
                toolset_activity_config={"faults": FAST_RETRIES},
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
    )


demo_agent = build_agent("demo")
reader_agent = build_agent(
    "reader", capabilities=[SandboxCapability(read_only=True), SubagentsCapability(agents=DURABLE_AGENTS)]
)
notes_agent = build_agent("notes_demo", extra=[NotesCapability()])
mcp_agent = build_agent("mcp_demo", toolsets=[units_toolset()])
ptc_agent = build_agent("ptc", extra=ptc_capabilities())
EVENTS_TOPIC = "agent-events"
streaming_agent = build_agent("streaming", event_stream_topic=EVENTS_TOPIC)
"""The demo agent publishing its own events (model text, tool calls, results) to a Workflow Stream
topic as they happen; `lab.run(..., agent="streaming")` subscribes with `stream_agent_events`."""
STREAMING_AGENTS = {streaming_agent.name: EVENTS_TOPIC}
"""The agents that publish their events, and the topic each publishes to."""

DURABLE_AGENTS.update(
    {a.name: a for a in (demo_agent, reader_agent, notes_agent, mcp_agent, ptc_agent, streaming_agent)}
)


def activity_names(agent: Agent[DemoDeps, str]) -> list[str]:
    """The activities the agent's durability capability generated when the agent was built.

    This list is fixed at construction: the agent's name and each toolset's id are baked into the
    names, and a worker registers exactly these. A toolset added later has no activity to run in.
    """
    durability = TemporalDurability.from_agent(agent)
    if durability is None:
        raise ValueError(f"Agent {agent.name!r} has no TemporalDurability capability.")
    activities, _ = worker_registrations(durability)
    return [fn.__temporal_activity_definition.name for fn in activities]  # type: ignore[attr-defined]
