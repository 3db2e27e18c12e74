"""A run that may wait for people: start a `LongRunWorkflow`, ask what it waits on, answer it.

    job = await lab.start_long_run([call("delete_file", path="a.txt"), final("done")])
    calls = await job.wait_pending()              # what the run waits on (the `pending` query)
    await job.approve(calls[0].call_id)          # a person answers (the `answer` update)
    run = await job.result()                     # a `Run`, like `lab.run` gives

A client of the lab (the lab's own messages send users here), so it lives in the lab wing; the
workflow code is in `durable_agents.workflows`, notebook 08's drills in `lessons/long_running.py`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory

from durable_agents.history import store
from durable_agents.lab.errors import LabError
from durable_agents.lab.options import Script
from durable_agents.lab.run import Run
from durable_agents.workflows import DAY, LONG_RUN_AGENTS, Answer, LongRun, LongRunWorkflow, PendingCall

if TYPE_CHECKING:
    from durable_agents.lab.lab import Lab


@dataclass
class LongRunJob:
    """A `LongRunWorkflow` that is running: ask what it waits on, answer it, collect the outcome."""

    lab: Lab
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


async def start(
    lab: Lab,
    script: Script,
    prompt: str = "Do the task.",
    *,
    agent: str = "long_run",
    answer_within: float = DAY,
    on_timeout: Literal["deny", "approve"] = "deny",
    continue_as_new: bool = True,
    task_queue: str | None = None,
    timeout: float = 120,
) -> LongRunJob:
    """Start a `LongRunWorkflow` following `script`; `answer_within` seconds for a person to answer."""
    if agent not in LONG_RUN_AGENTS:
        raise LabError(f"LongRunWorkflow hosts {', '.join(LONG_RUN_AGENTS)}; run {agent!r} with lab.run(...).")
    wid, request = lab.request(script, prompt, agent=agent, timeout=timeout)
    job = LongRun(request, answer_within=answer_within, on_timeout=on_timeout, continue_as_new=continue_as_new)
    start = lab.client.start_workflow(
        LongRunWorkflow.run,
        job,
        id=wid,
        task_queue=task_queue or lab.task_queue,
        run_timeout=timedelta(seconds=timeout + answer_within),
    )
    handle = await lab.wait(start, f"Temporal to start run {wid}")
    lab._started[wid] = (handle, time.monotonic())
    return LongRunJob(lab, handle)
