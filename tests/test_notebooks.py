"""The notebooks keep the workbook's conventions; each runs as a test item of its own (tests/notebook_items.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import time

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import run_elsewhere
from durable_agents.history.store import HISTORY_DIR_ENV
from durable_agents.maintenance.site import EXECUTED_DIR_ENV
from tests.conftest import DATA, NOTEBOOKS
from tests.notebook_items import RUN_ALL_FIGURE, NotebookFailed, check_run_elsewhere, check_solutions_quiet

PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def load(path):
    return nbformat.read(path, as_version=4)


def test_notebooks_are_numbered_in_order():
    """00 (orientation) to the capstone, no number skipped or repeated."""
    assert [p.name[:2] for p in PATHS] == [f"{i:02d}" for i in range(len(PATHS))]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_conventions(path):
    notebook = load(path)
    cells = notebook.cells
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    raw = json.loads(path.read_text())["cells"]  # nbformat.read fills missing ids in: look at the file
    assert all(c.get("id") for c in raw), "every cell has an id (nbformat 4.5), or nbformat warns and will refuse"
    assert all(not c.get("outputs") and not c.get("execution_count") for c in cells if c.cell_type == "code")
    first, last = cells[0].source, cells[-1].source
    assert re.match(rf"# {path.name[:2]} · \S", first)
    assert "**You will learn**" in first and "**Time:**" in first and "**Builds on:**" in first
    # what Run all costs, measured by `python -m durable_agents.maintenance.benchmark` (over 15 s: and why)
    assert RUN_ALL_FIGURE.search(first), "the header says what Run all takes (and tests/schedule.py uses it)"
    assert re.search(r"\*\*Next:\*\*.*\[[^\]]+\]\([^)]+\)", last), "the last cell links to what comes next"
    assert any(c.cell_type == "markdown" and "## What you learned" in c.source for c in cells)
    code = [c for c in cells if c.cell_type == "code"]
    # one set-up cell starts the lab; a cell tagged `restart` starts it again on purpose (07: after its server died)
    starts = [c for c in code if "await Lab.start(" in c.source and "restart" not in c.metadata.get("tags", [])]
    assert len(starts) == 1, "one setup cell starts the lab"
    assert not any(re.search(r"%pip|getpass|input\(|nest_asyncio", c.source) for c in code)
    for index, cell in enumerate(cells):
        if "raises-exception" in cell.metadata.get("tags", []):
            assert "assert" in cells[index + 1].source, "the cell after a failing cell asserts what happened"
    solutions = [c for c in code if "solution" in c.metadata.get("tags", [])]
    assert solutions, "every notebook has an exercise with a hidden solution"
    for solution in solutions:
        hidden = solution.metadata.get("jupyter", {})
        assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), "a solution hides its code and output"
        assert solution.source.startswith("# "), "a collapsed solution shows a neutral comment, not its first line"
        assert "assert_passed()" in solution.source
    copy = NOTEBOOKS / "solutions" / f"{path.stem}.py"
    assert copy.is_file(), f"no {copy.name} in notebooks/solutions/ (for frontends that show hidden cells)"
    assert all(s.source in copy.read_text() for s in solutions), f"{copy.name} differs from the notebook's solution"


async def test_a_notebook_runs_twice_in_one_kernel():
    """Re-running every cell (a workshop's "Run All" twice) must work: fresh ids, the lab restarted."""
    notebook = load(NOTEBOOKS / "01_wrapping.ipynb")
    client = NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}})
    async with client.async_setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    await client.async_execute_cell(cell, index)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ScriptError"], "only the cell that fails on purpose fails"


def _quiet(source: str) -> bool:
    """True when a cell displays nothing: no print/display calls, and its last statement shows no value
    (an assignment, or a call of `assert_passed()`, which returns None)."""
    import ast

    tree = compile(source, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    if any(isinstance(f, ast.Name) and f.id in ("print", "display") for f in calls):
        return False
    last = tree.body[-1]
    if not isinstance(last, ast.Expr):
        return True
    value = last.value.value if isinstance(last.value, ast.Await) else last.value
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "assert_passed"


def test_a_solution_that_displayed_anything_when_it_ran_fails_its_notebook():
    """The same rule, on what the cells did when the notebook's item ran them (a warning counts)."""
    solution = {"tags": ["solution"], "jupyter": {"source_hidden": True, "outputs_hidden": True}}
    quiet = nbformat.v4.new_code_cell("check.assert_passed()", metadata=solution)
    loud = nbformat.v4.new_code_cell("check.assert_passed()", metadata=solution)
    loud.id = "loud"
    loud.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: the answer is 42")]
    shown = nbformat.v4.new_code_cell("print(42)")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42")]
    check_solutions_quiet(nbformat.v4.new_notebook(cells=[quiet, shown]), "NN.ipynb")  # not a solution: may print
    with pytest.raises(
        NotebookFailed, match=re.escape("NN.ipynb, solution cell loud displayed 'UserWarning: the answer is 42")
    ):
        check_solutions_quiet(nbformat.v4.new_notebook(cells=[quiet, loud]), "NN.ipynb")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_solutions_stay_hidden_after_run_all(path):
    """JupyterLab's Run All clears a cell's "outputs hidden" flag (its source stays hidden): so a solution
    cell must display nothing at all, or its diagram or printout gives the answer away."""
    loud = [c.id for c in load(path).cells if "solution" in c.metadata.get("tags", []) and not _quiet(c.source)]
    assert not loud, f"solution cells {loud} display something: end them with `.assert_passed()`, print nothing"


def test_a_run_made_elsewhere_gets_its_items_checks(tmp_path, monkeypatch):
    """`check_run_elsewhere` (tests/test_browser.py's runs of 01, 05 and 06): it replays only the histories
    written since the run began, fails when there are none, and keeps the notebook with the committed
    cells' metadata (Run All cleared the solutions' "outputs hidden" flag)."""
    monkeypatch.setenv(HISTORY_DIR_ENV, str(tmp_path / "histories"))
    monkeypatch.setenv(EXECUTED_DIR_ENV, str(tmp_path / "executed"))
    name = "00_orientation.ipynb"
    executed = load(NOTEBOOKS / name)
    for cell in executed.cells:
        cell.metadata["jupyter"] = {"source_hidden": True}  # as Run All leaves a solution
    written = tmp_path / "written"
    written.mkdir()
    recorded = next((DATA / "tour").glob("*.json"))
    before = shutil.copy(recorded, written)
    os.utime(before, ns=(0, 0))  # written by an earlier run
    since = time.time_ns()
    with pytest.raises(NotebookFailed, match="wrote no history"):
        check_run_elsewhere(executed, tmp_path / "lab" / name, written, since)
    os.utime(before)  # now this run's
    assert check_run_elsewhere(executed, tmp_path / "lab" / name, written, since) == 1
    assert [p.name for p in (tmp_path / "histories" / "00_orientation").iterdir()] == [recorded.name]
    kept = load(tmp_path / "executed" / name)
    assert [c.metadata for c in kept.cells] == [c.metadata for c in load(NOTEBOOKS / name).cells]


class _Marked:
    def __init__(self, *marks: pytest.Mark) -> None:
        self.marks = marks

    def iter_markers(self, name: str) -> list[pytest.Mark]:
        return [m for m in self.marks if m.name == name]


def test_only_a_test_that_can_run_here_replaces_a_notebooks_item():
    here = pytest.mark.runs_notebook("05_failures.ipynb", here=True).mark
    not_here = pytest.mark.runs_notebook("06_migration.ipynb", here=False).mark
    assert run_elsewhere([_Marked(here), _Marked(not_here), _Marked()]) == {"05_failures.ipynb"}
