"""Nothing hangs, everything is told: the lab and the agent under bad input and faults (issue 15).

Each test keeps the shape of the reproduction it was written from. The cases that are plain runs
live in the scenario matrix (`durable_agents/scenarios.py`); these are the ones that need more: a
lab of their own, a stop, a replay, a busy CPU, a file the matrix cannot express.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time

from pydantic_monty import Monty

from durable_agents.capabilities.ptc import SNIPPET_SECONDS
from durable_agents.history.replay import replay
from durable_agents.lab import Lab
from durable_agents.script import code, final


def loop_for(seconds: float) -> int:
    """How many iterations of `x += i` Monty runs in about `seconds` on this machine, right now."""
    with Monty() as pool, pool.checkout() as session:
        started = time.monotonic()
        session.feed_run("x = 0\nfor i in range(300_000): x += i")
        per_iteration = (time.monotonic() - started) / 300_000
    return int(seconds / per_iteration)


def patch_markers(history_json: dict) -> list[str]:
    """The ids of the patch markers a history recorded (a stopped snippet records one)."""
    found = []
    for event in history_json["events"]:
        data = event.get("markerRecordedEventAttributes", {}).get("details", {}).get("patch-data")
        if data:
            found.append(json.loads(base64.b64decode(data["payloads"][0]["data"]))["id"])
    return found


# 1. A PTC snippet cannot deadlock the workflow, the model is told, and the lab still stops.


async def test_turns_just_under_a_second_do_not_add_up_to_a_deadlock(tmp_path):
    n = loop_for(0.7)  # each turn just under the old 1 s per-turn limit, four of them past Temporal's 2 s
    src = f"""
def burn():
    x = 0
    for i in range({n}): x += i
for k in range(4):
    burn(); await word_count(text='a b')
"""
    lab = await Lab.start("dev", ui=False, sandbox_root=tmp_path, replace_current=False)
    try:
        run = await lab.run([code(src), final("x")], agent="ptc", check=False, timeout=10)
        assert run.error is None, "the workflow task must not fail on the deadlock detector"
        assert run.output == "x"
        assert "stopped because it reached the time limit" in "\n".join(run.told())
        again = await lab.run([final("still serving")])
        assert again.output == "still serving"
    finally:
        await asyncio.wait_for(lab.stop(), 30)


async def test_a_near_limit_snippet_and_a_stopped_one_replay_under_load(lab):
    n = loop_for(SNIPPET_SECONDS * 0.35)
    near = f"x = 0\nfor i in range({n}): x += i\nawait word_count(text='a b')\nfor i in range({n}): x += i\nx > 0"
    script = [code("0"), code(near), code("while True:\n    pass"), final("done")]  # the first snippet is type-checked
    run = await lab.run(script, agent="ptc")
    told = run.told()
    assert "True" in told, "the near-limit snippet ran to its end"
    assert sum("reached the time limit" in t for t in told) == 1, "the runaway snippet was stopped, once"
    stops = [m for m in patch_markers(run.history_json[run.workflow_id]) if m.startswith("ptc-time-limit/")]
    assert stops == ["ptc-time-limit/snippet-2/turn-1"], "the stop is recorded in history"
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for _ in range(5):
            assert await replay(run.histories) == 1
    finally:
        burner.kill()
        burner.wait()
