"""Links into the Temporal Web UI, built in one place: the lab's `run_url` and the demo's links agree."""

from __future__ import annotations

from urllib.parse import quote


def run_page(ui_url: str | None, namespace: str, workflow_id: str) -> str | None:
    """A run's page in the Web UI at `ui_url` (None without a Web UI); the id is quoted, `/` and all."""
    if not ui_url:
        return None
    return f"{ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"
