"""Re-record the history JSON that the graph tests read: `uv run python tests/data/record_histories.py`.

Each scenario's histories go to `tests/data/histories/<scenario>/<workflow id>.json` (name scenarios
on the command line to re-record only those). The
recorded files are committed, so the graph tests stay pure and fast; run this again only when the
workflow's shape changes on purpose.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from durable_agents.history.store import save_histories
from durable_agents.lab import Lab, WorkerPool
from durable_agents.lessons.migration import family_script
from durable_agents.scenarios import SCENARIOS as CATALOGUE
from durable_agents.script import call, code, final, parallel, spawn

HERE = Path(__file__).parent / "histories"

SCENARIOS = {
    "tour": dict(
        script=[
            call("write_file", path="a.txt", content="hi"),
            parallel(call("read_file", path="a.txt"), call("list_files")),
            call("write_file", path="../escape.txt", content="x"),
            call("no_such_tool"),
            call("flaky", fail_times=1),
            call("lookup", key="k"),
            call("check_positive", value=-1),
            final("done"),
        ]
    ),
    "notes": dict(script=[call("save_note", title="t", body="b"), final("ok")], agent="notes_demo"),
    "out_of_steps": dict(script=[call("list_files")], check=False),
    "retries_exhausted": dict(script=[call("flaky", fail_times=10), final("never")], check=False),
    "nested": dict(
        script=[
            parallel(
                spawn("researcher", "look", [call("list_files"), final("empty")]),
                spawn(
                    "generic",
                    "delegate",
                    [spawn("generic", "deeper", [call("flaky", fail_times=1), final("deep")]), final("delegated")],
                ),
            ),
            final("nested"),
        ]
    ),
    "ptc": dict(
        script=[
            code(
                "import asyncio\n"
                'await asyncio.gather(write_file(path="a.txt", content="a"), '
                'spawn(agent_name="researcher", task="list"), write_file(path="b.txt", content="b"))',
                scripts={"list": [call("list_files"), final("listed")]},
            ),
            final("gathered"),
        ],
        agent="ptc",
    ),
}

FROM_THE_CATALOGUE = [
    "ptc_hostile_code_is_model_visible",
    "ptc_runaway_loop_is_stopped",
    "parent_cancel_interrupts_ptc_calls",
    "bad_arguments_are_model_visible",
    "unknown_subagent_is_model_visible",
    "depth_limit_is_model_visible",
    "mcp_tools_are_activities",
    "ptc_first_failure_cancels_siblings",
    "transient_model_failure_retries",
]
"""Scenarios of `durable_agents.scenarios` recorded as the catalogue runs them (the tree tests read them)."""
for _name in FROM_THE_CATALOGUE:
    SCENARIOS[_name] = dict(script=CATALOGUE[_name].script, check=False, **CATALOGUE[_name].run_options())


async def main(names: list[str]) -> None:
    for name in names or SCENARIOS:
        shutil.rmtree(HERE / name, ignore_errors=True)
    async with await Lab.start("time-skipping", sandbox_root="/tmp/record-sandbox") as lab:
        for name, kwargs in SCENARIOS.items():
            if names and name not in names:
                continue
            run = await lab.run(**kwargs)
            paths = save_histories(run.histories, HERE / name)
            print(f"{name}: {run.output or run.error!r} -> {[p.name for p in paths]}")


async def two_workers() -> None:
    """Notebook 06's "who ran what": four subagents spawned at once, on two worker processes."""
    shutil.rmtree(HERE / "four_spawns_two_workers", ignore_errors=True)
    async with await Lab.start("dev", ui=False, in_process_worker=False, sandbox_root="/tmp/record-sandbox") as lab:
        pool = await WorkerPool.start(lab, 2)
        try:
            script, agent = family_script("direct-spawns", 4)
            run = await lab.run(script, agent=agent)
        finally:
            await pool.stop()
        paths = save_histories(run.histories, HERE / "four_spawns_two_workers")
        print(f"four_spawns_two_workers: {run.output!r} -> {[p.name for p in paths]}")


if __name__ == "__main__":
    if sys.argv[1:] == ["four_spawns_two_workers"]:
        asyncio.run(two_workers())
        sys.exit()
    asyncio.run(main(sys.argv[1:]))
