"""One test per private name `durable_agents/upstream.py` relies on: an upgrade that moves or changes
one fails here, naming it and the module to update, before a notebook fails somewhere less clear."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import multiprocessing.spawn
import signal
import subprocess
import sys
import types
from collections.abc import Iterator
from importlib.util import find_spec

import pytest
from pydantic_ai import Agent, ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai_harness import CodeMode
from temporalio import activity, workflow

from durable_agents import upstream
from durable_agents.capabilities import ptc


@contextlib.contextmanager
def relied_on(name: str) -> Iterator[None]:
    """Turn any failure inside into one that names `name` and says where to fix it."""
    try:
        yield
    except Exception as exc:
        pytest.fail(
            f"{name} has moved or changed upstream ({type(exc).__name__}: {exc}). Update durable_agents/upstream.py: "
            "its comment on this name says what the package needs it for and which public API would replace it.",
            pytrace=False,
        )


def test_the_current_run_context_is_readable_inside_a_run():
    seen = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(upstream.current_run_context())
        return ModelResponse(parts=[TextPart("done")])

    with relied_on("pydantic_ai._run_context.get_current_run_context"):
        Agent(FunctionModel(model), deps_type=str).run_sync("hi", deps="the deps")
        assert [getattr(ctx, "deps", None) for ctx in seen] == ["the deps"], "no run context inside Model.request"


def test_a_run_context_can_be_made_current():
    marker = object()

    def made_current() -> object:
        upstream.make_run_context_current(marker)
        return upstream.current_run_context()

    with relied_on("pydantic_ai._run_context._CURRENT_RUN_CONTEXT"):
        assert contextvars.copy_context().run(made_current) is marker, "the context set is not the one read back"
        assert upstream.current_run_context() is None, "setting it leaked out of the context it was set in"


def test_a_toolsets_activity_settings_can_be_read_back():
    durability = TemporalDurability(toolset_activity_config={"faults": {"summary": "x"}})
    with relied_on("TemporalDurability._toolset_activity_config"):
        assert upstream.toolset_activity_config(durability, "faults") == {"summary": "x"}
        assert upstream.toolset_activity_config(durability, "other") is None


def test_the_model_errors_never_retried_can_be_read_back():
    class Mine(Exception):
        pass

    durability = TemporalDurability(non_retryable_model_errors=[Mine])
    with relied_on("TemporalDurability._non_retryable_model_errors"):
        assert Mine in tuple(upstream.model_errors_never_retried(durability))


@pytest.mark.parametrize("module", upstream.PRELOAD)
def test_the_private_modules_the_fork_server_preloads_exist(module):
    with relied_on(module):
        assert find_spec(module) is not None, f"no module {module}"


def code_mode_run(code: str) -> list[str]:
    """Run one `run_code` snippet in a plain agent (no workflow): what the model was told."""

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("run_code", {"code": code})])
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(model), capabilities=[CodeMode(monty_sandbox=ptc.monty_pool)])
    result = agent.run_sync("go")
    return [str(p.content) for m in result.all_messages() for p in m.parts if isinstance(p, ToolReturnPart)] + [
        str(getattr(p, "content", "")) for m in result.all_messages() for p in m.parts if p.part_kind == "retry-prompt"
    ]


def test_every_call_into_monty_passes_the_door_and_a_snippet_starts_in_a_session():
    module = sys.modules["pydantic_ai_harness._monty_exec"]
    before = module.call_monty
    calls, pids = [], []

    async def door(portal, fn, *args):
        calls.append(fn)
        if (session := upstream.monty_session(fn)) is not None:
            pids.append(session.worker_pid)
        return await upstream.harness_call_monty(portal, fn, *args)

    with relied_on("pydantic_ai_harness._monty_exec.call_monty (and CodeMode starting with session.feed_start)"):
        try:
            upstream.route_monty_calls(door)
            upstream.route_monty_calls(door)  # twice changes nothing
            told = code_mode_run("21 * 2")
        finally:
            upstream.route_monty_calls(before)
        assert "42" in told[0], f"the snippet did not run: {told}"
        assert calls, "CodeMode no longer calls into Monty through call_monty"
        assert pids and isinstance(pids[0], int), "the first call is not a session's feed_start (or it has no pid)"


def test_a_snippets_print_output_is_bounded():
    with relied_on("pydantic_ai_harness._monty_exec.PrintCapture"):
        try:
            upstream.bound_print_output(100)
            upstream.bound_print_output(100)  # twice changes nothing
            told = code_mode_run("print('x' * 1000)")
        finally:
            upstream.bound_print_output(ptc.PRINT_LIMIT)
        assert any("MemoryError" in t for t in told), f"printing past the bound did not fail the snippet: {told}"


def test_an_activitys_name_can_be_read():
    @activity.defn(name="named_so")
    async def act() -> None: ...

    with relied_on("the __temporal_activity_definition of @activity.defn"):
        assert upstream.activity_name(act) == "named_so"


@workflow.defn(name="Probe", sandboxed=False)
class Probe:  # Temporal wants a workflow class (and its run method) at module level
    @workflow.run
    async def run(self) -> None: ...


def test_a_workflow_class_can_be_recognised():
    with relied_on("the __temporal_workflow_definition of @workflow.defn"):
        assert upstream.is_workflow_class(Probe), "a @workflow.defn class is not recognised"
        assert not upstream.is_workflow_class(type("Plain", (), {}))


def test_a_wait_that_ended_early_is_recognised():
    from temporalio.client import WorkflowHandle

    with relied_on("the text of WorkflowHandle.result's RuntimeError"):
        assert f'RuntimeError("{upstream.NO_COMPLETION}")' in inspect.getsource(WorkflowHandle.result)
        assert upstream.no_completion_yet(RuntimeError(upstream.NO_COMPLETION))
        assert not upstream.no_completion_yet(RuntimeError("another"))


def test_the_exit_handlers_can_be_run_early():
    program = (
        "import atexit\nfrom durable_agents import upstream\n"
        "atexit.register(print, 'handler')\nupstream.run_exit_handlers()\nprint('after')\n"
    )
    with relied_on("atexit._run_exitfuncs"):
        out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
        assert out.split() == ["handler", "after"], f"the handler did not run once, before the exit: {out!r}"


def test_multiprocessing_is_shown_an_empty_main_module(monkeypatch):
    script = types.ModuleType("__main__")
    script.__file__ = "/tmp/a_readers_script.py"
    monkeypatch.setitem(sys.modules, "__main__", script)
    with relied_on("multiprocessing.spawn.get_preparation_data reading sys.modules['__main__']"):
        assert multiprocessing.spawn.get_preparation_data("w").get("init_main_from_path") == script.__file__
        with upstream.main_module_hidden():
            assert "init_main_from_path" not in multiprocessing.spawn.get_preparation_data("w")
        assert sys.modules["__main__"] is script


def test_an_installed_signal_handler_can_be_read():
    def callback(*args: object) -> None: ...

    loop = asyncio.new_event_loop()
    try:
        with relied_on("asyncio's loop._signal_handlers and Handle._callback/_args"):
            assert upstream.signal_handler(loop, signal.SIGUSR1) is None
            loop.add_signal_handler(signal.SIGUSR1, callback, 1, 2)
            assert upstream.signal_handler(loop, signal.SIGUSR1) == (callback, (1, 2))
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
        loop.close()


HELPERS_SESSIONS = """
import os, time, psutil
from durable_agents.lab.forkserver import warm_up

warm_up()
deadline = time.monotonic() + 30
while len(psutil.Process().children()) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
helpers = psutil.Process().children()
print(*sorted({os.getsid(p.pid) == os.getsid(0) for p in helpers}), len(helpers))
"""


def test_multiprocessing_helpers_start_in_a_session_of_their_own():
    """A kernel's shutdown waits for the processes of its group: the fork server and its resource tracker
    must not be among them (`upstream.helpers_in_own_session`)."""
    with relied_on("multiprocessing.util.spawnv_passfds"):
        done = subprocess.run([sys.executable, "-c", HELPERS_SESSIONS], capture_output=True, text=True, timeout=60)
        assert done.stdout.split() == ["False", "2"], done.stdout + done.stderr
