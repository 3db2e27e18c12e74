"""What a workshop room needs from the package: a reset that leaves nothing running, worker logs in a
file rather than in the notebook, and each capability's activity settings reaching its activities."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import psutil

from durable_agents import upstream
from durable_agents.lab import cleanup, forkserver, reaper
from durable_agents.lab.logs import WORKER_LOG
from durable_agents.script import call, final


async def test_worker_failures_go_to_the_log_file_not_the_notebook(lab, capfd):
    await lab.run([call("flaky", fail_times=1), final("ok")])
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    log = (lab.sandbox_root / WORKER_LOG).read_text()
    assert "transient failure on attempt 1" in log and "Traceback" in log


def test_the_faults_capability_sets_its_own_toolsets_settings():
    from datetime import timedelta

    from pydantic_ai.durable_exec.temporal import TemporalDurability
    from temporalio.common import RetryPolicy

    from durable_agents.agent import build_agent
    from durable_agents.capabilities import FaultsCapability

    mine = FaultsCapability(
        activity_config={
            "start_to_close_timeout": timedelta(seconds=7),
            "retry_policy": RetryPolicy(maximum_attempts=9),
        }
    )
    durability = TemporalDurability.from_agent(build_agent("settings_probe", capabilities=[mine]))
    config = upstream.toolset_activity_config(durability, "faults")  # what its activities are scheduled with
    assert config["start_to_close_timeout"] == timedelta(seconds=7)
    assert config["retry_policy"].maximum_attempts == 9


def alive(processes: list[psutil.Process], grace: float) -> list[psutil.Process]:
    """Those of `processes` still running after up to `grace` seconds (a zombie counts as gone)."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for p in processes if reaper.running(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


KERNEL = """
import asyncio, os
from durable_agents.lab import Lab, WorkerPool

async def main():
    lab = await Lab.start("time-skipping", sandbox_root={sandbox!r}, in_process_worker=False)
    pool = await WorkerPool.start(lab, 1)
    print("READY", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


async def test_reset_stops_what_a_kernel_left_and_clears_the_sandbox(tmp_path, monkeypatch):
    sandbox = tmp_path / "notebooks" / ".sandbox"
    kernel = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KERNEL.format(sandbox=str(sandbox)))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert kernel.stdout.readline().strip() == "READY"
        left = {p.pid for p in psutil.Process(kernel.pid).children(recursive=True)}
        found = [p for p in cleanup.leftovers() if p.pid in left]
        names = " ".join(" ".join(p.info["cmdline"]) for p in found)
        assert "temporal-test-server" in names
        assert len([p for p in found if forkserver.is_ours(p.info["cmdline"])]) == 2, "the fork server and its worker"
        assert "durable_agents.lab.reaper" in names
        # only this stand-in kernel's processes: the test session's own lab must live on
        monkeypatch.setattr(cleanup, "leftovers", lambda: found)
        done = await cleanup.reset(tmp_path)
        assert len(done.stopped) == len(found) and done.cleared == [sandbox]
        assert not sandbox.exists()
        assert not alive(found, grace=5)
        assert kernel.poll() is None, "the kernel itself is left alone"
    finally:
        kernel.kill()
        kernel.wait()
