"""How the notebooks run as tests (this file is at the root so that it also applies to
`uv run pytest notebooks/NN_x.ipynb`: a conftest under `tests/` reaches only the items under it).

Each numbered notebook is one test item (`tests/notebook_items.py`): it runs in a fresh kernel, the
Web UI links it showed are checked while that kernel lives, and the histories it wrote are replayed,
all on whichever xdist worker ran it, with no ordering between items to keep. Importing this sets
`$DURABLE_AGENTS_HISTORY_DIR` for the whole session; each notebook writes to a folder of its own
under it.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from durable_agents.history.store import HISTORY_DIR_ENV
from tests.notebook_items import NotebookFile

os.environ.setdefault(HISTORY_DIR_ENV, str(Path(tempfile.gettempdir()) / f"durable-agents-histories-{os.getpid()}"))
NUMBERED = re.compile(r"^\d\d_\w+\.ipynb$")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> NotebookFile | None:
    if file_path.parent.name == "notebooks" and NUMBERED.match(file_path.name):
        return NotebookFile.from_parent(parent, path=file_path)
    return None
