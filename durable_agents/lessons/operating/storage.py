"""Notebook 10, section 5: large payloads kept out of the history by the SDK's External Storage.

A data converter with `ExternalStorage` hands payloads over a threshold to a driver; `FolderDriver`
is one on disk (the SDK ships S3 and GCS ones), so the notebook measures it offline."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic_ai.durable_exec.temporal import PydanticAIPayloadConverter, PydanticAIPlugin
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter, ExternalStorage, StorageDriver, StorageDriverClaim

from durable_agents.lab.lab import Lab
from durable_agents.lab.worker import make_worker
from durable_agents.script import call, final

EXTERNAL_QUEUE = "durable-agents-external"
REFERENCE_TYPE = "temporal.api.sdk.v1.ExternalStorageReference"


class FolderDriver(StorageDriver):
    """An External Storage driver that keeps each large payload in a file of `folder`, named by its hash.

    The SDK calls `store` for every payload over the threshold before it leaves the process, and
    puts a small reference in its place; `retrieve` turns references back into payloads when a worker
    or client decodes them. (S3 and GCS drivers ship in `temporalio.contrib`; this is the same idea on disk.)
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def name(self) -> str:
        return "folder"

    async def store(self, context: Any, payloads: Sequence[Payload]) -> list[StorageDriverClaim]:
        claims = []
        for payload in payloads:
            data = payload.SerializeToString()
            key = hashlib.sha256(data).hexdigest()
            (self.folder / key).write_bytes(data)
            claims.append(StorageDriverClaim(claim_data={"key": key}))
        return claims

    async def retrieve(self, context: Any, claims: Sequence[StorageDriverClaim]) -> list[Payload]:
        payloads = []
        for claim in claims:
            payload = Payload()
            payload.ParseFromString((self.folder / claim.claim_data["key"]).read_bytes())
            payloads.append(payload)
        return payloads


async def external_client(lab: Lab, folder: Path, threshold: int = 10_000) -> Client:
    """A client of the lab's server whose data converter stores payloads over `threshold` bytes in `folder`."""
    converter = DataConverter(
        payload_converter_class=PydanticAIPayloadConverter,
        external_storage=ExternalStorage(drivers=[FolderDriver(folder)], payload_size_threshold=threshold),
    )
    config = lab.client.service_client.config
    return await Client.connect(
        config.target_host, namespace=lab.client.namespace, plugins=[PydanticAIPlugin()], data_converter=converter
    )


async def run_with_a_big_file(lab: Lab, client: Client, task_queue: str, size: int) -> WorkflowHistory:
    """Run `read_file` on a `size`-byte file then answer, through `client` on `task_queue`; the history."""
    wid, request = lab.request([call("read_file", path="big.txt"), final("Read it.")])
    Path(request.sandbox_dir).mkdir(parents=True, exist_ok=True)
    (Path(request.sandbox_dir) / "big.txt").write_text("x" * size)
    handle = await client.start_workflow(
        "DemoAgentWorkflow", request, id=wid, task_queue=task_queue, execution_timeout=timedelta(seconds=60)
    )
    await handle.result()
    return await client.get_workflow_handle(wid).fetch_history()


def references(history: WorkflowHistory) -> int:
    """How many payloads of a history are External Storage references (the data itself is elsewhere).

    Each reference is a payload whose metadata names `REFERENCE_TYPE`, wherever in an event it sits.
    """
    return sum(e.SerializeToString().count(REFERENCE_TYPE.encode()) for e in history.events)


async def external_storage_rows(lab: Lab, size: int = 200_000, threshold: int = 10_000) -> list[dict[str, Any]]:
    """The same run twice, a `size`-byte file read by a tool: inline (the lab's client), then with External Storage."""
    folder = lab.sandbox_root / "external-payloads" / uuid.uuid4().hex[:8]
    client = await external_client(lab, folder, threshold)
    inline = await run_with_a_big_file(lab, lab.client, lab.task_queue, size)
    async with make_worker(client, EXTERNAL_QUEUE, "external-worker"):
        external = await run_with_a_big_file(lab, client, EXTERNAL_QUEUE, size)
    stored = sorted(folder.iterdir())
    return [
        {"run": "inline", "history bytes": _size(inline), "references": references(inline), "bytes stored outside": 0},
        {
            "run": f"External Storage (over {threshold:,} bytes)",
            "history bytes": _size(external),
            "references": references(external),
            "bytes stored outside": sum(p.stat().st_size for p in stored),
        },
    ]


def _size(history: WorkflowHistory) -> int:
    return sum(e.ByteSize() for e in history.events)
