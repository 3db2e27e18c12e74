"""The exercise checks fail the starter scripts with a useful hint and pass the solutions."""

from __future__ import annotations

from durable_agents.lessons.exercises import check_ptc, check_spawn, check_tools, check_wrapping
from durable_agents.script import call, final, parallel


async def test_wrapping_check(lab):
    starter = check_wrapping(await lab.run([call("write_file", path="plan.txt", content="one"), final("done")]))
    assert not starter.passed
    assert any("1 line(s)" in h for h in starter.hints)
    assert any("read plan.txt back" in h for h in starter.hints)
    solution = [
        call("write_file", path="plan.txt", content="a\nb\nc"),
        call("read_file", path="plan.txt"),
        final("a"),
    ]
    assert check_wrapping(await lab.run(solution)).passed


async def test_tools_check(lab):
    starter = check_tools(await lab.run([call("flaky", fail_times=0), final("done")]))
    assert not starter.passed
    assert any("with fail_times=1 it needs 2" in h for h in starter.hints)
    assert any("never told a word count" in h for h in starter.hints)
    wrong_count = [
        parallel(call("flaky", fail_times=1), call("word_count", text="a b")),
        call("write_file", path="count.txt", content="3"),
        final("x"),
    ]
    assert any("write the number word_count returned (2)" in h for h in check_tools(await lab.run(wrong_count)).hints)


async def test_spawn_check(lab):
    from durable_agents.deps import Role
    from durable_agents.script import spawn

    starter = check_spawn(await lab.run([final("A poem was written.")]))
    assert not starter.passed
    assert any("No poet child workflow ran" in h for h in starter.hints)
    no_roster = check_spawn(await lab.run([spawn("poet", "Write poem.txt", [final("done")]), final("x")]))
    assert any("pass roster=" in h for h in no_roster.hints)
    solution = [
        spawn("poet", "Write poem.txt", [call("write_file", path="poem.txt", content="verse"), final("done")]),
        final("A poem was written."),
    ]
    assert check_spawn(await lab.run(solution, roster={"poet": Role("demo", "Rhyme.")})).passed


async def test_ptc_check(lab):
    from durable_agents.script import code

    sequential = "total = 0\nfor n in range(1, 7):\n    await write_file(path=f'squares/{n}.txt', content=str(n * n))\n"
    starter = check_ptc(await lab.run([code(sequential + "    total += n * n\ntotal"), final("done")], agent="ptc"))
    assert not starter.passed
    assert any("write only squares/2.txt" in h for h in starter.hints)
    assert any("asyncio.gather" in h for h in starter.hints)
    solution = (
        "import asyncio\nevens = [n for n in range(1, 7) if n % 2 == 0]\n"
        "await asyncio.gather(*[write_file(path=f'squares/{n}.txt', content=str(n * n)) for n in evens])\n"
        "sum(n * n for n in evens)"
    )
    assert check_ptc(await lab.run([code(solution), final("56")], agent="ptc")).passed


async def test_prediction_check(lab):
    from durable_agents.lessons.exercises import check_prediction

    run = await lab.run([call("flaky", fail_times=1), final("ok")])
    wrong = check_prediction(["model", "flaky", "model"], run)
    assert any("Step 1: you predicted 'flaky', the history says 'flaky ×2'" in h for h in wrong.hints)
    assert check_prediction(["model", "flaky ×2", "model"], run).passed
    assert any("you predicted 2 steps" in h.lower() for h in check_prediction(["model", "flaky ×2"], run).hints)


def recorded_run(folder: str):
    """A `Run` rebuilt from histories recorded by `tests/data/record_durability.py`."""
    from durable_agents.history.store import load_histories
    from durable_agents.lab import Run
    from tests.conftest import DATA

    histories = load_histories(DATA.parent / "durability" / folder)
    [workflow_id] = [wid for wid in histories if "." not in wid]
    return Run(workflow_id, None, DATA, histories)


def test_crash_prediction_check():
    from durable_agents.lessons.exercises import check_crash_prediction

    run = recorded_run("crash")
    naive = check_crash_prediction(["model request", "write_file", "slow"], run)
    assert any("'model request' did not run again" in h for h in naive.hints)
    assert any("'write_file' did not run again" in h for h in naive.hints)
    assert any("The workflow code did run again" in h for h in naive.hints)
    forgot_slow = check_crash_prediction(["workflow code"], run)
    assert [h for h in forgot_slow.hints if "'slow' ran again" in h]
    assert any("not steps here" in h for h in check_crash_prediction(["everything"], run).hints)
    assert check_crash_prediction(["workflow code", "slow"], run).passed


async def test_patch_check():
    from temporalio import workflow

    from durable_agents.lessons import versions
    from durable_agents.lessons.exercises import check_patch

    before, after = recorded_run("before").histories, recorded_run("after").histories

    async def unguarded():
        await workflow.sleep(versions.PAUSE)

    async def nothing():
        pass

    async def other_id():
        if workflow.patched("my-change"):
            await workflow.sleep(versions.PAUSE)

    async def guarded():
        if workflow.patched(versions.PACING_PATCH):
            await workflow.sleep(versions.PAUSE)

    starter = await check_patch(unguarded, before, after)
    assert any("A run from before the change does not replay" in h and "start a timer" in h for h in starter.hints)
    nothing_new = await check_patch(nothing, before, after)
    assert any("A new run of the patched version does not replay" in h for h in nothing_new.hints)
    assert any("use that id" in h for h in (await check_patch(other_id, before, after)).hints)
    (await check_patch(guarded, before, after)).assert_passed()
