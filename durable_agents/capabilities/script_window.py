"""Each model request carries only the script step it answers, not the whole script (nor every subagent's).

The run's deps travel with every activity (each model request, each tool call), and every activity's
input stays in the workflow's history. A script carried whole in the deps is therefore written to
history once per activity: a 0.2 MB script of 3,000 steps filled Temporal's 50 MB history limit
after 173 steps. The workflow keeps the whole script (`DemoDeps.whole_script`, never serialised);
before each model request `ScriptWindow` narrows `deps.script` to the one step that request answers
(`deps.script_start` says which), so the activities that follow carry that step only. The subagent
scripts narrow with it (`deps.scripts`): the step's own spawns and snippets need theirs (a spawn in an
activity, `spawn_in_activity`, reads them there), no other step's do.

The step is a pure function of the conversation (one step per model response so far), so the window
is the same on every worker and on replay.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import ModelRequestContext
from temporalio import workflow

from durable_agents.deps import DemoDeps
from durable_agents.script import step_index, subagent_scripts


@dataclass
class ScriptWindow(AbstractCapability[DemoDeps]):
    """In a workflow, narrows `deps.script` (and `deps.scripts`) to the step the next model request answers."""

    async def before_model_request(
        self, ctx: RunContext[DemoDeps], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        whole = getattr(ctx.deps, "whole_script", None)
        if whole is not None and workflow.in_workflow():
            index = min(step_index(request_context.messages), len(whole))
            ctx.deps.script, ctx.deps.script_start = whole[index : index + 1], index
            ctx.deps.scripts = subagent_scripts(ctx.deps.script)
        return request_context
