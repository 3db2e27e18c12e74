"""`durable-agents migration` and `durable-agents fuzz`: work spread over worker processes, in a terminal.

Both start a dev server whose task queue only worker processes poll (`WorkerPool`: each its own
interpreter and SDK client), run fan-outs from `durable_agents.lessons.migration` (the same
families notebook 06 and its tests use), and print which worker ran each workflow. Temporal does
not promise fair dispatch across pollers, so a single run may keep everything on one worker.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from durable_agents.demo import SANDBOX
from durable_agents.history.graph import WorkflowNode
from durable_agents.history.tree import as_tree
from durable_agents.lab import Lab, WorkerPool
from durable_agents.lessons.migration import family_script, fuzz, moves, report


def placement(graph: WorkflowNode) -> list[tuple[str, str, bool]]:
    """(workflow id, the workers that ran its code, whether that is another worker than the root's), per workflow."""
    home = graph.code_workers[0] if graph.code_workers else ""
    return [
        (n.workflow_id, ", ".join(n.code_workers), bool(n.code_workers) and n.code_workers[0] != home)
        for n in graph.walk()
    ]


def placement_table(graph: WorkflowNode) -> Table:
    table = Table("workflow", "workflow code ran on", "moved", title="Which worker ran each workflow")
    for wid, workers, moved in placement(graph):
        table.add_row(escape(wid), escape(workers), "yes" if moved else "")
    return table


async def _farm(workers: int, console: Console) -> tuple[Lab, WorkerPool]:
    lab = await Lab.start("dev", ui=False, in_process_worker=False, sandbox_root=SANDBOX)
    try:
        pool = await WorkerPool.start(lab, workers)
    except BaseException:
        await lab.stop()
        raise
    console.print(f"{workers} worker processes poll task queue {lab.task_queue!r}: {', '.join(pool.identities)}")
    return lab, pool


async def migration_demo(workers: int, children: int, console: Console) -> int:
    """One parent fans out `children` subagents in parallel; print the tree and who ran each workflow."""
    lab, pool = await _farm(workers, console)
    try:
        script, agent = family_script("direct-spawns", children)
        run = await lab.run(script, agent=agent)
        graph = run.graph()
        console.print(as_tree(graph))
        console.print(placement_table(graph))
        total, moved = moves(run)
        console.print(f"{moved} of {total} children ran on another worker than their parent.")
        return 0
    finally:
        await pool.stop()
        await lab.stop()


async def fuzz_demo(
    iterations: int, workers: int, max_n: int, kind: str | None, seed: int, identities: bool, console: Console
) -> int:
    """The fuzzer (`durable_agents.lessons.migration.fuzz`) with a per-family report."""
    lab, pool = await _farm(workers, console)

    def show(family: str, run: Any) -> None:
        total, moved = moves(run)
        console.print(f"{family:14} {run.workflow_id}: {total} children, {moved} on another worker")
        if identities:
            for wid, ran_on, other in placement(run.graph()):
                console.print(f"    {escape(wid)}  {escape(ran_on)}{'  (moved)' if other else ''}")

    tallies: dict[str, Any] = {}
    try:
        await fuzz(lab, iterations, max_n, kind, seed, on_run=show, tallies=tallies)
        console.print(report(tallies), markup=False)
        return 0
    except asyncio.CancelledError:  # Ctrl-C or a SIGTERM: the runs so far still count
        done = sum(t.runs for t in tallies.values())
        console.print(f"Interrupted after {done} of {iterations} run(s); the tally so far:")
        console.print(report(tallies), markup=False)
        raise
    finally:
        await pool.stop()
        await lab.stop()
