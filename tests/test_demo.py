"""The `durable-agents` command, driven as a user would: a real process in a pseudo-terminal (pexpect).

The REPL test types commands, a scenario, free-text prompts, Ctrl-C during a slow run and Ctrl-D,
then reads the runs back from the server's histories. The one-shot tests read the `--json`
summary. Each test checks that the command left no process and no port behind. Most tests share
one dev server started here (`--no-start-dev-server --address`), so no test waits for a server
of its own unless starting one is what it tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pexpect
import psutil
import pytest
from temporalio.testing import WorkflowEnvironment

from durable_agents.agent import TEACHING_TOOLS
from durable_agents.demo import ALIASES
from durable_agents.demo.repl import offered_tools
from durable_agents.demo.routes import ROUTES, UnknownScenario, pick, scenario
from durable_agents.history import events, store
from durable_agents.history.graph import build_graph
from durable_agents.history.tree import as_text
from durable_agents.lab import binaries, reaper
from durable_agents.scenarios import SCENARIOS, shape
from tests.conftest import DATA

COMMAND = str(Path(sys.executable).parent / "durable-agents")
"""The console script `uv sync` installs from `[project.scripts]`."""
PROMPT = "durable>"
RUN_ID = re.compile(r"\b((?:demo|ptc)-\d{3}-[0-9a-f]{6})\b")
ENV = {
    **os.environ,
    "PROMPT_TOOLKIT_NO_CPR": "1",  # a pseudo-terminal does not answer cursor-position requests
    "TTY_COMPATIBLE": "0",  # Rich writes plain text and a line per progress change, no spinner
    "COLUMNS": "200",
    "PYTHONUNBUFFERED": "1",
}


@pytest.fixture(scope="module")
async def server():
    """A dev server started apart from the command (as `temporal server start-dev` would be)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binaries.find_binary(binaries.DEV_SERVER), ui=False
    )
    yield env
    await env.shutdown()


def _address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def _log_tail(sandbox: Path) -> str:
    """The end of the demo's log in `sandbox`, for a failure's message."""
    log = sandbox / "demo.log"
    return log.read_text()[-4000:] if log.exists() else "(no demo.log)"


def _alive(pids: list[int]) -> list[int]:
    return [p for p in pids if reaper.running(p)]


def _gone(pids: list[int], grace: float = 15) -> list[int]:
    deadline = time.monotonic() + grace
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


def _left_in(cwd: Path) -> list[psutil.Process]:
    """Processes still running in `cwd`: a server or worker the command started inherits its folder."""
    left = []
    for process in psutil.process_iter():
        try:
            if process.cwd() == str(cwd) and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return left


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _spawn(*args: str, cwd: Path) -> pexpect.spawn:
    editor = cwd / "editor.sh"  # `/script edit` opens $EDITOR: this one writes a script into the file
    editor.write_text("""#!/bin/sh\necho '[{"tool": "list_files"}, {"final": "edited"}]' > "$1"\n""")
    editor.chmod(0o755)
    env = {**ENV, "EDITOR": str(editor)}
    child = pexpect.spawn(
        COMMAND, ["demo", *args], env=env, cwd=str(cwd), encoding="utf-8", timeout=90, dimensions=(60, 200)
    )
    child.logfile_read = (cwd / "screen.log").open("w")
    return child


def _type(child: pexpect.spawn, line: str, *expect: str) -> str:
    """Type `line`, wait for each of `expect` in turn and the next prompt; what the screen showed."""
    child.sendline(line)
    shown = ""
    for text in expect:
        child.expect(text)
        shown += child.before + child.after
    child.expect(PROMPT)
    return shown + child.before


def _one_shot(*args: str, cwd: Path, command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(command or [COMMAND]), "demo", *args], env=ENV, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`durable-agents demo ARGS`, started and not waited for (tests start several at once)."""
    return subprocess.Popen(
        [COMMAND, "demo", *args], env=env or ENV, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


async def _histories(env: WorkflowEnvironment, workflow_id: str) -> dict:
    return store.as_dicts(await store.fetch_histories(env.client, workflow_id, wait=5))


async def test_the_repl_as_a_user_drives_it(server, tmp_path):
    child = _spawn("--no-start-dev-server", "--address", _address(server), "--sandbox", str(tmp_path), cwd=tmp_path)
    child.expect("Temporal server: " + re.escape(_address(server)))
    child.expect(PROMPT)
    pids = [p.pid for p in psutil.Process(child.pid).children(recursive=True)] + [child.pid]

    assert "/scenario NAME" in _type(child, "/help", "Ctrl-D quits")
    listing = _type(child, "/scenarios", "parent_close_abandon")
    assert all(name in listing for name in ("tools_are_activities", "ptc_gathers_activities_and_spawns (ptc)"))
    assert "No scenario 'nope'" in _type(child, "/scenario nope", "No scenario")
    assert "/help lists" in _type(child, "/bogus", "Unknown command")

    ptc = _type(child, "/scenario ptc", "Answer: gathered", "Web UI|Diagram")
    assert "child researcher" in ptc and "run_code" in ptc
    ptc_id = RUN_ID.search(ptc).group(1)

    note = _type(child, "write a note about herons", r"Scripted route note", "Answer: Saved to", "Diagram: ")
    note_id = RUN_ID.search(note).group(1)
    assert "write_file(path='notes/write-a-note-abou" in note

    child.sendline("please wait 30 seconds")
    child.expect("route slow")
    child.expect(r"running ((?:demo)-\d{3}-[0-9a-f]{6}): 2 step")  # the slow tool has started
    slow_id = child.match.group(1)
    child.sendcontrol("c")
    child.expect("Cancelled by Ctrl-C")
    child.expect(PROMPT)

    assert "Malformed JSON (line 1" in _type(child, '/script [{"tool": "write_file"', "Malformed JSON")
    assert "Step 1 of the model script is not a step" in _type(child, '/script [{"tol": 1}]', "not a step")
    unknown = _type(child, '/script [{"tool": "launch_rockets"}, {"final": "grounded"}]', "Unknown tool", "next prompt")
    assert "'launch_rockets'" in unknown and "write_file" in unknown
    assert '"launch_rockets"' in _type(child, "/script", "Script of the next run")
    custom = _type(child, "go", "Answer: grounded")
    custom_id = RUN_ID.search(custom).group(1)
    assert "No script set" in _type(child, "/script", "No script set")
    edited = _type(child, "/script edit", "next prompt runs this script")
    assert "(2 step(s), agent demo)" in edited
    edited_id = RUN_ID.search(_type(child, "go on", "Answer: edited")).group(1)

    assert edited_id in _type(child, "/history", "Answer: edited")
    assert "No Web UI" in _type(child, "/ui", "No Web UI")

    child.sendeof()
    child.expect("Bye")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not _gone(pids)

    # The runs really happened on the server, as the screen said.
    graph = build_graph(await _histories(server, ptc_id), ptc_id)
    assert shape(graph) == SCENARIOS[ALIASES["ptc"]].shape
    note_graph = build_graph(await _histories(server, note_id), note_id)
    assert shape(note_graph) == ["model", "write_file", "model", "read_file", "model"]
    assert (tmp_path / note_id / "notes" / "write-a-note-about.txt").read_text() == "write a note about herons"
    assert (tmp_path / f"{note_id}.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    cancelled = await _histories(server, slow_id)
    types = [e["eventType"] for e in cancelled[slow_id]["events"]]
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED" in types
    assert types[-1] == "EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED"
    assert shape(build_graph(cancelled, slow_id)) == ["model", "slow cancelled"]
    told = events.told((await _histories(server, custom_id))[custom_id])
    assert any("Unknown tool name: 'launch_rockets'" in line for line in told)


async def test_reset_rewinds_the_last_run_to_before_its_last_model_request(server, tmp_path):
    child = _spawn("--no-start-dev-server", "--address", _address(server), "--sandbox", str(tmp_path), cwd=tmp_path)
    child.expect(PROMPT)
    assert "No run to rewind yet" in _type(child, "/reset", "No run to rewind")
    note = _type(child, "write a note about herons", "Answer: Saved to", "Diagram: ")
    note_id = RUN_ID.search(note).group(1)
    old = (await _histories(server, note_id))[note_id]
    shown = _type(child, "/reset", "Reset " + note_id, "Answer: Saved to", "model requests: 1")
    child.sendeof()
    child.expect(pexpect.EOF)

    new = (await _histories(server, note_id))[note_id]
    assert new["events"] != old["events"], "the workflow's latest run is the reset's new run"
    point = int(re.search(r"to event (\d+), before model request 3", shown).group(1))
    failed = next(e for e in new["events"] if e["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_FAILED")
    assert int(failed["eventId"]) == point, "the new run takes over where the reset put it"
    assert failed["workflowTaskFailedEventAttributes"]["cause"] == "WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW"
    assert shape(build_graph({note_id: new}, note_id)) == ["model", "write_file", "model", "read_file", "model"]
    assert "activities kept (not run again): 4; activities the new run ran: 1" in shown


async def test_the_default_demo_starts_a_dev_server_with_its_web_ui_and_leaves_nothing(tmp_path):
    child = _spawn("--sandbox", str(tmp_path), cwd=tmp_path)
    child.expect(r"Temporal Web UI: (http://127\.0\.0\.1:(\d+))")
    ui, ui_port = child.match.group(1), int(child.match.group(2))
    child.expect(r"Temporal server: 127\.0\.0\.1:(\d+)")
    port = int(child.match.group(1))
    child.expect(PROMPT)
    pids = [p.pid for p in psutil.Process(child.pid).children(recursive=True)]
    assert any("temporal" in psutil.Process(p).name() for p in pids), "the demo started a server process"
    with urllib.request.urlopen(ui, timeout=10) as page:
        assert page.status == 200

    shown = _type(child, "delegate this to a subagent", "route spawn", "Answer: The researcher read the plan")
    assert "child researcher" in shown
    run_id = RUN_ID.search(shown).group(1)
    assert f"{ui}/namespaces/default/workflows/{run_id}" in _type(child, "/ui", "Last run")

    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not _gone(pids)
    assert _port_free(port) and _port_free(ui_port)


def test_what_is_typed_during_a_run_waits_for_the_next_prompt(tmp_path):
    child = _spawn("--in-process", "--sandbox", str(tmp_path), cwd=tmp_path)
    child.expect(PROMPT)
    child.sendline("wait 3 seconds")
    child.expect("running demo-001")
    child.send("hello there\r/rou")  # typed ahead, while the slow tool works
    child.expect("Answer: Done waiting")
    child.expect(PROMPT + " hello there")
    child.expect("route note")
    child.expect("Answer: Saved to notes/hello-there.txt")
    child.expect(PROMPT)
    child.sendline("tes")  # the prompt started with the "/rou" typed ahead
    child.expect("Scripted routes")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_stops_fuzz_with_130_and_the_tally_so_far(tmp_path):
    child = pexpect.spawn(
        COMMAND,
        ["fuzz", "--iterations", "50", "--max-n", "2"],
        env=ENV,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 80),
    )
    child.expect(r"\d+ children, \d+ on another worker")
    child.sendintr()
    child.expect(r"Interrupted after (\d+) of 50 run\(s\)")
    assert int(child.match.group(1)) >= 1
    child.expect(r"\| ptc-mixed \| \d+ \|")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, (child.exitstatus, child.signalstatus)
    assert "Traceback" not in child.before and "CancelledError" not in child.before
    assert not _left_in(tmp_path)


def test_a_killed_demo_leaves_nothing(tmp_path):
    """SIGTERM stops the lab cleanly; after SIGKILL the lab's reaper stops the server. (Both at once.)"""
    demos = {
        how: _spawn("--in-process", "--sandbox", str(tmp_path / how.name), cwd=tmp_path)
        for how in (signal.SIGTERM, signal.SIGKILL)
    }
    for how, child in demos.items():
        child.expect(r"Temporal server: 127\.0\.0\.1:(\d+)")
        port = int(child.match.group(1))
        child.expect(PROMPT)
        pids = [p.pid for p in psutil.Process(child.pid).children(recursive=True)]
        assert any("temporal" in psutil.Process(p).name() for p in pids)
        child.kill(how)
        child.expect(pexpect.EOF)
        child.close()
        assert child.signalstatus == how or child.exitstatus == 128 + signal.SIGTERM, how
        assert not _gone(pids), how
        assert _port_free(port), how


async def test_one_shot_json_for_each_scenario_alias(server, tmp_path):
    """Every alias, and a scenario whose workflow fails (exit status 1), run at once on the shared server
    (each on its own task queue: a worker that exits must not hold another run's activity)."""
    names = [*ALIASES, "retries_exhausted_fail_the_workflow"]
    address = ["--no-start-dev-server", "--address", _address(server), "--sandbox", str(tmp_path)]
    started = {
        name: _start(["--scenario", name, "--json", *address, "--task-queue", f"alias-{name}"], tmp_path)
        for name in names
    }
    for alias, process in started.items():
        out, err = process.communicate(timeout=180)
        name, row = scenario(alias)
        assert out.strip(), f"--scenario {alias} printed no summary (exit {process.returncode}): {err[-3000:]}"
        summary = json.loads(out)
        assert summary["shape"] == row.shape, alias
        assert summary["files"] == row.files
        assert summary["answer"] == row.output
        assert summary["status"] == row.status
        assert process.returncode == (0 if row.status == "completed" else 1), err
        assert summary["origin"] == f"scenario {name}"
        assert Path(summary["diagram"]).is_file()
        graph = build_graph(await _histories(server, summary["workflow_id"]), summary["workflow_id"])
        assert shape(graph) == row.shape, "the server's history agrees with the summary"
    assert not _left_in(tmp_path)


def test_one_shot_prompt_in_process_with_python_m(tmp_path):
    done = _one_shot(
        "--in-process",
        "--json",
        "--sandbox",
        str(tmp_path),
        "use python code to gather",
        cwd=tmp_path,
        command=[sys.executable, "-m", "durable_agents"],
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["origin"] == "route ptc" and summary["agent"] == "ptc"
    assert summary["shape"] == [
        "model",
        "run_code{write_file, write_file, researcher[model, list_files, model]}",
        "model",
    ]
    assert summary["files"] == {"a.txt": "use python code to gather", "b.txt": "second"}
    assert summary["web_ui"] is None
    assert not _left_in(tmp_path), "the test server stopped with the command"


def test_bad_input_gets_one_clear_line(tmp_path, monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = {
            ("--scenario", "nope"): "No scenario 'nope'",
            ("--no-start-dev-server", "--address", "127.0.0.1:1"): "No Temporal server answers at 127.0.0.1:1",
            ("--port", str(port), "--scenario", "ptc"): f"Port {port} .* is in use",
            ("--model", "gpt-5.5"): "needs OPENAI_API_KEY.* Leave out --model",
            ("--json",): "--json is for one-shot runs",
            ("--model", ""): "The model name is empty",
            ("--in-process", "--scenario", "ptc", "--timeout", "-5"): "--timeout -5: give a run a positive number",
        }
        env = {k: v for k, v in ENV.items() if k != "OPENAI_API_KEY"}
        (tmp_path / "a-file").write_text("not a folder")
        cases[("--in-process", "--sandbox", str(tmp_path / "a-file" / "sandbox"))] = "cannot write there"
        started = {
            args: _start([*args] if "--sandbox" in args else [*args, "--sandbox", str(tmp_path)], tmp_path, env)
            for args in cases
        }  # all at once
        for args, process in started.items():
            out, err = process.communicate(timeout=120)
            assert process.returncode == 2, (args, out, err)
            assert re.search(cases[args], err), (args, err)
            if args != ("--json",):  # a usage error is Typer's panel, with its usage line
                assert len(err.strip().splitlines()) == 1, f"one line, the terminal wraps it: {err}"
            assert "Traceback" not in out + err and "tonic::" not in err and "model=None" not in err
    assert not _left_in(tmp_path)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--json"], ["--in-process", "--scenario", "ptc", "--timeout", "0"], ["--base-url", "http://x"]],
    ids=["help", "usage", "timeout", "base-url"],
)
def test_help_and_the_first_refusals_come_before_the_agent_libraries_load(args, tmp_path):
    """They answer at once: pydantic-ai, temporalio and the scenarios (~1.5 s to import) load only once
    the command's own checks have passed (`-X importtime` lists every module a process imported)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", COMMAND, "demo", *args, "--sandbox", str(tmp_path)],
        env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == (0 if args == ["--help"] else 2), done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    heavy = {name for name in imported if name.split(".")[0] in ("pydantic_ai", "temporalio")}
    assert not heavy and "durable_agents.scenarios" not in imported, sorted(heavy)[:10]
    assert {"typer", "durable_agents.demo.cli"} <= imported, "the listing is there"


def test_help_fits_an_80_column_terminal():
    shown = subprocess.run([COMMAND, "demo", "--help"], env={**ENV, "COLUMNS": "80"}, capture_output=True, text=True)
    assert "…" not in shown.stdout, shown.stdout
    for flag in ("--no-start-dev-server", "--teaching-tools", "--in-process", "--task-queue", "--ui-url"):
        assert flag in shown.stdout


async def test_a_web_ui_link_only_while_the_server_lasts(server, tmp_path):
    """A one-shot run's own server stops with the command: no link to it. A running server's link needs --ui-url."""
    address = ["--no-start-dev-server", "--address", _address(server), "--sandbox", str(tmp_path)]
    runs = {
        "own": _start(["hello", "--json", "--sandbox", str(tmp_path)], tmp_path),
        "running": _start(["hello", "--json", *address, "--task-queue", "link-1"], tmp_path),
        "with --ui-url": _start(
            ["hello", "--json", *address, "--task-queue", "link-2", "--ui-url", "http://127.0.0.1:8233"], tmp_path
        ),
        "shown": _start(["hello", *address, "--task-queue", "link-3"], tmp_path),
    }
    done = {name: process.communicate(timeout=120) for name, process in runs.items()}
    for name, process in runs.items():
        assert process.returncode == 0, (name, done[name], _log_tail(tmp_path))
    own = json.loads(done["own"][0])
    assert own["web_ui"] is None and "server stopped with the command" in own["no_web_ui"]
    assert "--ui-url" in json.loads(done["running"][0])["no_web_ui"]
    linked = json.loads(done["with --ui-url"][0])
    assert linked["web_ui"] == f"http://127.0.0.1:8233/namespaces/default/workflows/{linked['workflow_id']}"
    assert "Web UI: pass --ui-url" in done["shown"][0]
    assert not _left_in(tmp_path)


def test_migration_and_fuzz_print_which_worker_ran_each_workflow(tmp_path):
    def start(*args: str) -> subprocess.Popen[str]:
        (tmp_path / args[0]).mkdir()
        return subprocess.Popen(
            [COMMAND, *args], env=ENV, cwd=tmp_path / args[0], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    migration = start("migration", "--workers", "2", "--children", "3")
    fuzz = start("fuzz", "--iterations", "2", "--workers", "2", "--max-n", "2", "--kind", "ptc-spawns", "--identities")
    out, err = migration.communicate(timeout=240)
    assert migration.returncode == 0, err
    rows = re.findall(r"(demo-\d{3}-[0-9a-f]{6}(?:\.generic-\d+)?)\s+│\s+(worker-[12])", out)
    assert len(rows) == 4, out  # the parent and its three children, each with the worker that ran it
    assert re.search(r"(\d) of 3 children ran on another worker than their parent", out)
    assert sorted((tmp_path / "migration" / ".demo-sandbox").glob("demo-*/child*.txt")), "the children wrote files"
    out, err = fuzz.communicate(timeout=240)
    assert fuzz.returncode == 0, err
    assert "| ptc-spawns | 2 |" in out
    assert re.search(r"ptc-\d{3}-[0-9a-f]{6}\.generic-\d+\s+worker-[12]", out)
    assert not _left_in(tmp_path / "migration") and not _left_in(tmp_path / "fuzz"), "servers and workers stopped"


def test_the_tree_reads_the_typed_graph():
    histories = {p.stem: json.loads(p.read_text()) for p in (DATA / "nested").glob("*.json")}
    root = min(histories, key=len)
    text = as_text(build_graph(histories, root))
    lines = text.splitlines()
    assert lines[0].startswith(f"DemoAgentWorkflow {root} ✓ completed")
    assert "parallel (2 scheduled together)" in text
    nested = next(line for line in lines if ".generic-2.generic-1" in line)
    assert nested.index("DemoAgentWorkflow") > lines[0].index("DemoAgentWorkflow") + 8, "a grandchild is nested"
    assert "flaky(fail_times=1) → succeeded on attempt 2  ×2 attempts" in text
    tour = {p.stem: json.loads(p.read_text()) for p in (DATA / "tour").glob("*.json")}
    tour_text = as_text(build_graph(tour, next(iter(tour))))
    assert "⚠ write_file(path='../escape.txt'" in tour_text and "[model retry]" in tour_text
    exhausted = {p.stem: json.loads(p.read_text()) for p in (DATA / "retries_exhausted").glob("*.json")}
    assert "✗ flaky(fail_times=10)  ×5 attempts  failed" in as_text(build_graph(exhausted, next(iter(exhausted))))


def _recorded_tree(name: str) -> str:
    histories = {p.stem: json.loads(p.read_text()) for p in (DATA / name).glob("*.json")}
    return as_text(build_graph(histories, min(histories, key=len)), width=400)


def test_the_tree_says_what_the_model_was_told_about_every_call():
    """Snippets the sandbox refused, raised in or stopped are not ✓; calls that never became an activity
    (an unknown tool, bad arguments, an unknown subagent, the depth limit) get a line of their own."""
    hostile = _recorded_tree("ptc_hostile_code_is_model_visible")
    snippets = [line for line in hostile.splitlines() if "run_code:" in line]
    assert len(snippets) == 3 and all("⚠" in line and "[code error]" in line for line in snippets), hostile
    assert "Name `open` used when not defined" in hostile and "PermissionError" in hostile
    runaway = next(line for line in _recorded_tree("ptc_runaway_loop_is_stopped").splitlines() if "while True" in line)
    assert "⚠ run_code" in runaway and "TimeLimitError" in runaway
    cancelled = _recorded_tree("parent_cancel_interrupts_ptc_calls")
    assert "⊘ run_code: await asyncio.gather" in cancelled and "✓ run_code" not in cancelled
    refused = {
        "tour": "⚠ no_such_tool()  [refused]  (Unknown tool name: 'no_such_tool'",
        "bad_arguments_are_model_visible": "⚠ write_file(path='a.txt')  [refused]  (content: Field required)",
        "unknown_subagent_is_model_visible": "⚠ spawn(agent_name='poet', task='a poem')  [refused]  (No subagent",
        "depth_limit_is_model_visible": "⚠ spawn(agent_name='generic', task='4')  [refused]  (Depth limit",
    }
    for name, line in refused.items():
        assert line in _recorded_tree(name), name


def test_a_prompt_picks_a_route():
    assert pick("please delegate to a subagent")[0].name == "spawn"
    assert pick("Wait 2 seconds")[1][0].args == {"seconds": 2.0}
    assert pick("please wait")[1][0].args["seconds"] <= 5, "a short wait, well inside the slow tool's timeout"
    assert pick("waiting a while")[0].name == "slow" and pick("summarise this")[0].name == "spawn"
    for words in ("write a note along the river", "explain await in python", "a caffeine-free retrial"):
        assert pick(words)[0].name != "slow", f"{words!r}: a keyword inside a word is not the keyword"
    route, script = pick("hello there")
    assert route is ROUTES[-1] and script[0].args["path"] == "notes/hello-there.txt"
    with pytest.raises(UnknownScenario, match="Did you mean ptc"):
        scenario("ptc_")


async def test_a_live_model_is_not_offered_the_teaching_tools():
    scripted = await offered_tools("demo")
    live = await offered_tools("demo", model="openai:gpt-5.5")
    asked = await offered_tools("demo", model="openai:gpt-5.5", teaching_tools=True)
    assert set(scripted) >= TEACHING_TOOLS and set(asked) == set(scripted)
    assert set(live) == set(scripted) - TEACHING_TOOLS
    assert {"write_file", "read_file", "list_files", "spawn"} <= set(live)


@pytest.mark.parametrize(
    ("timeout", "queue", "sandbox", "told"),
    [
        (0, "q", "", "--timeout 0: give a run a positive number"),
        (-5, "q", "", "--timeout -5"),
        (float("inf"), "q", "", "--timeout inf"),
        (float("nan"), "q", "", "--timeout nan"),
        (120, "", "", "--task-queue is empty"),
        (120, "  ", "", "--task-queue is empty"),
        (120, "q", "a-file/sandbox", "cannot write there"),
    ],
)
def test_values_that_fail_only_after_a_server_started_are_refused_first(tmp_path, timeout, queue, sandbox, told):
    from durable_agents.demo.cli import Failed, _check

    (tmp_path / "a-file").write_text("not a folder")
    _check(120, tmp_path / "fine", "q")
    with pytest.raises(Failed, match=re.escape(told)):
        _check(timeout, tmp_path / (sandbox or "fine"), queue)
