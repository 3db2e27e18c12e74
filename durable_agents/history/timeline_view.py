"""A slider over a run's timeline in a notebook, after the run (`Run.timeline()`).

`TimelineView` is a thin ipywidgets layer over `durable_agents.history.timeline.Timeline`: a Play
button and a slider over the run's events, the diagram as it stood at that event, and the event in
one line below. It has a module of its own so that only a notebook that shows one imports ipywidgets.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from durable_agents.history.timeline import Timeline


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
