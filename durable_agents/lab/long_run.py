"""A run that may wait for people: start a `LongRunWorkflow`, ask what it waits on, answer it.

    job = await lab.start_long_run([call("delete_file", path="a.txt"), final("done")])
    calls = await job.wait_pending()              # what the run waits on (the `pending` query)
    await job.approve(calls[0].call_id)          # a person answers (the `answer` update)
    run = await job.result()                     # a `Run`, like `lab.run` gives

`Lab.start_long_run` starts one and hands back a `LongRunJob`; the workflow code is in
`durable_agents.workflows`, notebook 08's drills in `lessons/long_running.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory

from durable_agents.history import store
from durable_agents.lab.run import Run
from durable_agents.workflows import Answer, LongRunWorkflow, PendingCall

T = TypeVar("T")


class Host(Protocol):
    """What a long run needs of the lab that started it (a `Lab`)."""

    @property
    def client(self) -> Client: ...

    def wait(self, awaitable: Awaitable[T], what: str, run_id: str | None = None) -> Awaitable[T]: ...

    def follow(self, workflow_id: str, *, check: bool = True) -> Awaitable[Run]: ...


@dataclass
class LongRunJob:
    """A `LongRunWorkflow` that is running: ask what it waits on, answer it, collect the outcome."""

    lab: Host
    handle: WorkflowHandle[Any, str]

    @property
    def workflow_id(self) -> str:
        return self.handle.id

    async def pending(self) -> list[PendingCall]:
        """The calls the run waits on now (the workflow's `pending` query)."""
        return await self.lab.wait(
            self.handle.query(LongRunWorkflow.pending), f"the pending calls of {self.workflow_id}"
        )

    async def wait_pending(self, timeout: float = 30) -> list[PendingCall]:
        """Poll `pending` until the run waits on something; raise if it ends or `timeout` passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if calls := await self.pending():
                return calls
            if (await self.handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                raise RuntimeError(f"{self.workflow_id} ended without waiting for anyone.")
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.workflow_id} waited on no call within {timeout} s.")

    async def answer(self, answer: Answer) -> str:
        """Send one answer (the `answer` update); returns what the workflow decided, or raises
        `WorkflowUpdateFailedError` with the validator's reason."""
        return await self.lab.wait(self.handle.execute_update(LongRunWorkflow.answer, answer), "the answer to be taken")

    async def approve(self, call_id: str) -> str:
        return await self.answer(Answer(call_id, approve=True))

    async def deny(self, call_id: str, reason: str = "") -> str:
        return await self.answer(Answer(call_id, approve=False, reason=reason))

    async def choose(self, call_id: str, **choices: str | list[str]) -> str:
        """Answer an `ask_user_question` call: header=label (or a list of labels)."""
        picked = {h: [v] if isinstance(v, str) else list(v) for h, v in choices.items()}
        return await self.answer(Answer(call_id, choices=picked))

    async def signal(self, answer: Answer) -> None:
        """The same answer as a signal: accepted by the server whatever it says."""
        await self.handle.signal(LongRunWorkflow.answer_signal, answer)

    async def result(self, check: bool = True) -> Run:
        """Wait for the run (following continue-as-new) and collect its latest history as a `Run`."""
        return await self.lab.follow(self.workflow_id, check=check)

    async def chain(self) -> list[WorkflowHistory]:
        """The history of every run in the continue-as-new chain, first run first."""
        return await store.fetch_chain(self.lab.client, self.workflow_id)
