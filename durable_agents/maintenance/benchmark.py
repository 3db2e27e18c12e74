"""Benchmark the workbook: `uv run python -m durable_agents.maintenance.benchmark [--repeats N] [--only NN ...]`.

Reports medians over N repeats, as Markdown tables (run with PYTHONDONTWRITEBYTECODE=1, as CI does):
- per notebook, where the time goes in a fresh kernel (kernel start, the set-up cell, the other cells,
  shutdown), and the whole process as CI and a reader pay it (`jupyter nbconvert --execute`);
  `--only 01 05` picks notebooks, `--notebooks-only` skips the tables below;
- the lab's start and stop time for each kind of environment;
- the cost of one scripted agent step (a model request or a tool call) on each kind;
- how the history grows, in events and bytes, as a run goes from 1 to 50 turns.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from pathlib import Path

from durable_agents.lab import Lab
from durable_agents.lab.lab import Kind
from durable_agents.lessons.measure import plain_run
from durable_agents.script import call, final

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
KINDS: list[Kind] = ["dev", "time-skipping"]


def _script(turns: int) -> list:
    """`turns - 1` tool-call turns, then the final answer: 2 * turns - 1 activities."""
    return [*(call("write_file", path=f"f{i}.txt", content="x" * 20) for i in range(turns - 1)), final("done")]


async def _median(repeats: int, fn: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await fn() for _ in range(repeats)])


@dataclass
class NotebookTime:
    """Where a notebook's seconds go (one run), and what the whole process costs (another run)."""

    kernel_start: float
    setup_cell: float
    other_cells: float
    shutdown: float
    whole_process: float
    """`jupyter nbconvert --execute` in a fresh process: what CI and a reader's "Run all" pay."""


async def _in_a_kernel(path: Path) -> tuple[float, float, float, float]:
    """Execute the notebook cell by cell in a fresh kernel: kernel start, set-up cell, the rest, shutdown."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(path.parent)}})
    client.reset_execution_trackers()
    marks = [time.perf_counter()]
    async with client.async_setup_kernel():
        marks.append(time.perf_counter())
        setup = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
        for index, cell in enumerate(notebook.cells):
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            if index == setup:
                marks.append(time.perf_counter())
        marks.append(time.perf_counter())
    marks.append(time.perf_counter())
    kernel, setup_cell, rest, shutdown = (b - a for a, b in itertools.pairwise(marks))
    return kernel, setup_cell, rest, shutdown


def _whole_process(path: Path) -> float:
    """Seconds for `jupyter nbconvert --execute` of the notebook, as a new process."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(path),
             "--output-dir", out, "--ExecutePreprocessor.timeout=300"],
            check=True, capture_output=True, cwd=path.parent,
        )  # fmt: skip
        return time.perf_counter() - started


async def notebook_times(repeats: int, only: list[str] | None = None) -> list[tuple[str, NotebookTime]]:
    """Medians per notebook (`only`: the notebooks whose names start with one of these, e.g. `01`)."""
    rows = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if only and not path.name.startswith(tuple(only)):
            continue
        parts = [await _in_a_kernel(path) for _ in range(repeats)]
        wholes = [await asyncio.to_thread(_whole_process, path) for _ in range(repeats)]
        medians = [statistics.median(column) for column in zip(*parts, strict=True)]
        rows.append((path.name, NotebookTime(*medians, statistics.median(wholes))))
    return rows


async def lab_times(repeats: int, sandbox: Path) -> list[tuple[str, float, float]]:
    rows = []
    for kind, ui in [("dev", True), ("dev", False), ("time-skipping", False)]:
        starts, stops = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            lab = await Lab.start(kind, ui=ui, sandbox_root=sandbox)  # type: ignore[arg-type]
            starts.append(time.perf_counter() - started)
            started = time.perf_counter()
            await lab.stop()
            stops.append(time.perf_counter() - started)
        rows.append((f"{kind}{' + UI' if ui else ''}", statistics.median(starts), statistics.median(stops)))
    return rows


async def step_costs(repeats: int, sandbox: Path, turns: int = 10) -> list[tuple[str, float]]:
    """Seconds per activity: one run of `turns` turns makes `2 * turns - 1` activities."""
    script, activities = _script(turns), 2 * turns - 1

    async def plain() -> float:
        started = time.perf_counter()
        await plain_run(script, sandbox / "plain")
        return time.perf_counter() - started

    rows = [("plain agent (no Temporal)", await _median(repeats, plain) / activities)]
    for kind in KINDS:
        async with await Lab.start(kind, ui=False, sandbox_root=sandbox) as lab:
            await lab.run(script)  # warm-up

            async def durable(lab: Lab = lab) -> float:
                return (await lab.run(script)).seconds

            rows.append((kind, await _median(repeats, durable) / activities))
    return rows


async def history_growth(sandbox: Path, turns: tuple[int, ...] = (1, 2, 5, 10, 20, 50)) -> list[tuple[int, int, int]]:
    rows = []
    async with await Lab.start("time-skipping", sandbox_root=sandbox) as lab:
        for n in turns:
            run = await lab.run(_script(n))
            history = run.histories[run.workflow_id]
            rows.append((n, len(history.events), len(json.dumps(history.to_json_dict()))))
    return rows


def _table(header: list[str], rows: list[tuple]) -> str:
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


async def main(repeats: int, skip_notebooks: bool, only: list[str] | None, notebooks_only: bool) -> None:
    sandbox = Path(tempfile.mkdtemp(prefix="durable-agents-bench-"))
    print(f"Medians over {repeats} repeats, in seconds.\n")
    if not skip_notebooks:
        header = ["notebook", "kernel start", "set-up cell", "other cells", "shutdown", "whole process (nbconvert)"]
        rows = [(name, *astuple(t)) for name, t in await notebook_times(repeats, only)]
        print(_table(header, rows), "\n")
    if notebooks_only:
        return
    print(_table(["lab", "start s", "stop s"], await lab_times(repeats, sandbox)), "\n")
    costs = await step_costs(repeats, sandbox)
    print(_table(["environment", "ms per step"], [(k, s * 1000) for k, s in costs]), "\n")
    print(_table(["turns", "events", "history bytes"], await history_growth(sandbox)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--only", nargs="+", metavar="NN", help="only the notebooks whose names start so, e.g. 01 05")
    parser.add_argument("--notebooks-only", action="store_true", help="skip the lab, step and history tables")
    args = parser.parse_args()
    asyncio.run(main(args.repeats, args.skip_notebooks, args.only, args.notebooks_only))
