"""The exercise checks fail the starter scripts with a useful hint and pass the solutions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from durable_agents.history.store import save_histories
from durable_agents.lab import Lab, WorkerPool
from durable_agents.lessons.measure import check_wrapping
from durable_agents.lessons.ptc_measure import check_ptc
from durable_agents.lessons.subagent_modes import check_spawn
from durable_agents.lessons.tools_as_activities import check_tools
from durable_agents.script import call, final, parallel


async def test_reading_check(lab):
    """00: counts typed as numbers or as text, the tool as typed; wrong counts say which way to look."""
    from durable_agents.lessons.orientation import check_reading

    run = await lab.run(
        [
            call("write_file", path="a.txt", content="x"),
            parallel(call("read_file", path="a.txt"), call("list_files")),
            final("ok"),
        ]
    )
    starter = check_reading(run, activities=0, model_requests=0, first_tool="?")
    assert any("You counted 0 activities: too few" in h for h in starter.hints)
    assert any("replace '?'" in h for h in starter.hints)
    wrong = check_reading(run, activities=7, model_requests=3, first_tool="read_file")
    assert any("You counted 7 activities: too many" in h for h in wrong.hints)
    assert any("The first tool was not 'read_file'" in h and "tool* column (event" in h for h in wrong.hints)
    assert len(wrong.hints) == 2
    check_reading(run, activities=6, model_requests=3, first_tool="write_file").assert_passed()
    check_reading(run, activities="6", model_requests=" 3 ", first_tool=" Write_File ").assert_passed()
    assert any(
        "'six' is not a number" in h
        for h in check_reading(run, activities="six", model_requests=3, first_tool="write_file").hints
    )


async def test_wrapping_check(lab):
    starter = check_wrapping(await lab.run([call("write_file", path="plan.txt", content="one"), final("done")]))
    assert not starter.passed
    assert any("1 line(s)" in h for h in starter.hints)
    assert any("were 'write_file': read plan.txt back" in h for h in starter.hints)
    read_first = [
        call("read_file", path="plan.txt"),
        call("write_file", path="plan.txt", content="a\nb\nc"),
        final("a"),
    ]
    assert any("read plan.txt back" in h for h in check_wrapping(await lab.run(read_first, tool_retries=3)).hints)
    solution = [
        call("write_file", path="plan.txt", content="a\nb\nc"),
        call("read_file", path="plan.txt"),
        final("a"),
    ]
    assert check_wrapping(await lab.run(solution)).passed
    # Written differently: the plan as a list joined, a parallel list_files beside the read.
    other = [
        call("write_file", path="plan.txt", content="\n".join(["wake", "read", "wrap"])),
        parallel(call("read_file", path="plan.txt"), call("list_files")),
        final("wake"),
    ]
    check_wrapping(await lab.run(other)).assert_passed()


async def test_tools_check(lab):
    starter = check_tools(await lab.run([call("word_count", text="replace me"), final("done")]))
    assert not starter.passed
    assert any("No flaky activity" in h for h in starter.hints)
    wrong_count = [
        parallel(call("flaky", fail_times=1), call("word_count", text="a b")),
        call("write_file", path="count.txt", content="3"),
        final("x"),
    ]
    assert any("write the number word_count returned (2)" in h for h in check_tools(await lab.run(wrong_count)).hints)
    two_turns = [
        call("flaky", fail_times=1),
        call("word_count", text="a b"),
        call("write_file", path="count.txt", content="2"),
        final("x"),
    ]
    hints = check_tools(await lab.run(two_turns)).hints
    assert hints == [
        "The model's turns asked for flaky | word_count | write_file: put flaky and word_count in one turn, "
        "`parallel(call('flaky', ...), call('word_count', ...))`."
    ]
    no_retry = [parallel(call("flaky", fail_times=0), call("word_count", text="a b")), final("x")]
    assert any("flaky took 1 attempt(s)" in h for h in check_tools(await lab.run(no_retry)).hints)
    solution = [
        parallel(call("flaky", fail_times=1), call("word_count", text="one two three four")),
        call("write_file", path="count.txt", content="4"),
        final("done"),
    ]
    check_tools(await lab.run(solution)).assert_passed()
    # Written differently: word_count first in the turn, the count with a newline after it.
    other = [
        parallel(call("word_count", text="durable agents"), call("flaky", fail_times=1)),
        call("write_file", path="count.txt", content="2\n"),
        final("done"),
    ]
    check_tools(await lab.run(other)).assert_passed()


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
    read_only = check_spawn(await lab.run(solution, roster={"poet": Role("reader", "Rhyme.")}, tool_retries=3))
    assert any("The poet was told `Unknown tool name: 'write_file'" in h and "'reader'" in h for h in read_only.hints)
    assert not any("call('write_file'" in h for h in read_only.hints)
    assert check_spawn(await lab.run(solution, roster={"poet": Role("demo", "Rhyme.")})).passed
    # Written differently: the spawn in a parallel turn beside another tool, the poem in several lines.
    poet = [call("write_file", path="poem.txt", content="a line\nof verse"), final("done")]
    other = [parallel(spawn("poet", "Write poem.txt", poet), call("list_files")), final("A poem was written.")]
    other_run = await lab.run(other, roster={"poet": Role("demo", "Verse only.")})
    check_spawn(other_run).assert_passed()


async def test_ptc_check(lab):
    from durable_agents.script import code

    sequential = "total = 0\nfor n in range(1, 7):\n    await write_file(path=f'squares/{n}.txt', content=str(n * n))\n"
    starter = check_ptc(await lab.run([code(sequential + "    total += n * n\ntotal"), final("done")], agent="ptc"))
    assert not starter.passed
    assert any("write only squares/2.txt" in h for h in starter.hints), starter.hints
    assert any("6 writes were scheduled in 6 workflow tasks" in h for h in starter.hints), starter.hints
    assert any("The snippet returned" in h and "91" in h for h in starter.hints), starter.hints
    solution = (
        "import asyncio\nevens = [n for n in range(1, 7) if n % 2 == 0]\n"
        "await asyncio.gather(*[write_file(path=f'squares/{n}.txt', content=str(n * n)) for n in evens])\n"
        "sum(n * n for n in evens)"
    )
    assert check_ptc(await lab.run([code(solution), final("56")], agent="ptc")).passed
    other = (
        "import asyncio\ncalls = []\ntotal = 0\nfor n in range(1, 7):\n    if n % 2:\n        continue\n"
        "    calls.append(write_file(path='squares/' + str(n) + '.txt', content=f'{n ** 2}'))\n    total += n ** 2\n"
        "await asyncio.gather(*calls)\ntotal"
    )
    check_ptc(await lab.run([code(other), final("56")], agent="ptc")).assert_passed()


async def test_a_predicted_shape_is_checked_step_by_step(lab):
    """One checker for every prediction: a run's steps (its shape) as a list or in the arrow notation."""
    from durable_agents.lessons.exercises import check_predictions
    from durable_agents.scenarios import shape

    run = await lab.run([call("flaky", fail_times=1), final("ok")])
    actual = {"the diagram": shape(run.graph())}

    def check(guess):
        return check_predictions("x", {"the diagram": guess}, actual)

    assert check("?").hints == ["the diagram: no guess yet; replace '?' with yours (before looking at the run)."]
    assert check(["model", "flaky", "model"]).hints == [
        "the diagram, step 2: you predicted 'flaky', the history says 'flaky ×2'."
    ]
    assert check(["model", "flaky ×2"]).hints == ["the diagram: you predicted 2 steps, the history has 3."]
    assert not check(["model", "flaky x3", "model"]).passed
    check(["model", "flaky ×2", "model"]).assert_passed()
    check(["Model", "flaky x2", "model"]).assert_passed()
    check("model -> Flaky X2 -> model").assert_passed()
    check(" model → flaky×2 →  model ").assert_passed()


def test_answers_are_read_as_a_person_types_them():
    """One normaliser for every check: numbers as text, the arrow notation, case, spacing."""
    from durable_agents.lessons.exercises import answer, as_steps

    assert {answer(v) for v in (3, "3", " 3.0 ", "about 3", "3 s")} == {"3"}
    assert answer("3") != answer("4") and answer("3") != answer("33")
    shapes = ("model → flaky ×4 → model", "Model -> flaky x4 -> model", ["model", "flaky*4", "MODEL"])
    assert {answer(v) for v in shapes} == {"model → flaky ×4 → model"}
    assert as_steps("model → flaky ×4 → model") == ["model", "flaky ×4", "model"]
    assert answer(" In one  Activity ") == "in one activity" and answer(True) == answer("Yes") == "yes"


def test_predictions_are_read_as_a_person_types_them():
    from durable_agents.lessons.exercises import normalise

    assert {normalise(s) for s in ("flaky ×4", "Flaky x4", "flaky×4", "flaky * 4", " flaky  X 4 ")} == {"flaky ×4"}
    assert normalise("flaky ×3!") == normalise("flaky x3 !") == "flaky ×3 !"
    assert normalise("box2") == "box2"  # a name that ends in a digit is left alone


def test_hints_show_code_not_backticks():
    from durable_agents.lessons.exercises import Check

    check = Check("x", ["use `asyncio.gather(*calls)` <now>"])
    assert "<code>asyncio.gather(*calls)</code>" in check._repr_html_()
    assert "`" not in check._repr_html_() and "&lt;now&gt;" in check._repr_html_()


async def test_migration_check_wants_the_spawns_gathered(farm):
    from durable_agents.lessons.migration import check_migration
    from durable_agents.script import code

    lab, pool = farm
    tasks = {f"part {i}": [call("write_file", path=f"part{i}.txt", content=str(i)), final("done")] for i in range(3)}
    one_by_one = "".join(f'await spawn(agent_name="generic", task="part {i}")\n' for i in range(3))
    wrong = check_migration(await lab.run([code(one_by_one, scripts=tasks), final("done")], agent="ptc"), pool)
    assert not wrong.passed
    assert any("started one after another" in h for h in wrong.hints)
    together = (
        'import asyncio\nawait asyncio.gather(*[spawn(agent_name="generic", task=f"part {i}") for i in range(3)])'
    )
    assert check_migration(await lab.run([code(together, scripts=tasks), final("done")], agent="ptc"), pool).passed


CAPSTONE_SNIPPET = """
import asyncio
findings = await asyncio.gather(
    spawn(agent_name="researcher", task="Research notes/temporal.txt"),
    spawn(agent_name="researcher", task="Research notes/monty.txt"),
    spawn(agent_name="researcher", task="Research notes/celery.txt"),
)
await slow(seconds=2)
await write_file(path="report.md", content="\\n".join(findings))
"""


def capstone_scripts(missing_read: bool = True):
    from durable_agents.lessons.capstone import TOPICS, expected_report

    scripts = {}
    for path, answer in zip(TOPICS, expected_report(), strict=True):
        steps = [call("read_file", path=path), final(answer)]
        scripts[f"Research {path}"] = steps if missing_read or "celery" not in path else [final(answer)]
    return scripts


async def test_capstone_check(farm):
    from durable_agents.lessons import capstone
    from durable_agents.lessons.capstone import check_capstone
    from durable_agents.script import code

    lab, pool = farm
    starter = [capstone.write_notes(), code(CAPSTONE_SNIPPET, scripts=capstone_scripts(False)), final("done")]
    no_crash = check_capstone(capstone.Crash(await lab.run(starter, agent="ptc"), killed=""))
    assert not no_crash.passed
    assert any("no worker died during it" in h for h in no_crash.hints)
    assert any("notes/celery.txt should try" in h for h in no_crash.hints)
    solution = [capstone.write_notes(), code(CAPSTONE_SNIPPET, scripts=capstone_scripts()), final("done")]
    crash = await capstone.run_with_crash(lab, pool, solution)
    check_capstone(crash).assert_passed()
    assert crash.killed and crash.killed not in pool.identities  # it really died; a spare took its place
    assert len(pool.identities) == 2
    from durable_agents.lessons.migration import crash_cost

    assert crash_cost(crash.run) == {
        "attempts slow takes": 2,
        "model requests that run twice": 0,
        "other tool calls that run twice": 0,
    }


def test_prediction_moments_compare_each_guess():
    from durable_agents.lessons.exercises import check_predictions

    actual = {"largest parent history": "inline", "attempts slow takes": 2}
    assert check_predictions("x", {"largest parent history": " Inline", "attempts slow takes": "2"}, actual).passed
    assert check_predictions("x", {"largest parent history": "inline.", "attempts slow takes": "2.0"}, actual).passed
    assert check_predictions("x", {"largest parent history": "INLINE", "attempts slow takes": 2}, actual).passed
    starter = check_predictions("x", {"largest parent history": "?", "attempts slow takes": "?"}, actual)
    assert len(starter.hints) == 2 and all("no guess yet" in h for h in starter.hints)
    wrong = check_predictions("x", {"largest parent history": "child workflow", "attempts slow takes": 1}, actual)
    assert wrong.hints == [
        "largest parent history: you guessed 'child workflow', the history says 'inline'.",
        "attempts slow takes: you guessed 1, the history says 2.",
    ]


def recorded_run(folder: str):
    """A `Run` rebuilt from histories recorded by `tests/data/record_durability.py`."""
    from durable_agents.history.store import load_histories
    from durable_agents.lab import Run
    from tests.conftest import DATA

    histories = load_histories(DATA.parent / "durability" / folder)
    [workflow_id] = [wid for wid in histories if "." not in wid]
    return Run(workflow_id, None, DATA, histories)


def test_crash_prediction_check():
    from durable_agents.lessons.durability import check_crash_prediction

    run = recorded_run("crash")
    naive = check_crash_prediction(["model request", "write_file", "slow"], run)
    assert any("'model request' did not run again" in h for h in naive.hints)
    assert any("'write_file' did not run again" in h for h in naive.hints)
    assert any("The workflow code did run again" in h for h in naive.hints)
    forgot_slow = check_crash_prediction(["workflow code"], run)
    assert [h for h in forgot_slow.hints if "'slow' ran again" in h]
    assert any("not steps here" in h for h in check_crash_prediction(["everything"], run).hints)
    starter = check_crash_prediction([], run)
    assert any("The workflow code did run again" in h for h in starter.hints)
    assert any("'slow' ran again" in h for h in starter.hints)
    assert check_crash_prediction(["workflow code", "slow"], run).passed
    assert check_crash_prediction(["Slow", " Workflow  code"], run).passed
    assert check_crash_prediction("workflow code, slow", run).passed


async def test_patch_check():
    from temporalio import workflow

    from durable_agents import versions
    from durable_agents.lessons.durability import check_patch

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


async def test_long_running_check(lab):
    from durable_agents.lessons.long_running import CLEANUP_SCRIPT, check_long_running

    async def answered(decide) -> object:
        job = await lab.start_long_run(CLEANUP_SCRIPT)
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


def replay_in_a_process(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Replay the histories in `folder` in a new Python process with `env` added to its environment."""
    program = (
        "import asyncio, sys\n"
        "from durable_agents.history.replay import replay\n"
        "from durable_agents.history.store import load_histories\n"
        "from durable_agents.lab.exit import exit_now\n"
        "exit_now(lambda: print(asyncio.run(replay(load_histories(sys.argv[1])))))\n"
    )  # exit_now: see durable_agents.lab.exit (1 replay in ~6 aborted as the interpreter finalized)
    return subprocess.run(
        [sys.executable, "-c", program, str(folder)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def notebook_cell(notebook: str, starts: str) -> str:
    """The source of the first cell of `notebook` that starts with `starts`."""
    import nbformat

    from tests.conftest import NOTEBOOKS

    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    return next(c.source for c in cells if c.source.startswith(starts))


RATES_ANOTHER_WAY = """
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents import errors


class Busy(errors.ToolRetryableError):
    pass


async def fetch_rate(ctx: RunContext, currency: str) -> str:
    rate = {"USD": 1.08}.get(currency)
    if rate is None:
        raise errors.ToolExecutionError(f"{currency} is not a currency we know")
    if activity.info().attempt < 2:
        raise Busy("busy, try later")
    return str(rate)


@dataclass
class Rates(AbstractCapability):
    toolset_id: str = "fx"
    activity_config: ActivityConfig = field(default_factory=lambda: ActivityConfig(
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.1), backoff_coefficient=1.0, maximum_attempts=3),
    ))

    @one_toolset
    def get_toolset(self):
        return FunctionToolset([fetch_rate], id=self.toolset_id)


CAPABILITY = Rates()
"""


async def test_your_tool_check_runs_the_readers_file_in_a_worker_process(tmp_path):
    """05's second exercise: the starter's file fails the check with a hint per mistake, the solution file passes."""
    from durable_agents.capabilities.yours import YOUR_TOOLS_ENV
    from durable_agents.lab.workers import WorkerStartError
    from durable_agents.lessons.fault_matrix import check_your_tool
    from tests.conftest import NOTEBOOKS

    starter = tmp_path / "my_rates.py"
    starter.write_text(notebook_cell("05_failures.ipynb", "%%writefile").split("\n", 1)[1])
    broken = tmp_path / "broken.py"
    broken.write_text("RATES = {}\n")
    script = [call("fetch_rate", currency="USD"), call("fetch_rate", currency="XYZ"), final("done")]
    async with await reader_lab(tmp_path) as lab:
        checks, runs = {}, {}
        another = tmp_path / "rates_another_way.py"
        another.write_text(RATES_ANOTHER_WAY)
        for name, path in [("starter", starter), ("solution", NOTEBOOKS / "solutions" / "my_rates.py"),
                           ("another", another)]:  # fmt: skip
            pool = await WorkerPool.start(lab, 1, env={YOUR_TOOLS_ENV: str(path)})
            try:
                runs[name] = await lab.run(script, agent="yours", check=False)
                checks[name] = check_your_tool(runs[name])
            finally:
                await pool.stop()
        with pytest.raises(WorkerStartError, match="must end with `CAPABILITY = YourCapability"):
            await WorkerPool.start(lab, 1, env={YOUR_TOOLS_ENV: str(broken)})
    assert checks["solution"].passed, checks["solution"].hints
    assert checks["another"].passed, checks["another"].hints
    # The run replays where the reader's file is loaded, and only there: the tool is part of the agent.
    save_histories(runs["solution"].histories, tmp_path / "histories")
    replays = {
        loaded: replay_in_a_process(tmp_path / "histories", {YOUR_TOOLS_ENV: str(path)} if loaded else {})
        for loaded, path in [(True, NOTEBOOKS / "solutions" / "my_rates.py"), (False, None)]
    }
    assert replays[True].returncode == 0, replays[True].stderr[-2000:]
    assert replays[False].returncode != 0 and "NondeterminismError" in replays[False].stderr
    hints = " ".join(checks["starter"].hints)
    assert "allows 1 attempt, no retry" in hints
    assert "fetch_rate('USD') took 1 attempt(s), then the model was told it failed" in hints
    assert "fetch_rate('XYZ') took 1 attempt(s), then the activity failed" in hints


WORDS_VARIANTS = {
    # Wrong: the settings on the toolset's activities all right, but shout still an activity.
    "wrong": (
        "from dataclasses import dataclass, field\nfrom datetime import timedelta\n"
        "from pydantic_ai.capabilities import AbstractCapability\nfrom pydantic_ai.toolsets import FunctionToolset\n"
        "from temporalio.common import RetryPolicy\nfrom temporalio.workflow import ActivityConfig\n"
        "async def define(word: str) -> str:\n    return {'durable': 'able to withstand wear'}[word]\n"
        "async def shout(text: str) -> str:\n    return text.upper() + '!'\n"
        "@dataclass\nclass Words(AbstractCapability):\n    toolset_id: str = 'words'\n"
        "    activity_config: ActivityConfig = field(default_factory=lambda: ActivityConfig(\n"
        "        start_to_close_timeout=timedelta(seconds=5), retry_policy=RetryPolicy(maximum_attempts=2)))\n"
        "    def get_toolset(self):\n        return FunctionToolset([define, shout], id=self.toolset_id)\n"
        "CAPABILITY = Words()\n"
    ),
    # Right, written differently: tools registered with the toolset's decorator, settings as a dict.
    "other": (
        "from datetime import timedelta\n"
        "from pydantic_ai.capabilities import AbstractCapability\nfrom pydantic_ai.toolsets import FunctionToolset\n"
        "from temporalio.common import RetryPolicy\n"
        "words = FunctionToolset(id='words')\n"
        "@words.tool_plain(metadata={'temporal': {'start_to_close_timeout': timedelta(seconds=5),\n"
        "                                         'retry_policy': RetryPolicy(maximum_attempts=2)}})\n"
        "async def define(word: str) -> str:\n    return 'able to withstand wear' if word == 'durable' else '?'\n"
        "@words.tool_plain(metadata={'temporal': False})\n"
        "async def shout(text: str) -> str:\n    return f'{text.upper()}!'\n"
        "class Words(AbstractCapability):\n    def get_toolset(self):\n        return words\n"
        "CAPABILITY = Words()\n"
    ),
}


async def test_your_toolset_check_runs_the_readers_file_in_a_worker_process(tmp_path):
    """02's second exercise: the starter and a wrong file fail with hints quoting the history; the solution and a
    differently-written file pass. Each runs in a worker process of its own, on its own task queue."""
    from durable_agents.lessons.tools_as_activities import check_your_toolset
    from durable_agents.lessons.your_code import run_your_code
    from tests.conftest import NOTEBOOKS

    files = {"starter": tmp_path / "starter.py", "solution": NOTEBOOKS / "solutions" / "my_words.py"}
    files["starter"].write_text(notebook_cell("02_tools_as_activities.ipynb", "%%writefile").split("\n", 1)[1])
    variants = {**WORDS_VARIANTS, "sync": WORDS_VARIANTS["other"].replace("async def shout", "def shout")}
    for name, source in variants.items():
        files[name] = tmp_path / f"{name}.py"
        files[name].write_text(source)
    script = [parallel(call("define", word="durable"), call("shout", text="durable")), final("done")]
    async with await reader_lab(tmp_path) as lab:
        checks = {name: check_your_toolset(await run_your_code(lab, path, script)) for name, path in files.items()}
    starter = " ".join(checks["starter"].hints)
    assert "scheduled `define` with start_to_close 30s and max_attempts 3" in starter
    assert "scheduled `shout` as an activity (agent__yours__toolset__words__call_tool)" in starter
    assert checks["wrong"].hints and all("`shout`" in h for h in checks["wrong"].hints)
    assert any("The run failed" in h and "Make the tool function async" in h for h in checks["sync"].hints)
    checks["solution"].assert_passed()
    checks["other"].assert_passed()


SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"


def written(folder: Path, name: str, source: str) -> Path:
    """`source` (a `%%writefile` cell's, or a file's) written to `folder/name`."""
    path = folder / name
    path.write_text(source.split("\n", 1)[1] if source.startswith("%%writefile") else source)
    return path


def reader_lab(tmp_path: Path):
    """A time-skipping lab with no worker of its own: the worker processes that load the reader's file do the work."""
    return Lab.start("time-skipping", sandbox_root=tmp_path / "sandbox", replace_current=False, in_process_worker=False)


async def judge_each(tmp_path: Path, notebook: str, other: str, solution: str, cases: dict, judge) -> dict:
    """A reader's-file exercise judged case by case in one lab: the notebook's starter file (`"starter"`),
    the solution's file (`"solution"`) and a right one written differently (`"other"`, its source). Each
    case is `(file, *how)`, judged by `await judge(lab, path, *how)`."""
    files = {
        "starter": written(tmp_path, "starter.py", notebook_cell(notebook, "%%writefile")),
        "solution": SOLUTIONS / solution,
        "other": written(tmp_path, "other.py", other),
    }
    async with await reader_lab(tmp_path) as lab:
        return {name: await judge(lab, files[file], *how) for name, (file, *how) in cases.items()}


POET_OTHER = """
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

verse = FunctionToolset(id="verse")


@verse.tool_plain
async def rhyme(word: str) -> str:
    return {"flow": "go, slow"}.get(word, "")


class Poet(AbstractCapability):
    def get_instructions(self):
        return ["Write only Rhyming Couplets.", "Keep them short."]

    def get_toolset(self):
        return verse


CAPABILITY = Poet()
"""


async def test_your_subagent_check_reads_the_childs_history(tmp_path):
    """03's second exercise: the starter, the right file with the wrong agent, the solution, another right file."""
    from durable_agents.deps import Role
    from durable_agents.lessons.subagent_modes import check_your_subagent
    from durable_agents.lessons.your_code import run_your_code
    from durable_agents.script import spawn

    poet = [call("rhyme", word="flow"), call("write_file", path="poem.txt", content="slow\nknow"), final("done")]
    script = [spawn("poet", "Write poem.txt", poet), final("A poem was written.")]

    async def judge(lab, path, agent):
        roster = {"poet": Role(agent, "Write the poem you are asked for.")} if agent else None
        return check_your_subagent(await run_your_code(lab, path, script, roster=roster, tool_retries=3))

    cases = {"starter": ("starter", "demo"), "wrong": ("solution", "demo"), "solution": ("solution", "yours"),
             "other": ("other", "yours"), "no roster": ("solution", None)}  # fmt: skip
    checks = await judge_each(tmp_path, "03_spawn.ipynb", POET_OTHER, "my_poet.py", cases, judge)
    starter_hints = " ".join(checks["starter"].hints)
    assert "The poet ran the `demo` agent" in starter_hints
    assert "The poet was told `Unknown tool name: 'rhyme'" in starter_hints
    assert "none says it writes rhyming couplets" in starter_hints
    assert [h for h in checks["wrong"].hints if "Role('yours', ...)" in h]
    assert checks["no roster"].hints == [
        "The parent was told `No subagent 'poet'. The roster has: generic, researcher.`: add 'poet' to the roster."
    ]
    checks["solution"].assert_passed()
    checks["other"].assert_passed()


PRICES_OTHER = """
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

shop = FunctionToolset(id="shop")


@shop.tool_plain
async def price(item: str) -> float:
    return round({"apple": 0.5, "bread": 2.25, "cheese": 4.75}[item], 2)


class Shop(AbstractCapability):
    def get_toolset(self):
        return shop


CAPABILITY = Shop()
"""


async def test_your_code_tool_check_reads_the_snippets_calls(tmp_path):
    """04's second exercise: the starter (text, one by one), numbers one by one, the solution, another right answer."""
    from durable_agents.lessons.ptc_measure import check_your_code_tool
    from durable_agents.lessons.your_code import run_your_code
    from durable_agents.script import code

    one_by_one = "total = 0\nfor item in ['apple', 'bread', 'cheese']:\n    total += await price(item=item)\ntotal"
    gathered = "import asyncio\nsum(await asyncio.gather(*[price(item=i) for i in ['apple', 'bread', 'cheese']]))"
    unpacked = (
        "import asyncio\n"
        "a, b, c = await asyncio.gather(price(item='apple'), price(item='bread'), price(item='cheese'))\na + b + c"
    )

    async def judge(lab, path, snippet):
        return check_your_code_tool(await run_your_code(lab, path, [code(snippet), final("7.5")], agent="yours_ptc"))

    cases = {"starter": ("starter", one_by_one), "wrong": ("solution", one_by_one), "solution": ("solution", gathered),
             "other": ("other", unpacked)}  # fmt: skip
    checks = await judge_each(tmp_path, "04_ptc.ipynb", PRICES_OTHER, "my_prices.py", cases, judge)
    assert (
        checks["starter"].hints[0].startswith("No `price` call ran: the snippet was told `error[unsupported-operator]")
    )
    assert checks["wrong"].hints == [
        "The 3 `price` calls were scheduled in 3 workflow tasks, one after another: `await asyncio.gather(...)` them "
        "so they run together."
    ]
    checks["solution"].assert_passed()
    checks["other"].assert_passed()


# --- Code the reader writes, run by worker processes: the starter, a wrong answer, the solution, and a
# right answer written differently, each judged from the history ------------------------------------


async def test_retry_policy_check_wants_a_policy_that_succeeds(tmp_path):
    """05's first exercise: a prediction that matches a failing policy does not pass; the arrow notation does."""
    from durable_agents.capabilities.faults import ATTEMPTS_ENV
    from durable_agents.lessons.fault_matrix import check_retry_policy

    runs = {}
    async with await Lab.start(
        "time-skipping", sandbox_root=tmp_path, replace_current=False, in_process_worker=False
    ) as lab:
        for attempts in (3, 4):
            pool = await WorkerPool.start(lab, 1, env={ATTEMPTS_ENV: str(attempts)})
            try:
                runs[attempts] = await lab.run([call("flaky", fail_times=3), final("done")], check=False)
            finally:
                await pool.stop()
    starter = check_retry_policy(["model", "flaky x3", "model"], runs[3])
    assert any("you predicted 'flaky x3', the history says 'flaky ×3 !'" in h for h in starter.hints)
    predicted_the_failure = check_retry_policy("model → flaky ×3 !", runs[3])
    assert [h for h in predicted_the_failure.hints if "failed for good" in h and "at least 4" in h]
    assert len(predicted_the_failure.hints) == 1, "the prediction itself was right"
    assert check_retry_policy(["model", "flaky ×4", "model"], runs[4]).passed
    assert check_retry_policy("Model -> flaky x4 -> model", runs[4]).passed
    assert not check_retry_policy("model → flaky ×4", runs[4]).passed


WORKER_ANOTHER_WAY = """
import asyncio
import sys

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker

from durable_agents.workflows import DemoAgentWorkflow, LongRunWorkflow

address, queue, name = sys.argv[1], sys.argv[2], sys.argv[3]


async def serve():
    client = await Client.connect(address, namespace="default", plugins=[PydanticAIPlugin()])
    async with Worker(client, task_queue=queue, workflows=[DemoAgentWorkflow, LongRunWorkflow], identity=name):
        await asyncio.Event().wait()


asyncio.run(serve())
"""


async def test_your_worker_check(tmp_path):
    """06's second exercise: two processes of the reader's worker program, one killed mid-tool."""
    from durable_agents.lessons.migration import check_your_worker

    starter = written(tmp_path, "starter.py", notebook_cell("06_migration.ipynb", "%%writefile .sandbox/my_worker"))
    solution = (SOLUTIONS / "my_worker.py").read_text()
    nameless = written(tmp_path, "nameless.py", solution.replace(", identity=identity", ""))
    another = written(tmp_path, "another.py", WORKER_ANOTHER_WAY)
    async with await Lab.start(
        "dev", ui=False, sandbox_root=tmp_path / "sandbox", replace_current=False, in_process_worker=False
    ) as lab:
        checks = {
            name: await check_your_worker(lab, path)
            for name, path in [("starter", starter), ("nameless", nameless), ("solution", SOLUTIONS / "my_worker.py"),
                               ("another", another)]
        }  # fmt: skip
    assert any("'ellipsis'" in h and "Fill in each `...`" in h for h in checks["starter"].hints)
    assert any("it polls as" in h and "identity=" in h for h in checks["nameless"].hints)
    assert checks["solution"].passed, checks["solution"].hints
    assert checks["another"].passed, checks["another"].hints


PAY_EVERY_CALL_ASKS = """
from dataclasses import dataclass

from pydantic_ai import Tool
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset


async def pay(invoice: str, amount: float) -> str:
    return f"paid {invoice}: {amount} EUR"


@dataclass
class Payments(AbstractCapability):
    toolset_id: str = "payments"

    @one_toolset
    def get_toolset(self):
        return FunctionToolset([Tool(pay, requires_approval=True)], id=self.toolset_id)


CAPABILITY = Payments()
"""

PAY_ANOTHER_WAY = '''
from dataclasses import dataclass

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import ApprovalRequired
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset


def needs_a_person(ctx: RunContext, amount: float) -> bool:
    return not ctx.tool_call_approved and amount >= 1000.01


@dataclass
class Treasury(AbstractCapability):
    toolset_id: str = "treasury"

    @one_toolset
    def get_toolset(self):
        toolset = FunctionToolset(id=self.toolset_id)

        @toolset.tool
        async def pay(ctx: RunContext, invoice: str, amount: float) -> str:
            """Pay an invoice."""
            if needs_a_person(ctx, amount):
                raise ApprovalRequired(metadata={"reason": "large payment"})
            return "paid " + invoice

        return toolset


CAPABILITY = Treasury()
'''


async def test_your_approval_check(tmp_path):
    """08's second exercise: the reader's `pay` asks a person only above 1,000 EUR, read from the history."""
    from durable_agents.capabilities.yours import YOUR_TOOLS_ENV
    from durable_agents.lessons.long_running import PAY_SCRIPT, YOUR_LONG_QUEUE, approve_every_ask, check_your_approval

    files = {
        "starter": written(
            tmp_path, "starter.py", notebook_cell("08_long_running.ipynb", "%%writefile .sandbox/my_pay")
        ),
        "every call asks": written(tmp_path, "every.py", PAY_EVERY_CALL_ASKS),
        "solution": SOLUTIONS / "my_pay.py",
        "another": written(tmp_path, "another.py", PAY_ANOTHER_WAY),
        "approval ignored": written(
            tmp_path, "ignored.py", (SOLUTIONS / "my_pay.py").read_text().replace(" and not ctx.tool_call_approved", "")
        ),
    }
    checks = {}
    async with await Lab.start("dev", ui=False, sandbox_root=tmp_path / "sandbox", replace_current=False) as lab:
        for name, path in files.items():
            pool = await WorkerPool.start(lab, 1, task_queue=YOUR_LONG_QUEUE, env={YOUR_TOOLS_ENV: str(path)})
            try:
                job = await lab.start_long_run(PAY_SCRIPT, agent="long_yours", task_queue=YOUR_LONG_QUEUE)
                checks[name] = check_your_approval(await approve_every_ask(job))
            finally:
                await pool.stop()
    assert any("never waited for a person" in h for h in checks["starter"].hints)
    assert any("The 120 EUR payment waited for a person" in h for h in checks["every call asks"].hints)
    print(checks["approval ignored"].hints)
    assert any("tool_call_approved" in h for h in checks["approval ignored"].hints)
    assert checks["solution"].passed, checks["solution"].hints
    assert checks["another"].passed, checks["another"].hints


AGENT_ANOTHER_WAY = '''
"""The same, written otherwise: a decorated tool, a dataclass input, another name everywhere."""
import asyncio
from dataclasses import dataclass
from datetime import timedelta

from pydantic_ai import Agent
from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalDurability
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import FunctionModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig


def think(messages, info):
    last = messages[-1].parts[-1]
    if last.part_kind == "tool-return":
        return ModelResponse(parts=[TextPart(str(last.content).upper())])
    return ModelResponse(parts=[ToolCallPart("dig", {"subject": "replay"})])


researcher = Agent(
    FunctionModel(think),
    name="digger",
    capabilities=[TemporalDurability(activity_config=ActivityConfig(
        start_to_close_timeout=timedelta(seconds=20), heartbeat_timeout=timedelta(milliseconds=800),
        retry_policy=RetryPolicy(maximum_attempts=5)))],
)


@researcher.tool_plain
async def dig(subject: str) -> str:
    """Dig into `subject`."""
    for _ in range(25):
        await asyncio.sleep(0.1)
    return f"{subject}: found"


@dataclass
class Ask:
    question: str


@workflow.defn(name="Digging")
class DiggingWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [researcher]

    @workflow.run
    async def run(self, ask: Ask) -> str:
        return (await researcher.run(ask.question)).output
'''

AGENT_WORKER_ANOTHER_WAY = """
import asyncio
import sys

from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker

import digger


async def main():
    client = await Client.connect(sys.argv[1], plugins=[PydanticAIPlugin()])
    await Worker(client, task_queue=sys.argv[2], workflows=[digger.DiggingWorkflow], identity=sys.argv[3]).run()


asyncio.run(main())
"""


async def test_your_agent_check(tmp_path):
    """09's second exercise: the reader's own agent module, worker program and crash drive, from blank files."""
    from durable_agents.lessons import durability
    from durable_agents.lessons.capstone import check_your_agent

    async def drive(lab, workers, task_queue, kill=True, workflow="MyWorkflow", arg="Research Temporal"):
        handle = await lab.client.start_workflow(workflow, arg, id=lab.new_workflow_id("mine"), task_queue=task_queue)
        holder = await durability.tool_in_flight(lab, handle.id, toolset=None)
        if kill:
            workers.kill(holder)
        return handle.id

    async def no_kill(lab, workers, task_queue):
        return await drive(lab, workers, task_queue, kill=False)

    async def another_drive(lab, workers, task_queue):
        return await drive(lab, workers, task_queue, workflow="Digging", arg={"question": "why replay?"})

    starter_agent = written(
        tmp_path, "my_agent.py", notebook_cell("09_capstone.ipynb", "%%writefile .sandbox/my_agent.py")
    )
    starter_worker = written(
        tmp_path, "my_agent_worker.py", notebook_cell("09_capstone.ipynb", "%%writefile .sandbox/my_agent_worker.py")
    )
    other = tmp_path / "other"
    other.mkdir()
    another = (
        written(other, "digger.py", AGENT_ANOTHER_WAY),
        written(other, "run_digger.py", AGENT_WORKER_ANOTHER_WAY),
    )
    solution = (SOLUTIONS / "my_agent.py", SOLUTIONS / "my_agent_worker.py")
    async with await Lab.start(
        "dev", ui=False, sandbox_root=tmp_path / "sandbox", replace_current=False, in_process_worker=False
    ) as lab:
        checks = {
            "starter": await check_your_agent(lab, starter_agent, starter_worker, drive),
            "no kill": await check_your_agent(lab, *solution, no_kill),
            "solution": await check_your_agent(lab, *solution, drive),
            "another": await check_your_agent(lab, *another, another_drive),
        }
    assert any(
        "cannot import name 'MyWorkflow'" in h and "Define it in your module" in h for h in checks["starter"].hints
    )
    assert any("No worker died" in h for h in checks["no kill"].hints)
    assert checks["solution"].passed, checks["solution"].hints
    assert checks["another"].passed, checks["another"].hints
