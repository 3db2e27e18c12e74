"""Shared fixtures. Importing this sets `$DURABLE_AGENTS_HISTORY_DIR` for the whole session, so the
notebooks that nbmake executes (in kernels that inherit this environment) write their histories
where `test_history.py` replays them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from durable_agents.history import HISTORY_DIR_ENV
from durable_agents.lab import Lab

NOTEBOOK_HISTORIES = Path(
    os.environ.setdefault(HISTORY_DIR_ENV, str(Path(tempfile.gettempdir()) / f"durable-agents-histories-{os.getpid()}"))
)
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
DATA = Path(__file__).parent / "data" / "histories"


@pytest.fixture(scope="session")
async def lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """One dev-server lab for the tests that only run workflows on it."""
    async with await Lab.start(
        "dev", ui=False, sandbox_root=tmp_path_factory.mktemp("sandbox"), replace_current=False
    ) as lab:
        yield lab
