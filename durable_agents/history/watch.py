"""Watch a run's graph grow in a notebook: a slider over its timeline after the run, a live view during it.

`TimelineView` is a thin ipywidgets layer over `durable_agents.history.timeline.Timeline`: a Play
button and a slider over the run's events, the diagram as it stood at that event, and the event in
one line below. `LiveView` redraws the graph in the cell's output as the server records events
(`durable_agents.history.store.follow` long-polls them) and prints the agent's own streamed events.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import HTML, display

from durable_agents.history.graph import build_graph, shorten, summarise_args
from durable_agents.history.render import render_svg, to_dot
from durable_agents.history.timeline import Timeline, describe, moments


class TimelineView(widgets.VBox):
    """Play / slider over a run's events; the diagram at the chosen event; that event in one line.

    It opens on the last event (the finished run), so a static copy of the notebook shows the whole graph.
    """

    def __init__(self, timeline: Timeline, *, interval_ms: int = 250) -> None:
        self.timeline = timeline
        last = len(timeline)
        self.play = widgets.Play(value=last, min=timeline.first, max=last, interval=interval_ms, description="play")
        self.slider = widgets.IntSlider(
            value=last,
            min=timeline.first,
            max=last,
            description="event",
            layout=widgets.Layout(width="70%"),
        )
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.picture = widgets.HTML()
        self.line = widgets.HTML()
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.show(last)
        super().__init__([widgets.HBox([self.play, self.slider]), self.picture, self.line])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, plus its last frame as HTML for a page without a kernel (a static site)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        last = len(self.timeline)
        frame = f"{self.timeline.svg(last)}<br><code>{html.escape(self.timeline.describe(last))}</code>"
        return {**bundle, "text/html": frame} if isinstance(bundle, dict) else bundle

    def show(self, k: int) -> None:
        """Draw position `k` (1-based) and describe its event."""
        self.picture.value = self.timeline.svg(k)
        self.line.value = f"<code>{html.escape(self.timeline.describe(k))}</code>"


class LiveView:
    """The graph of a running workflow in the notebook's output, redrawn when its history grows.

    Two display areas: the diagram, and a line below it with the latest history event and what the
    agent is streaming (its text, the tool calls it makes). Drawings are redrawn at most every
    `min_interval` seconds and only when the DOT source changed.
    """

    def __init__(self, root: str, *, min_interval: float = 0.15, **diagram_options: Any) -> None:
        self.root = root
        self.options = diagram_options
        self.min_interval = min_interval
        self.events: dict[str, list[Mapping[str, Any]]] = {}
        self.stream: list[str] = []
        self.frames = 0
        """How many different drawings were shown."""
        self.svg = ""
        """The drawing shown last."""
        self._dot = ""
        self._drawn_at = 0.0
        in_notebook = get_ipython() is not None  # elsewhere (a script, a test) it only keeps `svg`
        self._picture = display(HTML(f"<i>starting {html.escape(root)}…</i>"), display_id=True) if in_notebook else None
        self._line = display(HTML(""), display_id=True) if in_notebook else None

    def add(self, workflow_id: str, event: Mapping[str, Any]) -> None:
        """One history event as the server recorded it."""
        self.events.setdefault(workflow_id, []).append(event)

    def said(self, text: str) -> None:
        """Something the agent streamed (a text delta, a tool call)."""
        self.stream.append(text)
        self._show_line()

    def finish(self, histories: Mapping[str, Mapping[str, Any]]) -> None:
        """Draw the complete histories (fetched once the run closed): the last frame is the whole run."""
        self.events = {wid: list(h["events"]) for wid, h in histories.items()}
        self.redraw(force=True)

    def redraw(self, *, force: bool = False) -> None:
        """Draw the graph as recorded so far (skipped when too soon, or when nothing drawn changed)."""
        now = time.monotonic()
        if self.root not in self.events or (not force and now - self._drawn_at < self.min_interval):
            return
        histories = {wid: {"events": events} for wid, events in self.events.items()}
        graph = build_graph(histories, self.root)
        dot = to_dot(graph, **self.options)
        if dot != self._dot:
            self.svg = render_svg(dot)
            self._dot = dot
            self.frames += 1
            if self._picture is not None:  # None outside a notebook
                self._picture.update(HTML(self.svg))
        self._drawn_at = now
        self._last_event = describe(moments(histories)[-1], graph)
        self._show_line()

    def _show_line(self) -> None:
        if self._line is None:
            return
        event = html.escape(getattr(self, "_last_event", ""))
        said = html.escape(last_words("".join(self.stream), 160))
        self._line.update(HTML(f"<code>{event}</code>" + (f"<br><b>agent:</b> <code>{said}</code>" if said else "")))


def last_words(text: str, limit: int) -> str:
    """The end of `text`, at most `limit` characters, starting at a word (`…` marks what was left out)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    tail = text[-(limit - 1) :]
    return "…" + (tail.split(" ", 1)[1] if " " in tail[: limit // 2] else tail)


def say(event: Any) -> str:
    """What one of the agent's streamed events says, as a short piece of text (empty for bookkeeping events)."""
    kind = getattr(event, "event_kind", "")
    part = getattr(event, "part", None)
    delta = getattr(event, "delta", None)
    if kind == "part_start" and getattr(part, "part_kind", "") == "text":
        return part.content
    if kind == "part_delta" and getattr(delta, "part_delta_kind", "") == "text":
        return delta.content_delta
    if kind == "function_tool_call":
        args = event.part.args_as_dict() if hasattr(event.part, "args_as_dict") else {}
        return f" [calls {event.part.tool_name}({summarise_args(args)})] "
    if kind == "function_tool_result":
        result = event.part
        return f" [{result.tool_name} → {shorten(str(getattr(result, 'content', '')), 40)}] "
    if kind == "agent_run_result":
        return " [done]"
    return ""
