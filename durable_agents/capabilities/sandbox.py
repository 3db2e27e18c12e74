"""File tools confined to a per-run sandbox folder.

Every failure of the file system reaches the model as a tool error it can read (a bad path is a
mistake it can repair; a clash with a folder or a file that is not text is a final failure),
never as an activity failure that Temporal would retry and the run would end on.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.tools import ToolFuncContext
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.deps import DemoDeps
from durable_agents.errors import ToolExecutionError, ToolValidationError


def sandbox_path(sandbox_dir: str | Path, relative: str) -> Path:
    """Resolve `relative` inside `sandbox_dir`, or raise a model-visible `ToolValidationError`.

    Absolute paths, `..` and symlinks that lead outside the sandbox are all refused, and so are
    paths the file system cannot hold (a NUL character, a name that is too long).
    """
    if "\x00" in relative:
        raise ToolValidationError(f"Path {relative!r} contains a NUL character: use a plain relative path.")
    root = Path(sandbox_dir).resolve()
    try:
        target = (root / relative).resolve()
    except OSError as exc:
        raise ToolValidationError(f"Path {relative!r} cannot be used: {exc.strerror}. Use a shorter path.") from None
    if not relative or Path(relative).is_absolute() or not target.is_relative_to(root) or target == root:
        raise ToolValidationError(
            f"Path {relative!r} is outside the sandbox. Use a relative path such as 'notes/a.txt'."
        )
    return target


MAX_READ_CHARS = 200_000
"""How much of a file `read_file` returns: a tool result travels in every later model request, and
Temporal refuses a payload over 2 MB."""


@contextlib.contextmanager
def told_to_the_model(path: str) -> Iterator[None]:
    """Turn what the file system raises for `path` into an error the model reads."""
    try:
        yield
    except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
        raise ToolExecutionError(
            f"Cannot use {path!r}: {exc.strerror} (a file and a folder cannot share a name). Pick another path."
        ) from None
    except RecursionError:  # `mkdir(parents=True)` recurses once per missing folder
        raise ToolValidationError(
            f"Path {path[:80]!r}... has too many folders for the file system. Use a path a few folders deep."
        ) from None
    except UnicodeError:
        raise ToolExecutionError(
            f"Cannot use {path!r}: its text is not valid UTF-8 (a binary file, or a lone surrogate); "
            "the file tools handle UTF-8 text only."
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise ToolValidationError(f"Path {path!r} is too long for the file system. Use a shorter path.") from None
        raise ToolExecutionError(f"Cannot use {path!r}: {exc.strerror or exc}.") from None


async def write_file(ctx: RunContext[DemoDeps], path: str, content: str) -> str:
    """Write `content` to the file at `path` (relative to the sandbox), creating folders as needed."""
    target = sandbox_path(ctx.deps.sandbox_dir, path)
    with told_to_the_model(path):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return f"wrote {len(content)} characters to {path}"


async def read_file(ctx: RunContext[DemoDeps], path: str) -> str:
    """Read the file at `path` (relative to the sandbox); a long file comes back cut, with a note saying so."""
    target = sandbox_path(ctx.deps.sandbox_dir, path)
    with told_to_the_model(path):
        if not target.is_file():
            raise ToolExecutionError(f"No file {path!r} in the sandbox.")
        with target.open(encoding="utf-8") as f:
            text = f.read(MAX_READ_CHARS + 1)
    if len(text) > MAX_READ_CHARS:
        return (
            text[:MAX_READ_CHARS]
            + f"\n[cut: {path!r} is longer than the {MAX_READ_CHARS:,} characters read_file returns]"
        )
    return text


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
        tools: list[ToolFuncContext[DemoDeps, ...]] = [read_file, list_files]
        return FunctionToolset(tools if self.read_only else [write_file, *tools], id=self.toolset_id)
