"""File tools confined to a per-run sandbox folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolExecutionError, ToolValidationError


def sandbox_path(sandbox_dir: str | Path, relative: str) -> Path:
    """Resolve `relative` inside `sandbox_dir`, or raise a model-visible `ToolValidationError`.

    Absolute paths, `..` and symlinks that lead outside the sandbox are all refused.
    """
    root = Path(sandbox_dir).resolve()
    target = (root / relative).resolve()
    if not relative or Path(relative).is_absolute() or not target.is_relative_to(root) or target == root:
        raise ToolValidationError(
            f"Path {relative!r} is outside the sandbox. Use a relative path such as 'notes/a.txt'."
        )
    return target


async def write_file(ctx: RunContext[DemoDeps], path: str, content: str) -> str:
    """Write `content` to the file at `path` (relative to the sandbox), creating folders as needed."""
    target = sandbox_path(ctx.deps.sandbox_dir, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {len(content)} characters to {path}"


async def read_file(ctx: RunContext[DemoDeps], path: str) -> str:
    """Read the file at `path` (relative to the sandbox)."""
    target = sandbox_path(ctx.deps.sandbox_dir, path)
    if not target.is_file():
        raise ToolExecutionError(f"No file {path!r} in the sandbox.")
    return target.read_text()


async def list_files(ctx: RunContext[DemoDeps]) -> list[str]:
    """List the files in the sandbox, as relative paths."""
    root = Path(ctx.deps.sandbox_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@dataclass
class SandboxCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `write_file`, `read_file` and `list_files` inside its run's sandbox folder."""

    toolset_id: str = "sandbox"
    read_only: bool = False
    """Leave out `write_file`."""

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        tools = [read_file, list_files] if self.read_only else [write_file, read_file, list_files]
        return FunctionToolset(tools, id=self.toolset_id)
