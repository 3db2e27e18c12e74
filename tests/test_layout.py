"""The package reads top-down: the runtime imports only what is above it, and no wing is imported
by the runtime. A module-level or function-level import both count (a function-level import is
how a circle hides)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "durable_agents"

RUNTIME = [
    "script",
    "deps",
    "errors",
    "live",
    "mcp_server",
    "capabilities",
    "agent",
    "legacy",
    "workflows",
    "scenarios",
]
"""The runtime, top to bottom: each may import only those before it (and its own folder)."""

WINGS = ["history", "lab", "lessons", "demo"]


def unit(path: Path) -> str:
    """The runtime module or wing a file belongs to: `capabilities/ptc.py` -> `capabilities`."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_units(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("durable_agents."):
                found.add(name.split(".")[1])
    return found


def test_the_runtime_reads_top_down():
    for path in PACKAGE.rglob("*.py"):
        here = unit(path)
        if here not in RUNTIME:
            continue
        for other in imported_units(path) - {here}:
            assert other not in WINGS, f"{path.name} (runtime) imports the {other}/ wing"
            assert RUNTIME.index(other) < RUNTIME.index(here), f"{path.name} imports {other}, which comes after it"


def test_every_module_has_a_home_and_a_docstring():
    for path in PACKAGE.rglob("*.py"):
        assert unit(path) in [*RUNTIME, *WINGS, "__init__", "__main__"], f"{path} is in no wing: add it to the layout"
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} says nothing about why it exists"


def test_every_module_imports():
    """A module nothing else imports (a benchmark, a command) still imports: a renamed name breaks here."""
    import importlib

    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
