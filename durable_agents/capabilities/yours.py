"""The capability a reader writes: loaded from a Python file when a worker process imports the agents.

Notebook 05's second exercise has the reader write a tool, its error classes and its toolset's
activity settings in a file of their own (`%%writefile`), then start a worker process with
`$DURABLE_AGENTS_YOUR_TOOLS` naming that file. The worker builds the `yours` agent with the file's
`CAPABILITY` added, so the tool runs as an activity like any other, and no workflow code lives in a
notebook cell. Without the variable (the kernel, every other worker) the `yours` agent has no extra
tool: a worker process is where the reader's code runs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from pydantic_ai.capabilities import AbstractCapability

from durable_agents.deps import DemoDeps

YOUR_TOOLS_ENV = "DURABLE_AGENTS_YOUR_TOOLS"
"""The path of the reader's Python file, which defines `CAPABILITY` (a Pydantic AI capability)."""


class YourToolsError(RuntimeError):
    """The reader's file cannot give a capability: says what is wrong and what to do."""


def your_capabilities() -> list[AbstractCapability[DemoDeps]]:
    """`[CAPABILITY]` of the file `$DURABLE_AGENTS_YOUR_TOOLS` names, or `[]` when it is not set."""
    location = os.environ.get(YOUR_TOOLS_ENV)
    if not location:
        return []
    return [load_capability(Path(location))]


def load_capability(path: Path) -> AbstractCapability[DemoDeps]:
    """Import `path` as a module and return its `CAPABILITY`, with an error that says what to fix."""
    if not path.is_file():
        raise YourToolsError(f"{YOUR_TOOLS_ENV}={path}: no such file; write it first (the %%writefile cell).")
    spec = importlib.util.spec_from_file_location(f"your_tools_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise YourToolsError(f"{path} is not a Python file Python can import: name it *.py.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise YourToolsError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    capability = getattr(module, "CAPABILITY", None)
    if not isinstance(capability, AbstractCapability):
        raise YourToolsError(
            f"{path} must end with `CAPABILITY = YourCapability()`, an instance of a Pydantic AI capability "
            f"(got {type(capability).__name__})."
        )
    return capability
