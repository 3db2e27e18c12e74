"""The fault matrix reads where each failure was handled from recorded histories."""

from __future__ import annotations

import json

from durable_agents.history.events import told
from durable_agents.history.graph import build_graph, cut_at_word
from durable_agents.lessons.fault_matrix import fault_row, incident
from durable_agents.lessons.notebook import listed
from tests.conftest import DATA
from tests.test_graph import recorded


def test_incidents_from_recorded_histories():
    kinds = {name: incident(recorded(name)) for name in ("tour", "retries_exhausted", "out_of_steps", "notes")}
    assert kinds["notes"] is None
    assert kinds["tour"][0] == "model_retry" and kinds["tour"][1].label == "write_file"  # the sandbox escape
    assert kinds["retries_exhausted"][0] == "failed" and kinds["retries_exhausted"][1].attempts == 5
    assert kinds["out_of_steps"][0] == "not_retryable" and kinds["out_of_steps"][1].kind == "model"


class _Recorded:
    """A recorded run, as `fault_row` reads one: its graph and what its model was told."""

    def __init__(self, name: str) -> None:
        self.histories = {p.stem: json.loads(p.read_text()) for p in (DATA / name).glob("*.json")}
        self.root = min(self.histories, key=len)

    def graph(self):
        return build_graph(self.histories, self.root)

    def told(self) -> list[str]:
        return told(self.histories[self.root])


def test_the_matrix_says_who_handled_it_and_what_the_model_saw_in_words():
    rows = {
        name: fault_row(name, _Recorded(name))
        for name in ("ptc_first_failure_cancels_siblings", "transient_model_failure_retries", "out_of_steps", "tour")
    }
    ptc = rows["ptc_first_failure_cancels_siblings"]
    assert ptc["handled by"].startswith("the model") and ptc["the model saw"] == "Exception: gave up after 1.0 s"
    model = rows["transient_model_failure_retries"]
    assert model["the model saw"].startswith("nothing: Temporal retried") and model["attempts"] == 3
    assert rows["out_of_steps"]["the model saw"] == "nothing: no model turn after it"
    for row in rows.values():
        assert row["the model saw"] not in ("", "[]"), row
    cut = cut_at_word("ApplicationError: ToolRetryError raised while the tool ran its course", 30)
    assert cut == "ApplicationError:…" or cut.endswith(("Error…", "raised…")), cut
    assert "ToolRet…" not in cut


def test_values_in_a_hint_read_as_words():
    assert listed([]) == "none" and listed([], "nothing") == "nothing"
    assert (
        listed([2]) == "2" and listed(["a.txt", "b.txt"]) == "'a.txt' and 'b.txt'" and listed([1, 2, 3]) == "1, 2 and 3"
    )
