"""The sandbox keeps every file tool inside its run's folder."""

from __future__ import annotations

import pytest

from durable_agents.capabilities import sandbox_path
from durable_agents.errors import ToolValidationError


def test_relative_paths_stay_inside(tmp_path):
    assert sandbox_path(tmp_path, "notes/a.txt") == (tmp_path / "notes" / "a.txt").resolve()
    assert sandbox_path(tmp_path, "notes/../b.txt") == (tmp_path / "b.txt").resolve()


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../x", "", ".", "notes/../../../etc"])
def test_escaping_paths_are_refused_with_a_model_visible_error(tmp_path, path):
    with pytest.raises(ToolValidationError, match=r"outside the sandbox\. Use a relative path"):
        sandbox_path(tmp_path, path)


def test_a_symlink_out_of_the_sandbox_is_refused(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(ToolValidationError):
        sandbox_path(root, "link/secret.txt")
