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


async def test_long_running_check(lab):
    from durable_agents.lessons.exercises import check_long_running
    from durable_agents.lessons.long_running import CLEANUP_SCRIPT, start_long_run

    async def answered(decide) -> object:
        job = await start_long_run(lab, CLEANUP_SCRIPT)
        for pending in await job.wait_pending():
            await job.answer(decide(pending))
        return await job.result()

    from durable_agents.workflows import Answer

    starter = check_long_running(await answered(lambda p: Answer(p.call_id, approve=True)))
    assert not starter.passed
    assert any("notes.txt was deleted" in h for h in starter.hints)
    no_reason = check_long_running(await answered(lambda p: Answer(p.call_id, approve="notes" not in p.args["path"])))
    assert any("pass reason=" in h for h in no_reason.hints)
    solution = check_long_running(
        await answered(lambda p: Answer(p.call_id, approve="notes" not in p.args["path"], reason="keep the notes"))
    )
    assert solution.passed, solution.hints
