"""A run's graph as a text tree, for a terminal (the `durable-agents demo` command) or any text view.

`as_tree(node)` turns the typed graph (`durable_agents.history.graph.WorkflowNode`, the same one the
diagrams draw) into a Rich `Tree`; `as_text(node)` prints that tree to plain text. Both are pure:
they read the graph and nothing else.

    DemoAgentWorkflow demo-001-3fa2c1 ✓ completed → 'done'   (workflow code on lab-worker-1@host)
    ├── model request → write_file
    ├── ✓ write_file(path='a.txt', content='alpha') → 'wrote 5 characters'
    ├── model request → spawn
    ├── ✓ child researcher: 'Summarise a.txt'
    │   └── DemoAgentWorkflow demo-001-3fa2c1.researcher-1a2b ✓ completed → '3 steps'
    │       └── ...
    └── model request → "done"

`⚠` marks a tool call whose failure went back to the model (a retry prompt or a tool failure), a
code snippet that was refused, raised or stopped, and, under the model request that asked for it, a
call that never ran (`[refused]`: an unknown tool, bad arguments, a spawn the agent turned down).
Steps scheduled together (parallel tool calls, parallel spawns) hang under a `parallel` node; the
calls a `run_code` snippet made hang under it; a step run by another worker than the one running
the workflow's code names that worker.
"""

from __future__ import annotations

import io
from itertools import groupby

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from durable_agents.history.graph import Step, WorkflowNode

MARKS = {
    "completed": ("✓", "green"),
    "failed": ("✗", "red"),
    "timed_out": ("⏱", "red"),
    "cancelled": ("⊘", "yellow"),
    "cancel_requested": ("⊘", "yellow"),
    "terminated": ("☠", "red"),
    "running": ("…", "cyan"),
}
"""The mark and colour of each status."""


def _status(status: str) -> Text:
    mark, colour = MARKS.get(status, ("?", "white"))
    return Text(f"{mark} ", style=colour)


def workflow_label(node: WorkflowNode) -> Text:
    """`DemoAgentWorkflow <id> ✓ completed → 'answer'`, and who ran its code."""
    label = Text.assemble((node.workflow_type or "workflow", "bold"), f" {node.workflow_id} ", _status(node.status))
    label.append(node.status.replace("_", " "), style=MARKS.get(node.status, ("", "white"))[1])
    if node.result:
        label.append(f" → {node.result}")
    if node.failure:
        label.append(f": {node.failure}", style="red")
    if node.code_workers:
        label.append(f"   (workflow code on {', '.join(node.code_workers)})", style="dim")
    return label


def step_label(step: Step, home: str | None = None) -> Text:
    """One step: its status, what it was, attempts and failures, and its worker when not `home`."""
    model_visible = step.outcome not in ("", "tool_return")
    label = Text("⚠ ", style="yellow") if model_visible else _status(step.status)
    if step.kind == "model":
        label.append("model request", style="magenta")
        if step.detail:
            label.append(f" {step.detail}")
    elif step.kind == "tool":
        label.append(step.label, style="bold")
        label.append(f"({step.detail})")
        if step.result:
            label.append(f" → {step.result}")
        if model_visible:
            label.append(f"  [{step.outcome.replace('_', ' ')}]", style="yellow")
    elif step.kind == "child":
        label.append(f"child {step.label}", style="bold blue")
        label.append(f": {step.detail}")
    elif step.kind == "code":
        label.append(step.label, style="bold cyan")
        label.append(f": {step.detail}  (workflow code; {len(step.inner)} call(s) inside)")
        if model_visible:
            label.append(f"  [{step.outcome.replace('_', ' ')}]", style="yellow")
    else:
        label.append(step.label)
        if step.detail:
            label.append(f" {step.detail}")
    if step.attempts > 1:
        label.append(f"  ×{step.attempts} attempts", style="yellow")
    if step.status not in ("completed", "running"):
        label.append(f"  {step.status.replace('_', ' ')}", style=MARKS.get(step.status, ("", "red"))[1])
    if step.failures:
        label.append(f"  ({step.failures[-1]})", style="red" if step.status != "completed" else "yellow")
    if step.worker and step.worker != home:
        label.append(f"  @ {step.worker}", style="dim")
    return label


def _add_steps(tree: Tree, steps: list[Step], home: str | None) -> None:
    for batch, group in groupby(steps, key=lambda s: s.batch):
        members = list(group)
        parent = tree
        if len(members) > 1 and batch > 0:
            parent = tree.add(Text(f"parallel ({len(members)} scheduled together)", style="italic"))
        for step in members:
            branch = parent.add(step_label(step, home))
            for call in step.refused:
                branch.add(step_label(call, home))
            if step.inner:
                _add_steps(branch, step.inner, home)
            if step.child is not None:
                _add_workflow(branch, step.child)


def _add_workflow(tree: Tree, node: WorkflowNode) -> Tree:
    branch = tree.add(workflow_label(node))
    _add_steps(branch, node.steps, node.code_workers[0] if node.code_workers else None)
    return branch


def as_tree(node: WorkflowNode) -> Tree:
    """The run as a Rich tree: the workflow, its steps in order, children nested under their spawn."""
    tree = Tree(workflow_label(node), guide_style="dim")
    _add_steps(tree, node.steps, node.code_workers[0] if node.code_workers else None)
    return tree


def as_text(node: WorkflowNode, width: int = 120) -> str:
    """The tree as plain text (no colour), `width` characters wide."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(as_tree(node))
    return buffer.getvalue()
