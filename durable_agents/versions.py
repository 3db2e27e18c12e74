"""Changed versions of the demo workflow, as a deploy of new code brings them: what a worker can run.

Every class here is registered under the same workflow type name as today's `DemoAgentWorkflow`,
as new code deployed over old runs would be. Replaying a history recorded by today's code against
one of them tells whether a worker running it could carry those runs on:

- `renamed`: the demo agent renamed `assistant`; every activity it schedules gets a new name.
- `paced`: a workflow-native step (a short timer) before the first model request.
- `paced-patched`: the same step behind `workflow.patched(PACING_PATCH)`: old runs keep the old path.
- `paced-deprecated`: later, once no old run is open: `workflow.deprecate_patch(PACING_PATCH)`.
- `retuned`: other timeouts and retry policies, a change that is safe to deploy.
- `legacy-as-capability`: the `legacy` agent (the deprecated `TemporalAgent` form) rebuilt with
  the `TemporalDurability` capability under the same name: runs the wrapper started replay under it.

A worker process runs one of them when `$DURABLE_AGENTS_WORKFLOW_VERSION` names it
(`WorkerPool.start(lab, env={VERSION_ENV: "paced"})`); notebook 07 replays histories against
them offline (`durable_agents.lessons.verdicts`). They are runtime code, not a lesson's: a worker
process registers them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalDurability
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

with workflow.unsafe.imports_passed_through():
    from pydantic_ai import Agent, RunContext
    from pydantic_ai.capabilities import AbstractCapability

    from durable_agents.agent import build_agent
    from durable_agents.deps import AgentRequest, DemoDeps
    from durable_agents.workflows import AGENTS, VERSION_ENV, DemoAgentWorkflow

PACING_PATCH = "pace-before-first-request"
"""The patch id that guards the pacing step."""

PAUSE = timedelta(milliseconds=200)
"""The pacing step: how long the workflow waits before its first model request."""

Step = Callable[[], Awaitable[None]]
"""A workflow-native step run before the agent's first model request (workflow code: deterministic)."""


def hosting(demo: Agent[DemoDeps, str], name: str = "demo") -> dict[str, Agent[DemoDeps, str]]:
    """Today's agents by name, with the one runs ask for as `name` (by default `demo`) replaced."""
    return {**AGENTS, name: demo}


async def run_agent(request: AgentRequest, agents: Mapping[str, Agent[DemoDeps, str]]) -> str:
    """What every version's `run` does: run the requested agent, from that version's table of agents."""
    return await request.run(agents[request.agent])


# ---- an incompatible change: the agent's name, which is in every activity's name ----

assistant_agent = build_agent("assistant")
RENAMED_AGENTS = hosting(assistant_agent)


@workflow.defn(name="DemoAgentWorkflow")
class RenamedAgentWorkflow(PydanticAIWorkflow):
    """v2: the demo agent renamed `assistant`: its activities are `agent__assistant__...`, not `agent__demo__...`."""

    __pydantic_ai_agents__ = tuple(RENAMED_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, RENAMED_AGENTS)


# ---- another: a workflow-native step before the first model request, then its fix ----


async def pace() -> None:
    """Wait `PAUSE` before the agent's first model request: a timer, recorded in the history like any command."""
    await workflow.sleep(PAUSE)


async def pace_if_patched() -> None:
    """The pacing step for new runs only: a run recorded before the change replays without it."""
    if workflow.patched(PACING_PATCH):
        await workflow.sleep(PAUSE)


async def pace_always() -> None:
    """The pacing step once every run from before the change has closed: the old path is gone."""
    workflow.deprecate_patch(PACING_PATCH)
    await workflow.sleep(PAUSE)


@dataclass
class BeforeRun(AbstractCapability[DemoDeps]):
    """Runs `step` in the workflow when an agent run starts, before its first model request."""

    step: Step

    async def before_run(self, ctx: RunContext[DemoDeps]) -> None:
        if workflow.in_workflow():
            await self.step()


def agents_with_step(step: Step) -> dict[str, Agent[DemoDeps, str]]:
    """Today's agents, the demo agent with `step` added before its first model request."""
    return hosting(build_agent("demo", extra=[BeforeRun(step)]))


PACED_AGENTS = agents_with_step(pace)
PATCHED_AGENTS = agents_with_step(pace_if_patched)
DEPRECATED_AGENTS = agents_with_step(pace_always)


@workflow.defn(name="DemoAgentWorkflow")
class PacedWorkflow(PydanticAIWorkflow):
    """v2: the demo agent pauses before its first model request, unguarded: old runs no longer replay."""

    __pydantic_ai_agents__ = tuple(PACED_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, PACED_AGENTS)


@workflow.defn(name="DemoAgentWorkflow")
class PacedPatchedWorkflow(PydanticAIWorkflow):
    """v2 fixed: the pause behind `workflow.patched`, so old runs replay and new runs pause."""

    __pydantic_ai_agents__ = tuple(PATCHED_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, PATCHED_AGENTS)


@workflow.defn(name="DemoAgentWorkflow")
class PacedDeprecatedWorkflow(PydanticAIWorkflow):
    """v3: every run from before v2 is closed; `deprecate_patch` keeps runs started under v2 replaying."""

    __pydantic_ai_agents__ = tuple(DEPRECATED_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, DEPRECATED_AGENTS)


@dataclass
class StepSlot:
    """The step `WithStepWorkflow`'s demo agent runs before its first model request (none until `with_step`)."""

    step: Step | None = None

    async def __call__(self) -> None:
        if self.step is not None:
            await self.step()


READERS_STEP = StepSlot()
WITH_STEP_AGENTS = agents_with_step(READERS_STEP)


@workflow.defn(name="DemoAgentWorkflow", sandboxed=False)
class WithStepWorkflow(PydanticAIWorkflow):
    """The notebook exercise's version: the demo agent runs a step written in the notebook (see `with_step`)."""

    __pydantic_ai_agents__ = tuple(WITH_STEP_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, WITH_STEP_AGENTS)


def with_step(step: Step) -> type[WithStepWorkflow]:
    """`WithStepWorkflow`, its demo agent now running `step` before its first model request.

    For the notebook exercise: the step is a function written in a notebook, so this class runs
    outside Temporal's sandbox (`sandboxed=False`: the sandbox re-imports a workflow's module, and
    a notebook is not one). Temporal wants workflow classes (and their run methods) defined at module
    level, so there is one such class, built once, and the step it runs sits in a slot of its own
    (`READERS_STEP`): the class and its agents never change. Replay with it before calling this again.
    """
    READERS_STEP.step = step
    return WithStepWorkflow


# ---- a safe change: other timeouts and retry policies ----

RETUNED_MODEL = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=120),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5),
)
RETUNED_TOOLS = ActivityConfig(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=10),
)
retuned_agent = build_agent(
    "demo",
    durable=False,
    extra=[TemporalDurability(activity_config=RETUNED_TOOLS, model_activity_config=RETUNED_MODEL)],
)
RETUNED_AGENTS = hosting(retuned_agent)


@workflow.defn(name="DemoAgentWorkflow")
class RetunedWorkflow(PydanticAIWorkflow):
    """v2, safe: the same steps with other timeouts and retry policies (120 s, 5 attempts for the model)."""

    __pydantic_ai_agents__ = tuple(RETUNED_AGENTS.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, RETUNED_AGENTS)


# ---- the deprecated wrapper's runs, carried on by the capability ----

LEGACY_AS_CAPABILITY = hosting(build_agent("legacy"), name="legacy")


@workflow.defn(name="DemoAgentWorkflow")
class LegacyAsCapabilityWorkflow(PydanticAIWorkflow):
    """Today's workflow with the `legacy` agent rebuilt with the capability: the migration off `TemporalAgent`."""

    __pydantic_ai_agents__ = tuple(LEGACY_AS_CAPABILITY.values())

    @workflow.run
    async def run(self, request: AgentRequest) -> str:
        return await run_agent(request, LEGACY_AS_CAPABILITY)


VERSIONS: dict[str, type] = {
    "today": DemoAgentWorkflow,
    "renamed": RenamedAgentWorkflow,
    "paced": PacedWorkflow,
    "paced-patched": PacedPatchedWorkflow,
    "paced-deprecated": PacedDeprecatedWorkflow,
    "retuned": RetunedWorkflow,
    "legacy-as-capability": LegacyAsCapabilityWorkflow,
}
"""Every version by the name `$DURABLE_AGENTS_WORKFLOW_VERSION` takes."""


def version(name: str) -> type:
    """The workflow class called `name`, or an error listing the versions there are."""
    if name not in VERSIONS:
        raise ValueError(f"${VERSION_ENV}={name!r} names no workflow version: use one of {', '.join(VERSIONS)}.")
    return VERSIONS[name]
