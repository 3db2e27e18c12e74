"""Drawing: DOT source from the graph, SVG from system Graphviz or from the WebAssembly build."""

from __future__ import annotations

import itertools
import json
import shutil

import pytest

from durable_agents.history.graph import build_graph
from durable_agents.history.render import (
    RENDERER_ENV,
    STATUS_COLOUR,
    Diagram,
    RendererMissing,
    render_svg,
    renderer,
    to_dot,
)
from tests.conftest import DATA
from tests.test_graph import recorded

SCENARIOS = [*sorted(p.name for p in DATA.iterdir()), "child_workflows"]


def test_dot_names_tools_arguments_and_marks():
    dot = to_dot(recorded("tour"))
    assert "write_file" in dot and "path='a.txt', content='hi'" in dot
    assert "×2 attempts" in dot
    assert "told: failed" in dot and "told: retry" in dot
    assert "call_tool" not in dot
    assert to_dot(recorded("tour"), args=False).count("path=") == 0


def test_children_are_nested_clusters():
    dot = to_dot(recorded("nested"))
    assert dot.count("subgraph cluster_w") == 4  # the workflow and its three descendants
    assert "demo-005" in dot or ".generic-" in dot
    assert "spawn generic: deeper" in dot


def test_plain_children_nest_inside_their_parent_and_failures_are_spelled_out():
    dot = to_dot(recorded("child_workflows"))
    assert dot.count("subgraph cluster_w") == 5
    lines = dot.splitlines()
    middle = next(i for i, line in enumerate(lines) if "MiddleWorkflow · parent-001.middle" in line)
    agent = next(i for i, line in enumerate(lines) if "parent-001.middle.agent" in line)
    assert middle < agent  # the grandchild's cluster opens inside the middle one's
    assert "timer 10s" in dot
    assert "The model script ran out of steps: requ…" in dot  # the failed model request says why
    assert "workflow code ran on nesting-worker" in dot  # two workers ran this run


def _on_workers(scenario: str, *workers: str):
    """A recorded run whose workflow tasks and activities are dealt round-robin to `workers`."""
    [path] = (DATA / scenario).glob("*.json")
    history = json.loads(path.read_text())
    names = itertools.cycle(workers)
    for event in history["events"]:
        attrs = event.get("activityTaskStartedEventAttributes") or event.get("workflowTaskCompletedEventAttributes")
        if attrs and "identity" in attrs:
            attrs["identity"] = next(names)
    return build_graph({"w": history}, "w")


def test_several_workers_get_a_colour_each_but_failures_stay_red():
    dot = to_dot(_on_workers("out_of_steps", "worker-c", "worker-b", "worker-a"))
    assert all(f"@ worker-{w}" in dot for w in "abc")
    assert dot.index('legend_0 [label="worker-a"') < dot.index('legend_1 [label="worker-b"')  # sorted
    failed_request = dot.split("w_2 [")[1].split("]")[0]
    assert f'color="{STATUS_COLOUR["failed"]}"' in failed_request  # not the worker's colour
    assert "ran out of steps" in failed_request and "@ worker-a" in failed_request
    without = to_dot(_on_workers("out_of_steps", "w1", "w2"), workers=False)
    assert "@ " not in without and "cluster_legend" not in without and "workflow code ran on" not in without


def test_one_worker_is_named_once():
    dot = to_dot(recorded("tour"))
    assert "all steps ran on worker lab-worker-" in dot
    assert "@ lab-worker" not in dot and "cluster_legend" not in dot


def test_failures_are_coloured_with_a_legend_of_the_marks_used():
    dot = to_dot(recorded("retries_exhausted"))
    assert "#dc2626" in dot
    assert "mark_failed" in dot and "mark_retried" in dot and "mark_cancelled" not in dot
    assert "cluster_marks" not in to_dot(recorded("notes"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_wasm_renders_every_recorded_run(monkeypatch, scenario):
    monkeypatch.setenv(RENDERER_ENV, "wasm")
    assert renderer() == "wasm"
    svg = Diagram(recorded(scenario)).svg
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "</svg>" in svg and "model request" in svg


@pytest.mark.skipif(not shutil.which("dot"), reason="system Graphviz not installed (.ci/run installs it)")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_system_dot_renders_every_recorded_run(monkeypatch, scenario):
    monkeypatch.setenv(RENDERER_ENV, "dot")
    svg = Diagram(recorded(scenario)).svg
    assert "</svg>" in svg and "model request" in svg


def test_forcing_a_missing_dot_says_what_to_do(monkeypatch):
    monkeypatch.setenv(RENDERER_ENV, "dot")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RendererMissing, match="Install Graphviz, or unset DURABLE_AGENTS_RENDERER"):
        render_svg("digraph { a }")
    monkeypatch.setenv(RENDERER_ENV, "png")
    with pytest.raises(RendererMissing, match="use 'dot' or 'wasm'"):
        renderer()


def test_without_dot_the_wasm_renderer_is_picked(monkeypatch):
    monkeypatch.delenv(RENDERER_ENV, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert renderer() == "wasm"


def test_save(tmp_path):
    diagram = Diagram(recorded("notes"))
    assert "</svg>" in diagram.save(tmp_path / "run.svg").read_text()
    assert diagram.save(tmp_path / "run.dot").read_text() == diagram.dot
    with pytest.raises(ValueError, match=r"\.svg or \.dot"):
        diagram.save(tmp_path / "run.png")


def shown(html_text: str) -> list[tuple[float, float]]:
    """(smallest text, width), in px, of each SVG as a 1008 px JupyterLab output area shows `html_text`:
    an SVG styled `max-width:100%` shrinks to its share of the width (one flex cell's), else it keeps its size."""
    from durable_agents.history.render import OUTPUT_PX, smallest_text_px, width_px

    share = OUTPUT_PX / max(html_text.count("flex:1;"), 1)
    out = []
    for element in html_text.split("<svg")[1:]:
        svg = "<svg" + element
        head = svg.split(">", 1)[0]
        scale = min(1.0, share / width_px(svg)) if "max-width:100%" in head else 1.0
        out.append((smallest_text_px(svg) * scale, width_px(svg) * scale))
    return out


def _chain(runs: int):
    from temporalio.client import WorkflowHistory

    from durable_agents.lessons.long_running import ChainDiagram

    history = WorkflowHistory.from_json("chain", next((DATA / "tour").glob("*.json")).read_text())
    return ChainDiagram([history] * runs)


def test_every_picture_is_readable_in_a_notebook_output_area():
    """Text of at least 11 px, and the picture inside the 1008 px output area: wide runs wrap into rows
    (06's four subagents, 08's chain of nine runs), the comparison keeps one scale (03), nothing shrinks."""
    from durable_agents.history.render import MIN_TEXT_PX, OUTPUT_PX, legend, side_by_side

    pictures = {name: Diagram(recorded(name)) for name in SCENARIOS}
    pictures |= {"legend": legend(), "chain of 9 runs": _chain(9)}
    for name, picture in pictures.items():
        [(text, width)] = shown(picture._repr_html_())
        assert text >= MIN_TEXT_PX, f"{name}: {text:.1f} px text"
        # System Graphviz measures text with the machine's fonts, the WebAssembly build with its own:
        # the same picture comes out up to ~1% wider with `dot` (nested: 1016 px against 1000).
        assert width <= OUTPUT_PX * 1.02, f"{name}: {width:.0f} px wide"
    compared = shown(side_by_side({n: Diagram(recorded(n)) for n in ("ptc", "nested", "tour")})._repr_html_())
    assert {text for text, _ in compared} == {12.0}, f"one scale, readable: {compared}"


def test_a_picture_wider_than_the_output_scrolls_instead_of_shrinking():
    from durable_agents.history.render import Picture

    wide = Picture("digraph { rankdir=LR; a -> b -> c -> d -> e -> f -> g -> h -> i -> j -> k -> l -> m }")
    assert "overflow-x:auto" in wide.html() and wide.html().count("<svg") == 1
    [(text, width)] = shown(wide.html())
    assert width > 1008 and text >= 11


def test_the_chain_wraps_into_rows_of_three_in_the_workbooks_font():
    dot = _chain(7).dot
    assert dot.count("rank=same") == 3 and "fontname=Helvetica" in dot
    assert "r3 -> r4" in dot and "constraint=false" in dot


def test_the_legend_draws_each_kind_as_the_runs_do():
    """02's MCP get_tools is the grey 'other activity' of 00's legend, and a completed child is not red."""
    from durable_agents.history.render import STYLE, WORKFLOW_COLOUR, legend

    mcp = recorded("mcp_tools_are_activities")
    assert mcp.steps[0].label == "get_tools" and mcp.steps[0].kind == "activity"
    tools = next(line for line in to_dot(mcp).splitlines() if "label=get_tools" in line)
    assert STYLE["activity"]["fillcolor"] in tools
    picture = legend().dot
    assert "get_tools" in next(line for line in picture.splitlines() if STYLE["activity"]["fillcolor"] in line)
    spawned = picture[picture.index("cluster_spawned") :].split("}", 1)[0]
    assert WORKFLOW_COLOUR in spawned and STATUS_COLOUR["failed"] not in spawned


def test_the_told_mark_has_a_style_and_the_legends_sit_below():
    dot = to_dot(recorded("tour"))
    told = next(line for line in dot.splitlines() if "told: failed" in line)
    assert "diagonals" in told and "#fef3c7" in told
    mark = next(line for line in dot.splitlines() if 'mark_told [label="the model was told it failed"' in line)
    assert "diagonals" in mark
    assert "w_end -> mark_told [style=invis]" in dot  # under the run, not beside it
    assert "cluster_w" in dot and 'w_start [label="DemoAgentWorkflow' in dot  # the title is a node edges stop at


def test_the_legend_draws_every_mark_and_the_comparison_is_side_by_side():
    from durable_agents.history.render import MARKS, legend, side_by_side

    picture = legend()
    assert all(text.split(" / ")[0] in picture.dot for text, _ in MARKS.values())
    assert "</svg>" in picture.svg
    row = side_by_side({"a": Diagram(recorded("notes")), "b": Diagram(recorded("tour"))})._repr_html_()
    assert row.startswith('<div style="display:flex') and row.count("<svg") == 2
