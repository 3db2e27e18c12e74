"""Work moving between worker processes (notebook 06): a fuzzer and a failover drill.

    uv run python -m durable_agents.lessons.migration --iterations 20 --workers 3 --max-n 5 --kind ptc-spawns

The fuzzer runs random workflow shapes from three families and reports, per family, how often a
child workflow ran on a different worker than its parent. Temporal does not promise fair dispatch
across pollers: these are frequencies, not guarantees.

- `direct-spawns`: the parent emits N parallel `spawn` calls;
- `ptc-spawns`: the parent emits one `run_code` that gathers N spawns;
- `ptc-mixed`: one `run_code` that gathers W file writes and N spawns.

Notebook 06's set-up cell imports from two places, `lessons.workbook` and this module: the package
code the notebook shows or uses is imported here as `name as name` (a re-export) for it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from durable_agents.errors import root_cause
from durable_agents.lab import Lab, Run, WorkerPool
from durable_agents.lab import worker as worker
from durable_agents.lab.workers import forget_sticky
from durable_agents.lessons.durability import tool_in_flight
from durable_agents.lessons.exercises import (
    Check,
    did_not_start,
    finished_check,
    strangers,
)
from durable_agents.script import Step, call, code, final, parallel, spawn

FAMILIES = ("direct-spawns", "ptc-spawns", "ptc-mixed")


def family_script(kind: str, n: int, writes: int = 0) -> tuple[list[Step], str]:
    """A parent script of family `kind` with `n` spawns (and `writes` file writes), and its agent."""
    tasks: dict[str, list[Step]] = {
        f"task {i}": [call("write_file", path=f"child{i}.txt", content=str(i)), final(f"child {i}")] for i in range(n)
    }
    if kind == "direct-spawns":
        return [parallel(*(spawn("generic", t, s) for t, s in tasks.items())), final("done")], "demo"
    calls = [f'spawn(agent_name="generic", task="{t}")' for t in tasks]
    calls += [f'write_file(path="w{i}.txt", content="{i}")' for i in range(writes if kind == "ptc-mixed" else 0)]
    source = f"import asyncio\nawait asyncio.gather({', '.join(calls)})"
    return [code(source, scripts=tasks), final("done")], "ptc"


def moves(run: Run) -> tuple[int, int]:
    """(children, children whose workflow tasks ran on another worker than their parent's first)."""
    graph = run.graph()
    parent = graph.workers[0] if graph.workers else None
    children = graph.walk()[1:]
    return len(children), sum(1 for c in children if c.workers and c.workers[0] != parent)


@dataclass
class Tally:
    runs: int = 0
    children: int = 0
    moved: int = 0

    @property
    def share(self) -> float:
        return self.moved / self.children if self.children else 0.0


async def fuzz(
    lab: Lab,
    iterations: int,
    max_n: int = 5,
    kind: str | None = None,
    seed: int = 0,
    on_run: Callable[[str, Any], None] | None = None,
    tallies: dict[str, Tally] | None = None,
) -> dict[str, Tally]:
    """Run `iterations` random shapes on `lab` (whose task queue several workers poll).

    `on_run(family, run)` is called after each run (to print which worker ran each workflow). Pass
    `tallies` (an empty dict) to keep the counts so far when the fuzzing is interrupted."""
    rng = random.Random(seed)
    tallies = {} if tallies is None else tallies
    tallies.update({family: Tally() for family in ([kind] if kind else FAMILIES)})
    for _ in range(iterations):
        family = rng.choice(list(tallies))
        script, agent = family_script(family, rng.randint(1, max_n), rng.randint(1, max_n))
        run = await lab.run(script, agent=agent)
        if on_run is not None:
            on_run(family, run)
        children, moved = moves(run)
        tally = tallies[family]
        tally.runs, tally.children, tally.moved = tally.runs + 1, tally.children + children, tally.moved + moved
    return tallies


@dataclass
class Drill:
    """A failover drill: the run a worker died in, which worker, and the answer of an undisturbed run."""

    run: Run
    killed: str
    undisturbed: str | None


def crash_cost(run: Run, tool: str = "slow") -> dict[str, int]:
    """What a crash during `tool` cost, from the history: its attempts, and the other steps run twice."""
    steps = run.graph().all_steps()
    held = [s for s in steps if s.label == tool]
    return {
        f"attempts {tool} takes": held[0].attempts if held else 0,
        "model requests that run twice": sum(s.kind == "model" and s.attempts > 1 for s in steps),
        "other tool calls that run twice": sum(s.kind == "tool" and s.label != tool and s.attempts > 1 for s in steps),
    }


async def failover_drill(lab: Lab, pool: WorkerPool, seconds: float = 3.0, compare: bool = True) -> Drill:
    """Kill the worker that holds a slow, heartbeating tool activity; another worker finishes the run.

    `slow` heartbeats and has a one-second heartbeat timeout: when its worker dies, Temporal
    notices within a second and schedules the next attempt, which another worker picks up. The
    model requests already recorded are not repeated. `compare=False` skips the undisturbed run
    that the answer is compared with (its answer is the script's, `"survived"`).
    """
    script: list[Step] = [
        call("write_file", path="before.txt", content="written before the crash"),
        call("slow", seconds=seconds),
        final("survived"),
    ]
    undisturbed = (await lab.run(script)).output if compare else "survived"
    handle = await lab.start_run(script)
    killed = await tool_in_flight(lab, handle.id)
    pool.kill(killed)
    await forget_sticky(lab.client, handle.id)  # the next workflow task need not wait for the dead worker
    return Drill(await lab.follow(handle.id), killed, undisturbed)


def report(tallies: dict[str, Tally]) -> str:
    lines = ["| family | runs | children | on another worker than the parent |", "|---|---|---|---|"]
    lines += [f"| {f} | {t.runs} | {t.children} | {t.moved} ({t.share:.0%}) |" for f, t in tallies.items()]
    return "\n".join(lines)


async def main(iterations: int, workers: int, max_n: int, kind: str | None, seed: int) -> None:

    async with await Lab.start("dev", ui=False, in_process_worker=False) as lab:
        pool = await WorkerPool.start(lab, workers)
        try:
            print(report(await fuzz(lab, iterations, max_n, kind, seed)))
        finally:
            await pool.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-n", type=int, default=4)
    parser.add_argument("--kind", choices=FAMILIES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.iterations, args.workers, args.max_n, args.kind, args.seed))


# --- The exercises' checks -------------------------------------------------------------------------


def check_migration(run: Run, pool: WorkerPool) -> Check:
    """Exercise 06: one `run_code` gathers three subagents, each writing `part<i>.txt`, on the worker pool."""
    check = finished_check("06 · a fan-out across processes", run)
    if not check.passed:
        return check
    graph = run.graph()
    codes = [s for s in graph.steps if s.kind == "code"]
    children = [s for c in codes for s in c.inner if s.kind == "child"]
    check.require(
        len(children) == 3, f"{len(children)} subagent(s) ran inside run_code; gather three spawn(...) calls."
    )
    check.require(
        len({s.batch for s in children}) <= 1,
        "The subagents started one after another: pass all three spawn(...) calls to one "
        "`await asyncio.gather(...)` so they start together and can land on different workers.",
    )
    parts = {k for k in run.files() if k.startswith("part")}
    check.require(
        parts == {"part0.txt", "part1.txt", "part2.txt"}, f"Files {sorted(parts)}: each subagent writes one part."
    )
    workers = {w for node in graph.walk() for w in node.workers}
    check.require(workers <= set(pool.identities), f"Workers {sorted(workers)} are not all in the pool.")
    return check


async def check_your_worker(lab: Lab, program: str | Path) -> Check:
    """Exercise 06, the second: the reader's worker program, two processes of it, one killed mid-tool.

    Starts two processes of `program` on `lab`'s task queue (stop every other worker first), runs
    the failover drill on them, and reads from the history that they ran it all and that the
    survivor took over `slow`.
    """

    check = Check("06 · your own worker process")
    try:
        mine = await WorkerPool.start(lab, 2, prefix="mine", program=program)
    except (OSError, RuntimeError, TimeoutError) as exc:
        check.require(False, did_not_start("Your worker", exc))
        return check
    try:
        drill = await asyncio.wait_for(failover_drill(lab, mine, seconds=1.5, compare=False), 120)
    except TimeoutError:
        check.require(False, "The drill did not finish in two minutes: is every other worker of this lab stopped?")
        return check
    finally:
        survivors = set(mine.identities)
        await mine.stop()
    run = drill.run
    if not check.require(run.error is None, f"The drill's run failed: `{root_cause(run.error)}`."):
        return check
    others = strangers(run, survivors | {drill.killed})
    check.require(
        not others,
        f"Workers {sorted(others)} ran part of the drill: stop every other worker of this lab first "
        "(`await pool.stop()`), so that only yours poll.",
    )
    slow = [s for s in run.graph().steps if s.label == "slow"]
    check.require(
        bool(slow) and slow[0].attempts == 2 and slow[0].worker in survivors,
        f"slow took {slow[0].attempts if slow else 0} attempt(s), the last on {slow[0].worker if slow else '?'}: "
        f"after {drill.killed} died, the other of your workers should take the second attempt.",
    )
    return check
