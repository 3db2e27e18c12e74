"""The live-model path, over real HTTP, offline: the recorded provider (`tests/provider_server.py`)
answers the real OpenAI and Anthropic clients, and the runs go through Temporal as a keyed or a
local model's would. Nothing in the package is replaced: only the base URL points here."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.exceptions import ModelQuotaExceededError, ModelRequestRejectedError, ModelRequestTimeout
from rich.console import Console

from durable_agents import live, upstream
from durable_agents.agent import demo_agent, non_retryable_model_errors
from durable_agents.demo.repl import Repl
from durable_agents.demo.routes import prompt_plan
from durable_agents.demo.runner import Runner, script_json
from durable_agents.history.replay import replay
from durable_agents.history.tree import as_tree
from durable_agents.lab import Lab, Run
from durable_agents.lessons import capstone
from durable_agents.script import call, final
from tests.provider_server import ProviderServer

PROMPT = "write hello to hello.txt"


@pytest.fixture(scope="module")
def provider_server() -> Iterator[ProviderServer]:
    server = ProviderServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def recorded(provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> ProviderServer:
    """The recorded provider, rewound, with the keys the clients insist on (the server ignores them)."""
    provider_server.reset()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-recorded")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-recorded")
    return provider_server


async def live_run(lab: Lab, model: str, base_url: str, prompt: str = PROMPT, **options: Any) -> Run:
    """One run of `model` at `base_url`, as a reader starts it: `lab.run(prompt=..., model=..., base_url=...)`."""
    run = await lab.run(None, prompt, model=model, base_url=base_url, check=False, **options)
    kinds = [e["eventType"] for e in run.history_json[run.workflow_id]["events"]]
    assert "EVENT_TYPE_WORKFLOW_TASK_FAILED" not in kinds  # e.g. an SDK imported inside the workflow: a deadlock
    return run


def activities(run: Run) -> list[tuple[str, int]]:
    """(activity type, attempt of its last try) for each activity of the top-level workflow, in order."""
    events = run.history_json[run.workflow_id]["events"]
    scheduled = {e["eventId"]: e for e in events if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"}
    started = [e for e in events if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_STARTED"]
    return [
        (
            scheduled[e["activityTaskStartedEventAttributes"]["scheduledEventId"]][
                "activityTaskScheduledEventAttributes"
            ]["activityType"]["name"],
            int(e["activityTaskStartedEventAttributes"].get("attempt", 1)),
        )
        for e in started
    ]


def the_tree(run: Run) -> str:
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(as_tree(run.graph()))
    return console.export_text()


@pytest.mark.parametrize(
    ("model", "where", "wire"),
    [
        ("openai:write-hello", "openai", "responses"),
        ("anthropic:write-hello", "anthropic", "anthropic"),
        ("ollama:write-hello", "openai", "chat"),
    ],
)
async def test_a_live_model_writes_the_file_through_activities(lab, recorded, model, where, wire):
    base_url = recorded.openai_url if where == "openai" else recorded.url
    run = await live_run(lab, model, base_url)
    assert run.error is None, run.error
    assert run.output == "I wrote hello to hello.txt."
    assert run.files() == {"hello.txt": "hello"}
    assert activities(run) == [
        ("agent__demo__model_request", 1),
        ("agent__demo__toolset__sandbox__call_tool", 1),
        ("agent__demo__model_request", 1),
    ]
    asked = recorded.asked("write-hello")
    assert [r.format for r in asked] == [wire, wire]
    assert "wrote 5 characters to hello.txt" in asked[1].text  # the tool's result went back to the model
    assert "write_file" in asked[0].text and "run_code" not in asked[0].text  # offered tools, by name
    assert await replay(run.histories) == 1


@pytest.mark.parametrize(
    ("cassette", "answered", "failure"),
    [
        ("rate-limited", "status 429", "Rate limit reached"),
        ("server-error", "status 500", "The server had an error"),
        ("dropped", "drop", "onnection|disconne"),  # httpx words a dropped connection either way
        ("slow", "delayed reply", "timed out"),
    ],
)
async def test_a_failed_model_request_is_retried_by_temporal_not_by_the_client(
    lab, recorded, monkeypatch, cassette, answered, failure
):
    if cassette == "slow":
        monkeypatch.setattr(live, "ATTEMPT_TIMEOUT", 1.0)  # the recorded answer takes 3 s
    run = await live_run(lab, f"openai:{cassette}", recorded.openai_url)
    assert run.error is None, run.error
    assert run.files() == {"hello.txt": "hello"}
    assert activities(run)[0] == ("agent__demo__model_request", 2)  # the second attempt answered
    # one failed request, no retry by the client: Temporal's second attempt, then the follow-up
    assert [r.answered for r in recorded.asked(cassette)] == [answered, "reply", "reply"]
    [first, *_] = run.graph().steps
    assert first.kind == "model" and first.attempts == 2 and re.search(failure, first.failures[-1])
    assert "model request" in the_tree(run).splitlines()[1] and "×2 attempts" in the_tree(run).splitlines()[1]
    assert await replay(run.histories) == 1


async def test_a_rejected_request_is_not_retried_and_says_why(lab, recorded):
    run = await live_run(lab, "openai:rejected", recorded.openai_url)
    assert len(recorded.asked("rejected")) == 1
    assert run.graph().status == "failed"
    [step] = run.graph().steps
    assert step.kind == "model" and step.attempts == 1 and step.status == "failed"
    assert "request was rejected" in str(run.error.cause.cause)  # type: ignore[union-attr]
    assert await replay(run.histories) == 1


def test_model_errors_that_must_not_retry_extend_pydantic_ais_default():
    """Fails when an upgrade of pydantic-ai changes the default: read its changelog, then update this."""
    default = inspect.signature(TemporalDurability.__init__).parameters["non_retryable_model_errors"].default
    assert tuple(default) == ()  # pydantic-ai-slim 2.62; upstream's later default covers more
    durability = TemporalDurability.from_agent(demo_agent)
    assert durability is not None
    assert upstream.model_errors_never_retried(durability) == non_retryable_model_errors()
    assert set(non_retryable_model_errors()) == {
        ModelRequestRejectedError,
        ModelQuotaExceededError,
        ModelRequestTimeout,
    }


def test_every_provider_the_package_builds_has_its_client_retries_off(recorded):
    for name, url in (("openai", None), ("anthropic", None), ("ollama", "http://127.0.0.1:1/v1")):
        client = live.provider(name, url).client
        assert client.max_retries == 0, name
        assert client.timeout == live.ATTEMPT_TIMEOUT, name
    assert str(live.build_model("ollama:qwen3").client.base_url) == live.LOCAL_BASE_URL + "/"


def test_a_bad_base_url_or_a_missing_key_is_refused_with_what_to_do(monkeypatch):
    with pytest.raises(live.LiveModelError, match="not an http"):
        live.resolve("ollama:qwen3", "localhost:11434")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env with a key here
    with pytest.raises(live.LiveModelError, match="ollama:<name>"):
        live.resolve("gpt-5.5")
    assert live.resolve("ollama:qwen3") == "ollama:qwen3"  # a local model needs no key


async def test_in_the_repl_a_script_and_a_live_model_say_which_runs_and_draw_the_same_tree(lab, recorded, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", recorded.openai_url)  # the keyed route, pointed here
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    repl = Repl(Runner(lab, console, model="openai:write-hello", diagrams=False))
    script = [call("write_file", path="hello.txt", content="hello"), final("I wrote hello to hello.txt.")]
    await repl.handle("/script " + json.dumps(script_json(script)))
    await repl.handle(PROMPT)
    assert recorded.requests == []  # the script ran, not the model
    scripted = repl.runner.last
    await repl.handle(PROMPT)
    live_outcome = repl.runner.last
    said = console.export_text()
    assert (
        "The next prompt runs this script (2 step(s), agent demo), instead of the live model openai:write-hello" in said
    )
    assert "Your script runs this prompt, not the live model openai:write-hello" in said
    assert "Live model openai:write-hello on the demo agent" in said
    assert scripted is not None and live_outcome is not None
    assert scripted.plan.origin == "your script" and live_outcome.plan.origin == "live model openai:write-hello"
    assert len(recorded.asked("write-hello")) == 2
    # the same steps, the same labels: only the first line (the workflow id) differs
    assert the_tree(scripted.run).splitlines()[1:] == the_tree(live_outcome.run).splitlines()[1:]
    assert live_outcome.run.files() == scripted.run.files() == {"hello.txt": "hello"}


def test_a_live_prompt_gets_the_routes_agent_so_run_code_is_offered():
    assert prompt_plan("use python code to gather", "openai:x").agent == "ptc"
    assert prompt_plan("spawn a researcher", "openai:x").agent == "demo"


def _demo(server: ProviderServer, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "OPENAI_API_KEY": "sk-recorded", "COLUMNS": "200", **env}
    command = [str(Path(sys.executable).parent / "durable-agents"), "demo", "--in-process", "--json"]
    return subprocess.run(
        [*command, "--sandbox", str(tmp_path), *args, PROMPT],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _check_summary(done: subprocess.CompletedProcess[str], model: str) -> None:
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["origin"] == f"live model {model}" and summary["status"] == "completed"
    assert summary["answer"] == "I wrote hello to hello.txt."
    assert summary["shape"] == ["model", "write_file", "model"]
    assert summary["files"] == {"hello.txt": "hello"}


def test_the_demo_command_runs_a_keyed_model_against_the_recorded_provider(recorded, tmp_path):
    done = _demo(recorded, tmp_path, "--model", "openai:write-hello", OPENAI_BASE_URL=recorded.openai_url)
    _check_summary(done, "openai:write-hello")
    assert [r.format for r in recorded.asked("write-hello")] == ["responses", "responses"]


def test_the_demo_command_runs_a_local_model_without_a_key(recorded, tmp_path):
    done = _demo(recorded, tmp_path, "--model", "ollama:write-hello", OLLAMA_BASE_URL=recorded.openai_url)
    _check_summary(done, "ollama:write-hello")
    assert [r.format for r in recorded.asked("write-hello")] == ["chat", "chat"]


def test_the_demo_command_reaches_a_local_server_by_base_url(recorded, tmp_path):
    done = _demo(recorded, tmp_path, "--model", "ollama:write-hello", "--base-url", recorded.openai_url)
    _check_summary(done, "ollama:write-hello")


async def test_notebook_09s_live_run_against_the_recorded_provider(lab, recorded, monkeypatch):
    """The call 09's optional cell makes, with a recorded model: the graph nobody scripted has the
    snippets, the three children and the report. (`slow` is a teaching tool: the cell offers it.)"""
    monkeypatch.setenv("OPENAI_BASE_URL", recorded.openai_url)
    run = await lab.run(
        prompt=capstone.LIVE_PROMPT, model="openai:capstone", agent="ptc", teaching_tools=True, timeout=300, check=False
    )
    assert run.error is None, run.error
    assert run.files()["report.md"].splitlines() == capstone.expected_report()
    graph = run.graph()
    assert [s.label for s in graph.steps if s.kind == "code"] == ["run_code", "run_code"]
    assert sorted(child.workflow_id.rsplit(".", 1)[1] for child in graph.children()) == [
        "researcher-1",
        "researcher-2",
        "researcher-3",
    ]
    assert len(recorded.asked("capstone")) == 3 + 3 * 2  # the parent's three requests, two per researcher
    assert await replay(run.histories) == 4
