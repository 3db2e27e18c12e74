"""The static site: widget outputs give way to the picture they carry, and CI's build renders the
notebooks its test run executed (the builder itself runs in CI)."""

from __future__ import annotations

import nbformat
import pytest

from durable_agents.maintenance.site import WIDGET, build, static_widgets


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


def test_the_site_renders_the_notebooks_the_tests_executed_without_running_them(tmp_path):
    """`--executed DIR` (CI, after `uv run pytest`) renders the outputs stored there and runs no cell."""
    executed = tmp_path / "executed"
    executed.mkdir()
    cell = nbformat.v4.new_code_cell("raise SystemExit('run again')")  # would end the build, were it run
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="the output the test run kept\n")]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 00 · Orientation"), cell])
    nbformat.write(notebook, executed / "00_orientation.ipynb")

    index, page = build(tmp_path / "site", ["00"], executed=executed)

    assert "the output the test run kept" in page.read_text()
    assert "00 · Orientation" in index.read_text()


def test_the_site_names_the_notebooks_the_test_run_did_not_leave(tmp_path):
    with pytest.raises(SystemExit, match=r"lacks the executed 00_orientation\.ipynb, 01_wrapping\.ipynb: run"):
        build(tmp_path / "site", ["00", "01"], executed=tmp_path)
    assert not (tmp_path / "site").exists()
