"""What every tool of a demo run can see: its sandbox, its script, how deep it is."""

from __future__ import annotations

from dataclasses import dataclass, field

from durable_agents.script import Step


@dataclass
class DemoDeps:
    """Run dependencies. They cross into every activity, so they stay small and serialisable."""

    sandbox_dir: str
    """Absolute path of this run's sandbox folder; file tools cannot leave it."""
    script: list[Step] | None = None
    """The model script this run follows (None with a live model)."""
    depth: int = 0
    """How many spawns deep this run is (0 for a top-level run)."""
    scripts: dict[str, list[Step]] = field(default_factory=dict)
    """Scripts for subagents, by task, so a spawned child follows its own script."""
