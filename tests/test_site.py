"""The static site: widget outputs give way to the picture they carry (the builder itself runs in CI)."""

from __future__ import annotations

import nbformat

from durable_agents.maintenance.site import WIDGET, static_widgets


def _notebook(*outputs: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("run.timeline()")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data) for data in outputs]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    return notebook


def test_a_widget_with_a_picture_becomes_the_picture():
    notebook = _notebook({WIDGET: {"model_id": "x"}, "text/html": "<svg/>", "text/plain": "VBox()"})
    assert static_widgets(notebook) == 1
    assert set(notebook.cells[0].outputs[0].data) == {"text/html", "text/plain"}
    assert "widgets" not in notebook.metadata


def test_a_widget_without_a_picture_is_left_alone():
    notebook = _notebook({WIDGET: {"model_id": "x"}, "text/plain": "IntSlider()"})
    assert static_widgets(notebook) == 0
    assert WIDGET in notebook.cells[0].outputs[0].data
