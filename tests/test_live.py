"""Watching a run while it runs: its history followed event by event, the live view, the agent's own event stream."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic_ai.messages import FunctionToolCallEvent, PartDeltaEvent, PartStartEvent
from pydantic_ai.run import AgentRunResultEvent

from durable_agents.history import store, watch
from durable_agents.history.graph import build_graph
from durable_agents.lessons.measure import stream_cost
from durable_agents.scenarios import shape
from durable_agents.script import call, final, parallel, spawn
from durable_agents.workflows import DemoAgentWorkflow

SCRIPT = [
    call("write_file", path="a.txt", content="hi"),
    parallel(call("slow", seconds=0.3), spawn("researcher", "look", [call("list_files"), final("one file")])),
    final("All done, the file says hi."),
]


async def test_follow_delivers_every_event_of_the_run_and_its_children_while_it_runs(lab):
    wid, request = lab.request(SCRIPT)
    handle = await lab.client.start_workflow(
        DemoAgentWorkflow.run, request, id=wid, task_queue=lab.task_queue, execution_timeout=timedelta(seconds=60)
    )
    arrived: dict[str, list[str]] = {}
    closed_after = None

    async def collect() -> None:
        nonlocal closed_after
        async for workflow_id, event in store.follow(lab.client, wid):
            arrived.setdefault(workflow_id, []).append(event["eventId"])
            if closed_after is None and len(arrived[wid]) >= 5:
                closed_after = done.is_set()  # was the run still going when its fifth event came in?

    done = asyncio.Event()
    follower = asyncio.create_task(collect())
    await handle.result()
    done.set()
    await asyncio.wait_for(follower, 10)  # ends by itself once every workflow has closed
    histories = store.as_dicts(await store.fetch_histories(lab.client, wid))
    assert arrived == {w: [e["eventId"] for e in h["events"]] for w, h in histories.items()}
    assert len(arrived) == 2
    assert closed_after is False


async def test_a_live_run_redraws_as_it_goes_and_ends_on_the_whole_graph(lab, monkeypatch):
    views: list[watch.LiveView] = []
    original = watch.LiveView.__init__

    def keep(self, *args, **kwargs):
        original(self, *args, **kwargs)
        views.append(self)

    monkeypatch.setattr(watch.LiveView, "__init__", keep)
    run = await lab.run(SCRIPT, live=True)
    [view] = views
    assert view.frames >= 3, "the graph was drawn fewer than three times while the run grew"
    assert shape(build_graph({w: {"events": e} for w, e in view.events.items()}, run.workflow_id)) == shape(run.graph())
    assert view.svg == run.diagram().svg
    assert run.output == "All done, the file says hi."
    assert run.streamed == []  # the demo agent publishes nothing


async def test_the_streaming_agent_delivers_its_own_events_in_order(lab):
    run = await lab.run(SCRIPT, agent="streaming", live=True)
    assert run.output == "All done, the file says hi."
    calls = [e.part.tool_name for e in run.streamed if isinstance(e, FunctionToolCallEvent)]
    assert calls == ["write_file", "slow", "spawn"]
    text = "".join(
        e.part.content if isinstance(e, PartStartEvent) and e.part.part_kind == "text" else e.delta.content_delta
        for e in run.streamed
        if (isinstance(e, PartStartEvent) and e.part.part_kind == "text") or isinstance(e, PartDeltaEvent)
    )
    assert text == "All done, the file says hi."
    assert sum(isinstance(e, PartDeltaEvent) for e in run.streamed) > 3  # word by word, not in one piece
    assert isinstance(run.streamed[-1], AgentRunResultEvent) and run.streamed[-1].result.output == run.output
    said = "".join(watch.say(e) for e in run.streamed)
    assert "[calls write_file(path='a.txt', content='hi')]" in said and said.endswith("says hi. [done]")


async def test_what_the_stream_costs_in_the_history(lab):
    demo, streaming = await stream_cost(lab, SCRIPT)
    assert demo["signals (batches published)"] == demo["updates (subscriber polls)"] == 0
    assert streaming["signals (batches published)"] >= 3  # one per model request at least
    assert streaming["updates (subscriber polls)"] >= 1
    assert streaming["history events"] > demo["history events"]
    assert streaming["history KB"] > demo["history KB"]
    assert streaming["agent events delivered"] > 10


def test_the_live_line_starts_at_a_word():
    text = "The quick brown fox jumps over the lazy dog " * 10 + "[done]"
    line = watch.last_words(text, 160)
    assert line.startswith("…") and len(line) <= 160 and line.endswith("[done]")
    assert line[1:].split()[0] in text.split(), "no word cut in half"
    assert watch.last_words("short  text", 160) == "short text"
