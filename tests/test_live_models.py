"""The live-model path, over real HTTP, offline: the recorded provider (`tests/provider_server.py`)
answers the real OpenAI and Anthropic clients, and the runs go through Temporal as a keyed or a
local model's would. Nothing in the package is replaced: only the base URL points here."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.durable_exec.temporal import TemporalDurability
from pydantic_ai.exceptions import ModelQuotaExceededError, ModelRequestRejectedError, ModelRequestTimeout

from durable_agents import live
from durable_agents.agent import demo_agent, non_retryable_model_errors
from durable_agents.history.replay import replay
from durable_agents.history.tree import as_tree
from durable_agents.lab import Lab, Run
from durable_agents.workflows import DemoAgentWorkflow
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
    """One run of `model` at `base_url`, as `lab.run(prompt=..., model=..., base_url=...)` starts it."""
    wid, request = lab.request(None, prompt, model=model, **options)
    request = replace(request, base_url=live.check_base_url(base_url))
    Path(request.sandbox_dir).mkdir(parents=True, exist_ok=True)
    await lab.client.start_workflow(DemoAgentWorkflow.run, request, id=wid, task_queue=lab.task_queue)
    run = await lab.follow(wid, check=False)
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
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
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
        ("dropped", "drop", "onnection"),
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
    assert first.kind == "model" and first.attempts == 2 and failure in first.failures[-1]
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
    assert durability._non_retryable_model_errors == non_retryable_model_errors()
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
