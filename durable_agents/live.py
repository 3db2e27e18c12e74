"""Opt-in live models: a model name (and a key, or a local server) replace the script.

Bare names default to OpenAI, except names that start with `claude`, which go to Anthropic;
`openai:...`, `anthropic:...` and `ollama:...` are taken as they are. Keys come from the environment
or from a `.env` file in the working folder (or any folder above it). `ollama:<name>` needs no key: it
speaks OpenAI's chat-completions format to any OpenAI-compatible server (Ollama, LM Studio, vLLM,
llama.cpp's server) at `base_url` (default `$OLLAMA_BASE_URL`, else Ollama's `http://localhost:11434/v1`).

The worker builds the model itself (`build_model`, run by every agent's `live_models()` capability),
with the provider client's own retries off: Temporal retries a failed model request, and records
each attempt in the history; a client retrying inside the activity would hide them.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

from dotenv import find_dotenv, load_dotenv
from pydantic_ai.capabilities import ResolveModelId
from pydantic_ai.models import Model, ModelResolutionContext, infer_model
from pydantic_ai.providers import Provider

KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "ollama": None}
"""The providers a run may name, and the environment variable holding each one's key (None: keyless)."""

LOCAL_BASE_URL = "http://localhost:11434/v1"
"""Where `ollama:` names go when neither `base_url` nor `$OLLAMA_BASE_URL` says otherwise (Ollama's port)."""

ATTEMPT_TIMEOUT = 50.0
"""Seconds one attempt at a model request may take before the provider client gives up (a
`ModelTimeoutError`, which Temporal retries): inside the model activity's 60 s, so the history says
what timed out rather than Temporal's "activity timed out"."""

CLIENT_RETRIES = 0
"""The provider client's own retries: none, so every retry is Temporal's, and in the history."""


class LiveModelError(ValueError):
    """A live model was asked for but cannot be used; the message says what to set."""


def qualified_name(name: str) -> str:
    """`gpt-5.5` -> `openai:gpt-5.5`; `claude-...` -> `anthropic:claude-...`; qualified names unchanged."""
    name = name.strip()
    if not name:
        raise LiveModelError("The model name is empty: give e.g. 'openai:gpt-5.5' or 'claude-3-5-haiku-latest'.")
    if ":" in name:
        return name
    return f"anthropic:{name}" if name.startswith("claude") else f"openai:{name}"


def check_base_url(base_url: str | None) -> str | None:
    """`base_url` if it is an http(s) address (None stays None); otherwise a `LiveModelError` saying how one looks."""
    if base_url is None:
        return None
    parsed = urlparse(base_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LiveModelError(
            f"base_url={base_url!r} is not an http(s) address: give e.g. 'http://localhost:11434/v1' "
            "(Ollama), 'http://localhost:1234/v1' (LM Studio) or 'http://localhost:8000/v1' (vLLM)."
        )
    return base_url.strip()


def resolve(name: str, base_url: str | None = None, *, instead: str = "Leave model=None") -> str:
    """The qualified model name, after checking its provider, its key (loading `.env`) and `base_url`.

    `instead` is how the caller stays with the scripted model, in its own words (the command line
    says `Leave out --model`)."""
    qualified = qualified_name(name)
    provider = qualified.split(":", 1)[0]
    if provider not in KEYS:
        raise LiveModelError(f"Unknown provider {provider!r} in {name!r}: use one of {', '.join(KEYS)}.")
    check_base_url(base_url)
    load_dotenv(find_dotenv(usecwd=True), override=False)
    _check_key(qualified, instead)
    preload(provider)
    return qualified


def preload(*names: str) -> None:
    """Import the model classes of these providers, outside any workflow.

    The workflow builds the run's model too (for its profile), and an SDK imported there for the
    first time can take longer than the 2 s a workflow task may run before Temporal calls it a
    deadlock (the task then fails and is retried much later). `resolve()` calls this for the
    provider it resolves; a worker process calls it as it starts, for the providers it can serve.
    """
    import importlib

    for name in names:
        importlib.import_module(f"pydantic_ai.models.{name}")


def servable() -> tuple[str, ...]:
    """The providers a worker with this environment can build a model for: the keyless one, and those
    whose key is set. A run naming another fails in `provider()` on the missing key, before any of
    that provider's SDK is imported, so a worker need not import it (Anthropic's takes ~1.3 s here)."""
    return tuple(name for name, key in KEYS.items() if key is None or os.environ.get(key))


def _check_key(qualified: str, instead: str = "Leave model=None") -> None:
    key = KEYS[qualified.split(":", 1)[0]]
    if key is not None and not os.environ.get(key):
        raise LiveModelError(
            f"{qualified} needs {key}: export it, or put `{key}=...` in a .env file next to the notebooks "
            "(before the lab starts its workers). Without a key, run a local model: model='ollama:<name>' "
            f"(any OpenAI-compatible server, with base_url=...). {instead} to stay with the scripted model."
        )


def provider(name: str, base_url: str | None = None) -> Provider[Any]:
    """The provider for `name` (`openai`, `anthropic`, `ollama`) at `base_url`, its client retrying nothing."""
    options: dict[str, Any] = {"max_retries": CLIENT_RETRIES, "timeout": ATTEMPT_TIMEOUT}
    if name not in KEYS:
        raise LiveModelError(f"Unknown provider {name!r}: use one of {', '.join(KEYS)}.")
    _check_key(f"{name}:")
    if name == "anthropic":
        from anthropic import AsyncAnthropic
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicProvider(anthropic_client=AsyncAnthropic(base_url=base_url, **options))
    from openai import AsyncOpenAI

    if name == "ollama":
        from pydantic_ai.providers.ollama import OllamaProvider

        url = base_url or os.environ.get("OLLAMA_BASE_URL") or LOCAL_BASE_URL
        key = os.environ.get("OLLAMA_API_KEY") or "no-key-needed"  # a local server ignores it; the client wants one
        return OllamaProvider(openai_client=AsyncOpenAI(base_url=url, api_key=key, **options))
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIProvider(openai_client=AsyncOpenAI(base_url=base_url, **options))


def build_model(model_id: str, base_url: str | None = None) -> Model:
    """The model `model_id` names, built as Pydantic AI builds it but on `provider(...)`, at `base_url`."""
    return infer_model(model_id, provider_factory=lambda name: provider(name, base_url))


def _resolve_model_id(ctx: ModelResolutionContext[Any], model_id: str) -> Model | None:
    if model_id.split(":", 1)[0] not in KEYS:
        return None  # not ours: Pydantic AI's own resolution builds it
    return build_model(model_id, getattr(ctx.deps, "base_url", None))


def live_models() -> ResolveModelId[Any]:
    """The capability that builds a run's live model from its name and the run's `base_url` (`DemoDeps`),
    both where the workflow picks the model and in the activity that sends the request."""
    return ResolveModelId(_resolve_model_id)
