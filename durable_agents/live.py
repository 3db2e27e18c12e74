"""Opt-in live models: a model name and an API key replace the script.

Bare names default to OpenAI, except names that start with `claude`, which go to Anthropic;
`openai:...` and `anthropic:...` are taken as they are. Keys come from the environment or from a
`.env` file in the working folder (or any folder above it).
"""

from __future__ import annotations

import os

from dotenv import find_dotenv, load_dotenv

KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


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


def resolve(name: str, *, instead: str = "Leave model=None") -> str:
    """The qualified model name, after checking that its provider's API key is set (loading `.env`).

    `instead` is how the caller stays with the scripted model, in its own words (the command line
    says `Leave out --model`)."""
    qualified = qualified_name(name)
    provider = qualified.split(":", 1)[0]
    if provider not in KEYS:
        raise LiveModelError(f"Unknown provider {provider!r} in {name!r}: use one of {', '.join(KEYS)}.")
    load_dotenv(find_dotenv(usecwd=True), override=False)
    if not os.environ.get(KEYS[provider]):
        raise LiveModelError(
            f"{qualified} needs {KEYS[provider]}: export it, or put `{KEYS[provider]}=...` in a .env file "
            f"next to the notebooks. {instead} to stay with the scripted model."
        )
    return qualified
