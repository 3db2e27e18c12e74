"""Notebook 04's table of a snippet's calls after the first failure, read from a recorded history."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

from durable_agents.history.graph import build_graph
from durable_agents.lessons.ptc_measure import snippet_calls
from tests.conftest import DATA


def _rows(html: str) -> list[list[str]]:
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)]
    return [c for c in cells if c]  # the header row has no <td>


def test_each_call_of_the_snippet_says_how_it_ended_and_what_cancelled_it():
    folder = DATA / "ptc_first_failure_cancels_siblings"
    histories = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
    root = min(histories, key=len)
    run = SimpleNamespace(history_json=histories, workflow_id=root, graph=lambda: build_graph(histories, root))
    rows = {call: (ended, records) for call, ended, records in _rows(snippet_calls(run).data)}
    assert rows["slow(seconds=1.0, fail=true)"] == ("failed: gave up after 1.0 s", "—")
    ended, records = rows["slow(seconds=5.0, fail=false)"]
    assert records.startswith("ACTIVITY_TASK_CANCEL_REQUESTED") and ended.startswith(("asked to stop", "cancelled"))
    ended, records = rows["spawn generic (wait)"]
    assert ended == "cancelled" and records.endswith("CHILD_WORKFLOW_EXECUTION_CANCELED")
    assert records.startswith("REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED")
