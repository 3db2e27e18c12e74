"""The package reads top-down: the runtime imports only what is above it, each wing only the runtime
and the wings before it, and nothing imports a wing after it. A module-level or function-level
import both count (a function-level import is how a circle hides)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "durable_agents"

RUNTIME = [
    "upstream",
    "script",
    "deps",
    "errors",
    "live",
    "mcp_server",
    "capabilities",
    "agent",
    "legacy",
    "workflows",
    "versions",
    "scenarios",
]
"""The runtime, top to bottom: each may import only those before it (and its own folder)."""

WINGS = ["history", "lab", "lessons", "demo", "maintenance"]
"""The wings, in order: each may import the runtime and the wings before it (and its own folder):
`history/` reads histories, `lab/` starts processes, `lessons/` serves one notebook each, `demo/` is
the terminal command, `maintenance/` the workbook's own tools (the site, the benchmark)."""


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


def test_each_wing_imports_only_the_runtime_and_the_wings_before_it():
    for path in PACKAGE.rglob("*.py"):
        here = unit(path)
        if here not in WINGS:
            continue
        for other in imported_units(path) - {here}:
            if other in WINGS:
                assert WINGS.index(other) < WINGS.index(here), f"{path} ({here}/) imports the later {other}/ wing"


def test_the_import_graph_has_no_circle():
    """Module by module (not only wing by wing): no module reaches itself through its imports."""
    graph = {module_name(path): imported_modules(path) for path in PACKAGE.rglob("*.py")}

    def reach(start: str) -> set[str]:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += graph.get(name, ())
        return seen

    circles = [name for name in graph if name in reach(name)]
    assert not circles, f"these modules import themselves through others: {sorted(circles)}"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """The package's modules `path` imports (`from durable_agents.lab import servers` names `...lab.servers`)."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found = set()
    for node in ast.walk(without_type_checking(ast.parse(path.read_text()))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("durable_agents"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("durable_agents")}
    return (found & modules) - {module_name(path), "durable_agents"}


def without_type_checking(tree: ast.Module) -> ast.Module:
    """The module without its `if TYPE_CHECKING:` blocks: names imported only for a type checker are no import."""
    tree.body = [n for n in tree.body if not (isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")]
    return tree


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


def dataclasses_in(hint: object) -> set[type]:
    """The dataclasses a type hint names, however deep (`list[X] | None` names X)."""
    import dataclasses
    import typing

    found = {hint} if isinstance(hint, type) and dataclasses.is_dataclass(hint) else set()
    for arg in typing.get_args(hint):
        found |= dataclasses_in(arg)
    return found


def test_what_a_workflow_takes_is_defined_where_the_sandbox_passes_it_through():
    """A dataclass a workflow takes or returns (its input, an update's argument) lives in a module that
    workflow code imports passed through (`durable_agents.deps`): the sandbox imports the workflow
    modules afresh for every run, so a class defined there is a new class each run, and Pydantic AI's
    payload converter builds its schema again each time (0.17 s a run for `LongRun`)."""
    import typing

    from durable_agents import upstream, versions, workflows

    sandboxed = {workflows.__name__, versions.__name__}
    taken: set[type] = set()
    for module in (workflows, versions):
        for cls in vars(module).values():
            if not upstream.is_workflow_class(cls):
                continue
            for method in vars(cls).values():
                if callable(method) and not isinstance(method, type):
                    for hint in typing.get_type_hints(method).values():
                        taken |= dataclasses_in(hint)
    assert {c.__name__ for c in taken} >= {"AgentRequest", "LongRun", "Answer", "Conversation"}, taken
    made_each_run = sorted(c.__qualname__ for c in taken if c.__module__ in sandboxed)
    assert not made_each_run, f"{made_each_run}: define them in durable_agents/deps.py (imported passed through)"
