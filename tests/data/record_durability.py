"""Re-record the histories the notebook 07 exercise tests read: `uv run python tests/data/record_durability.py`.

- `durability/crash/`: every worker SIGKILLed while `slow` runs, a fresh worker finishing the run;
- `durability/before/`: a run of today's code (what a change must still replay);
- `durability/after/`: a new run on `paced-patched` workers (the pause and its patch marker).

They sit outside `histories/` (the graph and render tests read every folder there). Re-record
only when the workflow's shape changes on purpose; `tests/test_durability.py` runs the same live.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from durable_agents.history.store import save_histories
from durable_agents.lab import Lab, WorkerPool
from durable_agents.lab.worker import VERSION_ENV
from durable_agents.lessons import durability
from durable_agents.script import call, final

HERE = Path(__file__).parent / "durability"
CRASH = [call("write_file", path="before.txt", content="written before the crash"), call("slow", seconds=2.0),
         final("survived")]  # fmt: skip


async def main() -> None:
    shutil.rmtree(HERE, ignore_errors=True)
    with tempfile.TemporaryDirectory() as sandbox:
        async with await Lab.start("dev", ui=False, sandbox_root=sandbox, in_process_worker=False) as lab:
            pool = await WorkerPool.start(lab, 2)
            save_histories((await lab.run([call("write_file", path="a.txt", content="x"), final("ok")])).histories,
                           HERE / "before")  # fmt: skip
            handle = await lab.start_run(CRASH, timeout=300)
            await durability.tool_in_flight(lab, handle.id)
            await durability.progress_at_least(handle, 0.5)
            pool.kill_all()
            fresh = await WorkerPool.start(lab, 1, prefix="fresh")
            save_histories((await lab.follow(handle.id)).histories, HERE / "crash")
            await fresh.stop()
            patched = await WorkerPool.start(lab, 1, prefix="v2-patched", env={VERSION_ENV: "paced-patched"})
            new = await lab.follow((await lab.start_run([final("ok")])).id, save=False)
            save_histories(new.histories, HERE / "after")
            await patched.stop()


if __name__ == "__main__":
    asyncio.run(main())
