"""The older form: the same agent wrapped in the deprecated `TemporalAgent`, for comparison.

Code written before the `TemporalDurability` capability looks like this. The wrapper copies the
agent's model, toolsets and name when it is built; later changes to the wrapped agent are not seen.
Both forms generate the same activity names (from the agent's name and its toolsets' ids), so a run
started under the wrapper replays under the capability as long as those stay the same: notebook 07
and `tests/test_durability.py` replay one against `lessons.versions.LegacyAsCapabilityWorkflow`.
"""

from __future__ import annotations

import warnings
from typing import Any

from pydantic_ai.durable_exec.temporal import TemporalAgent, TemporalRunContext
from pydantic_ai.exceptions import PydanticAIDeprecationWarning

from durable_agents import live, upstream
from durable_agents.agent import BASE_ACTIVITY, MODEL_ACTIVITY, build_agent
from durable_agents.capabilities.faults import FAST_RETRIES
from durable_agents.deps import DemoDeps


class _PublishedRunContext(TemporalRunContext[Any]):
    """Makes the run context current inside the wrapper's model activity, as the capability does,
    so the scripted model finds its script in the deps. (Only the scripted model needs this.)"""

    @classmethod
    def restore(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = super().restore(*args, **kwargs)
        upstream.make_run_context_current(ctx)  # this activity's task has its own context: nothing leaks
        return ctx


def wrap_legacy(name: str = "legacy") -> TemporalAgent[DemoDeps, Any]:
    """The demo agent, built without the capability, then wrapped the old way."""
    plain = build_agent(name, durable=False)
    return TemporalAgent(
        plain,
        activity_config=BASE_ACTIVITY,
        model_activity_config=MODEL_ACTIVITY,
        toolset_activity_config={"faults": FAST_RETRIES},
        run_context_type=_PublishedRunContext,
        # a live model's provider, built in the activity with its client's retries off (as the capability's)
        # (upstream types the factory's context as `RunContext[object]`, not as the agent's deps)
        provider_factory=lambda ctx, name: live.provider(name, ctx.deps.base_url),  # type: ignore[attr-defined]
    )


with warnings.catch_warnings():  # importing the package stays quiet; notebook 01 shows the warning
    warnings.simplefilter("ignore", PydanticAIDeprecationWarning)
    legacy_agent = wrap_legacy()
