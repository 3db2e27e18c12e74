"""Every `python` block in README.md and docs/reference-map.md runs, so the documents cannot rot.

A document's blocks run top to bottom in one namespace, as cells of a notebook do, with top-level
`await` (the README's `lab = await Lab.start()`), in a temporary folder so their sandboxes land there.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCUMENTS = ("README.md", "docs/reference-map.md")
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(document: str) -> list[str]:
    return BLOCK.findall((ROOT / document).read_text())


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_every_python_block_runs(document: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(document)
    assert blocks, f"{document} has no python block: did the fence change?"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__document__"}
    try:
        for number, block in enumerate(blocks, start=1):
            where = f"{document}, python block {number}"
            linecache.cache[where] = (len(block), None, block.splitlines(keepends=True), where)  # tracebacks show it
            result = eval(compile(block, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
            if inspect.iscoroutine(result):
                await result
    finally:
        lab = namespace.get("lab")
        if lab is not None and getattr(lab, "_running", False):
            await lab.stop()  # type: ignore[attr-defined]


def test_the_reference_map_covers_the_reference_designs_names():
    """The names the reference design's README uses and this package does not have are each answered."""
    text = (ROOT / "docs/reference-map.md").read_text()
    for name in ("build_capabilities(run_durable_subagent)", "DemoDeps", "NotesCapability", "sandbox_path",
                 "tool_activity_config", "run_ptc", "TemporalAgent"):  # fmt: skip
        assert name in text, name
