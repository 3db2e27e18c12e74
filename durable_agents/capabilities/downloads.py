"""Tools that bring data in: a page of text per call, and a large download inline or by reference.

Every tool result is recorded in the history (the activity's result) and sent again with every
later model request, so what a tool returns decides how fast a long run's history grows
(notebook 08). `download(..., keep="sandbox")` is the usual remedy for a large result: the bytes
stay outside the history, in the run's sandbox, and the model gets a short reference to them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.toolsets import FunctionToolset

from durable_agents.capabilities.one_toolset import one_toolset
from durable_agents.capabilities.sandbox import sandbox_path
from durable_agents.deps import DemoDeps

_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo")


def page_text(n: int, size: int) -> str:
    """`size` characters of deterministic text for page `n` (the same on every worker and replay)."""
    line = " ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(len(_WORDS))) + " "
    return (line * (size // len(line) + 1))[:size]


async def fetch_page(ctx: RunContext[DemoDeps], n: int, size: int = 1000) -> str:
    """Fetch page `n` of the report: `size` characters of text."""
    return f"page {n}: {page_text(n, size)}"


async def download(
    ctx: RunContext[DemoDeps], name: str, size: int, keep: Literal["inline", "sandbox"] = "inline"
) -> str:
    """Download `name` (`size` bytes). `keep="inline"` returns the bytes to the model;
    `keep="sandbox"` saves them to `downloads/<name>` and returns a short reference instead."""
    data = page_text(size, size)
    if keep == "inline":
        return data
    target = sandbox_path(ctx.deps.sandbox_dir, f"downloads/{name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(data)
    digest = hashlib.sha256(data.encode()).hexdigest()[:16]
    return f"saved {len(data)} bytes to downloads/{name} (sha256 {digest}); read_file shows it"


@dataclass
class DownloadsCapability(AbstractCapability[DemoDeps]):
    """Gives the agent `fetch_page` and `download`."""

    toolset_id: str = "downloads"

    @one_toolset
    def get_toolset(self) -> FunctionToolset[DemoDeps]:
        return FunctionToolset([fetch_page, download], id=self.toolset_id)
