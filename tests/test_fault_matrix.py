"""The fault matrix reads where each failure was handled from recorded histories."""

from __future__ import annotations

from durable_agents.lessons.fault_matrix import incident
from tests.test_graph import recorded


def test_incidents_from_recorded_histories():
    kinds = {name: incident(recorded(name)) for name in ("tour", "retries_exhausted", "out_of_steps", "notes")}
    assert kinds["notes"] is None
    assert kinds["tour"][0] == "model_retry" and kinds["tour"][1].label == "write_file"  # the sandbox escape
    assert kinds["retries_exhausted"][0] == "failed" and kinds["retries_exhausted"][1].attempts == 5
    assert kinds["out_of_steps"][0] == "not_retryable" and kinds["out_of_steps"][1].kind == "model"
