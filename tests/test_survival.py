"""The lab survives the learner: Stop mid-cell, a server that dies, two labs at once, a kernel shut down.

The kernel cases drive a real Jupyter kernel (`tests/kernel.py`) as JupyterLab does: Stop is
SIGINT to the kernel's whole process group.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest

from durable_agents.lab import Lab, LabError
from durable_agents.lab.logs import WORKER_LOG
from durable_agents.script import call, final

from .kernel import Kernel
from .test_workshop import alive

SETUP = """
from durable_agents.lab import Lab
from durable_agents.script import call, final
lab = await Lab.start(sandbox_root=".sandbox")
"""


@pytest.fixture
def kernel(tmp_path):
    k = Kernel(tmp_path)
    yield k
    k.shutdown(now=True)


def _follow_id(message: str) -> str:
    """The workflow id an `Interrupted` message tells the learner to follow."""
    found = re.search(r"lab\.follow\('([^']+)'\)", message)
    assert found, message
    return found[1]


def test_stop_mid_run_leaves_the_server_the_run_and_the_web_ui(kernel):
    assert kernel.run(SETUP).error is None
    server, ui = int(kernel.value("lab.server.pid")), kernel.value("lab.ui_url")

    cell = kernel.run("run = await lab.run([call('slow', seconds=2.5), final('done')])", interrupt_after=1.0)

    assert cell.error is not None and cell.error[0] == "Interrupted", cell.shown
    assert "goes on on the server" in cell.error[1]
    assert "temporalio" not in cell.shown and len(cell.shown.splitlines()) < 15, cell.shown
    assert psutil.pid_exists(server), "Stop killed the lab's Temporal server"
    follow = kernel.run(f"run = await lab.follow({_follow_id(cell.error[1])!r})\nprint(run.output)")
    assert follow.error is None and follow.text.strip() == "done", follow.shown
    assert kernel.value("lab.ui_url") == ui


def servers_logging_to(folder) -> set[int]:
    """The Temporal servers whose output goes to a log file under `folder` (the launcher points it there)."""
    found = set()
    for proc in psutil.process_iter(["name"]):
        if (proc.info["name"] or "").startswith("temporal"):
            try:
                if any(str(folder) in f.path for f in proc.open_files()):
                    found.add(proc.pid)
            except psutil.Error:
                pass
    return found


def test_stop_during_the_set_up_cell_leaves_no_server_behind(kernel, tmp_path):
    for when in (0.3, 0.8, 1.5):  # before, while and after the server starts
        cell = kernel.run(SETUP, interrupt_after=when)
        assert cell.error is None or cell.error[0] in ("Interrupted", "CancelledError"), cell.shown
    assert kernel.run(SETUP).error is None
    assert kernel.value("(await lab.run([final('hi')])).output") == "'hi'"
    assert servers_logging_to(tmp_path) == {int(kernel.value("lab.server.pid"))}


def test_a_dead_server_is_told_at_once_in_one_error(kernel):
    assert kernel.run(SETUP).error is None
    os.kill(int(kernel.value("lab.server.pid")), signal.SIGKILL)

    start = time.monotonic()
    cell = kernel.run("await lab.run([final('x')])")

    assert time.monotonic() - start < 5
    assert cell.error is not None and cell.error[0] == "LabError", cell.shown
    assert "is gone" in cell.error[1] and "Re-run the set-up cell" in cell.error[1]
    later = kernel.run("print('still here')")
    assert later.shown.strip() == "still here", later.shown  # no Rust retry lines, no orphan task errors
    assert kernel.run(SETUP).error is None  # the set-up cell mends it
    assert kernel.value("(await lab.run([final('back')])).output") == "'back'"


def test_a_server_killed_while_a_cell_waits_fails_that_cell_fast(kernel):
    assert kernel.run(SETUP).error is None
    server = int(kernel.value("lab.server.pid"))
    waiting = kernel.client.execute("await lab.run([call('slow', seconds=20), final('x')])")
    time.sleep(1.5)
    os.kill(server, signal.SIGKILL)
    start = time.monotonic()
    error = None
    while error is None and time.monotonic() - start < 10:
        msg = kernel.client.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") == waiting and msg["msg_type"] == "error":
            error = msg["content"]
    assert error is not None and error["ename"] == "LabError", error
    assert time.monotonic() - start < 3


def test_a_polite_shutdown_is_quick_and_leaves_nothing(tmp_path):
    k = Kernel(tmp_path)
    k.run(SETUP + "fast = await Lab.start('time-skipping', replace_current=False, sandbox_root='.sandbox')")
    k.run("await lab.run([call('word_count', text='a b'), final('ok')])")
    kernel_pid = k.manager.provisioner.process.pid  # type: ignore[union-attr]
    left = psutil.Process(kernel_pid).children(recursive=True)
    servers = [int(k.value("lab.server.pid")), int(k.value("fast.server.pid"))]
    seconds = k.shutdown(now=False)
    assert seconds < 3.5, f"a polite shutdown took {seconds:.1f} s"
    assert not alive(left, grace=3) and not alive([p for p in left if p.pid in servers], grace=0)


async def test_two_labs_started_at_once_in_one_process_keep_their_own_servers(tmp_path, capfd):
    one, two = await asyncio.gather(
        Lab.start(ui=False, replace_current=False, sandbox_root=tmp_path / "one"),
        Lab.start(ui=False, replace_current=False, sandbox_root=tmp_path / "two"),
    )
    try:
        assert one.server.pid != two.server.pid
        await one.stop()
        assert not psutil.pid_exists(one.server.pid) and two.server.alive()
        assert (await two.run([final("still")])).output == "still"
        print("to the notebook")
        assert "to the notebook" in capfd.readouterr().out  # stdout was never left pointing at a log
    finally:
        await one.stop()
        await two.stop()


async def test_each_lab_keeps_its_own_log(lab, tmp_path):
    def failures() -> int:
        return (lab.sandbox_root / WORKER_LOG).read_text().count("transient failure on attempt 1")

    before = failures()
    other = await Lab.start("time-skipping", replace_current=False, sandbox_root=tmp_path)
    try:
        await lab.run([call("flaky", fail_times=1), final("ok")])
        assert failures() == before + 1, "the first lab's worker log moved to the second lab"
    finally:
        await other.stop()
    await lab.run([call("flaky", fail_times=1), final("ok")])
    assert failures() == before + 2, "stopping the second lab took the first lab's log away"


async def test_a_bad_folder_or_database_is_told_before_the_current_lab_stops(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is no database" * 100)
    cases = {
        "cannot be used": {"sandbox_root": blocker / "sub"},
        "is a folder": {"db": tmp_path},
        "does not exist": {"db": tmp_path / "missing" / "lab.db"},
        "is not a Temporal database": {"db": corrupt},
    }
    current = await Lab.start("time-skipping", sandbox_root=tmp_path / "sb")
    try:
        for said, options in cases.items():
            with pytest.raises(LabError, match=said):
                await Lab.start(ui=False, **options)
            assert Lab.current is current and current.server.alive()
    finally:
        await current.stop()


def test_labs_starting_at_once_in_one_folder_can_all_write_there(tmp_path):
    """Each lab checks that its sandbox folder is writable; four `durable-agents demo` commands started at
    once in one folder removed each other's probe file, and one was told it could not write there."""
    from concurrent.futures import ThreadPoolExecutor

    from durable_agents.lab.startup import _sandbox

    def check(_: int) -> Path:
        return _sandbox(tmp_path / "shared")

    with ThreadPoolExecutor(8) as pool:
        folders = set(pool.map(check, range(4000)))
    assert folders == {(tmp_path / "shared").resolve()}
    assert not list((tmp_path / "shared").iterdir()), "no probe file is left behind"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"timeout": math.inf}, "positive number of seconds"),
        ({"prompt": None}, "give the run's task as text"),
        ({"prompt": 5}, "give the run's task as text"),
        ({"prompt": "\ud800"}, "cannot be sent to Temporal"),
        ({"prompt": "x" * 3_000_000}, "The prompt is 2.9 MB"),
        ({"model": ""}, "name a live model"),
        ({"tool_retry": 5}, "Did you mean tool_retries="),
    ],
)
async def test_a_runs_bad_options_are_told_before_it_starts(lab, options, said):
    start = time.monotonic()
    script = options.pop("script", [final("x")]) if "model" not in options else None
    with pytest.raises(LabError, match=re.escape(said)):
        await lab.run(script, **options)
    assert time.monotonic() - start < 1


async def test_existing_with_nothing_configured_looks_where_the_temporal_cli_looks(monkeypatch, tmp_path):
    from durable_agents.lab import servers

    for name in [n for n in os.environ if n.startswith("TEMPORAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "none.toml"))
    try:
        server = await servers.connect_existing()
    except LabError as exc:
        assert "localhost:7233" in str(exc) and "\n" not in str(exc)
    else:
        assert server.address == "localhost:7233"


async def test_a_run_survives_its_server_dying_when_the_lab_keeps_a_database(tmp_path):
    from durable_agents.lab import WorkerPool
    from durable_agents.lessons import server_crash
    from durable_agents.lessons.durability import tool_in_flight

    db, sandbox = tmp_path / "lab.db", tmp_path / "sb"
    lab = await Lab.start(ui=False, in_process_worker=False, db=db, sandbox_root=sandbox, replace_current=False)
    pool = await WorkerPool.start(lab, 1)
    handle = await lab.start_run([call("slow", seconds=2), final("done")], timeout=120)
    await tool_in_flight(lab, handle.id)
    crash = await server_crash.kill_server(lab, handle.id, pool)
    with pytest.raises(LabError, match="is gone"):
        await lab.follow(handle.id)
    await lab.stop()

    again = await Lab.start(ui=False, in_process_worker=False, db=db, sandbox_root=sandbox, replace_current=False)
    fresh = await WorkerPool.start(again, 1, prefix="fresh")
    try:
        run = await crash.finish(again)
        assert run.output == "done"
        rows = {row["what"]: row["value"] for row in crash.rows()}
        assert rows["events when the server died"] > 5 and rows["events after the restart"] > 0
        assert rows["the tool in flight"] == "attempt 2"  # timed out with the dead worker, retried on the fresh one
        assert {s.worker for s in run.graph().steps if s.label == "slow"} == {"fresh-1"}
    finally:
        await fresh.stop()
        await again.stop()


RESET_ANOTHER = """
import psutil
from pathlib import Path
from durable_agents.lab import cleanup
# reset() as notebook B runs it, reaching only kernel A's processes: other sessions share this environment
of_a = {{p.pid for p in psutil.Process({kernel}).children(recursive=True)}}
everything = cleanup.leftovers
cleanup.leftovers = lambda: [p for p in everything() if p.pid in of_a]
print(await cleanup.reset(Path(".")))
"""


def test_a_reset_from_another_notebook_is_told_to_this_one_at_once(tmp_path):
    a, b = Kernel(tmp_path), Kernel(tmp_path)
    try:
        assert a.run(SETUP).error is None
        assert a.value("(await lab.run([final('before')])).output") == "'before'"
        server = int(a.value("lab.server.pid"))
        reset = b.run(RESET_ANOTHER.format(kernel=a.manager.provisioner.process.pid))  # type: ignore[union-attr]
        assert reset.error is None and f"(pid {server})" in reset.shown, reset.shown

        start = time.monotonic()
        cell = a.run("await lab.run([final('after')])", timeout=30)
        seconds = time.monotonic() - start

        assert cell.error is not None and cell.error[0] == "LabError", cell.shown
        assert "stopped by reset()" in cell.error[1] and "Re-run the set-up cell" in cell.error[1], cell.error
        assert seconds < 5, f"the lab call took {seconds:.1f} s to fail"
        assert cell.shown.count("Error: ") == 1 and "temporalio" not in cell.shown, cell.shown  # one error, no SDK's
        later = a.run("print('still here')")
        assert later.shown.strip() == "still here", later.shown  # nothing else surfaces later
        assert a.run(SETUP).error is None  # the set-up cell mends it
        assert a.value("(await lab.run([final('back')])).output") == "'back'"
    finally:
        a.shutdown(now=True)
        b.shutdown(now=True)


def set_up_cell(notebook: str) -> str:
    """The code of a notebook's set-up cell: its first code cell that starts a lab."""
    cells = json.loads((Path(__file__).parents[1] / "notebooks" / notebook).read_text())["cells"]
    return next(src for c in cells if c["cell_type"] == "code" and "Lab.start(" in (src := "".join(c["source"])))


def servers_of(kernel: psutil.Process) -> list[psutil.Process]:
    """The Temporal servers a kernel started that still run (a zombie counts as gone)."""
    children = [p for p in kernel.children(recursive=True) if p.name().startswith("temporal")]
    return alive(children, grace=0)


def test_running_05s_set_up_cell_again_leaves_one_server_per_lab(tmp_path):
    k = Kernel(tmp_path)
    try:
        kernel = psutil.Process(k.manager.provisioner.process.pid)  # type: ignore[union-attr]
        cell, counts, first = set_up_cell("05_failures.ipynb"), [], set()
        for _ in range(3):
            ran = k.run(cell)
            assert ran.error is None, ran.shown
            counts.append(len(servers_of(kernel)))
            first = first or {p.pid for p in servers_of(kernel)}
        assert counts == [3, 3, 3], f"servers after each run of the set-up cell: {counts}"
        assert not first & {p.pid for p in servers_of(kernel)}, "the first run's servers are still up"
        assert k.value("(await fast.run([final('fast')])).output") == "'fast'"
        assert k.value("print(lab, fast, strict)").count("running") == 3
    finally:
        k.shutdown(now=True)
