"""The lab: a Temporal server, a worker and a client, started from one notebook cell.

    lab = await Lab.start()                 # Temporal CLI dev server (in memory) + Web UI
    run = await lab.run([final("hi")])      # one durable agent run, with a unique workflow id
    run.diagram()                           # its Temporal history, drawn
    await lab.stop()                        # or just start again: the previous lab is stopped first

Kinds: `"dev"` (the CLI dev server, default), `"time-skipping"` (the test server: timers skipped,
no parent-close policies, a timed-out activity given up after one attempt) and `"existing"` (a
server you run, configured as the Temporal CLI is). `Lab` is the front door: what `start` checks is
in `startup`, the lab's running parts (and how a cell waits on them) in `serving`, a run's options
in `options`, following a run in `following`, a run that waits for people in `long_run`.
Re-running a set-up cell stops the lab it started before; a lab with `name=` replaces its namesake.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from durable_agents.agent import STREAMING_AGENTS, hosted
from durable_agents.lab import startup, web_ui
from durable_agents.lab.errors import LabError
from durable_agents.lab.exit import freeze_heap
from durable_agents.lab.following import Operator, collect, watching
from durable_agents.lab.long_run import LongRunJob
from durable_agents.lab.options import RunOptions, Script
from durable_agents.lab.run import Run, RunFailed
from durable_agents.lab.servers import Server
from durable_agents.lab.serving import Serving
from durable_agents.lab.startup import Kind
from durable_agents.lab.worker import make_worker
from durable_agents.workflows import (
    AGENTS,
    DAY,
    LONG_RUN_AGENTS,
    AgentRequest,
    DemoAgentWorkflow,
    LongRun,
    LongRunWorkflow,
)

TASK_QUEUE = "durable-agents"
SANDBOX_ROOT = Path(".sandbox")
T = TypeVar("T")


@dataclass(eq=False)
class Lab:
    """A Temporal server, an in-process worker for the demo workflows, and what follows their runs."""

    serving: Serving
    """Its server, its in-process worker, its log and its watchdog."""
    kind: Kind
    task_queue: str
    sandbox_root: Path
    name: str | None = None
    """The name it was started with (`Lab.start(name=...)`): a later lab of that name replaces it."""
    last: Run | None = None
    """The most recent run, failed or not."""
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _started: dict[str, tuple[WorkflowHandle[Any, Any], float]] = field(default_factory=dict)
    """The runs this lab started and nobody followed yet: their handles (a time-skipping server skips time
    only for a handle it gave out) and when they started."""

    current: ClassVar[Lab | None] = None
    """The lab this process started last; `Lab.start()` stops it first."""
    named: ClassVar[dict[str, Lab]] = {}
    """The running labs this process started with a name; `Lab.start(name=...)` stops its namesake first."""

    @classmethod
    async def start(
        cls,
        kind: Kind = "dev",
        *,
        port: int | None = None,
        ui: bool = True,
        ui_port: int | None = None,
        task_queue: str = TASK_QUEUE,
        sandbox_root: str | Path = SANDBOX_ROOT,
        profile: str | None = None,
        quiet: bool = True,
        replace_current: bool = True,
        name: str | None = None,
        in_process_worker: bool = True,
        db: str | Path | None = None,
        suggest_continue_as_new_after: int | None = None,
    ) -> Lab:
        """Start (or connect to) a Temporal server and a worker; stops this process's previous lab first.

        `port`/`ui_port` default to free ports. `profile` picks a Temporal CLI profile for `"existing"`.
        `quiet` sends the SDK's logs (tracebacks of failures caused on purpose, retried connections)
        to `worker.log` in `sandbox_root`, beside the server's log, instead of into the notebook.
        `replace_current=False` starts a lab beside the current one; `name="fast"` starts one beside it
        too, and stops this process's previous lab of that name first (so a set-up cell that starts
        several labs can be run again); `in_process_worker=False` leaves the work to worker processes
        (`WorkerPool`). `db` (dev server only) keeps the server's runs in that SQLite file, so a lab
        started later with the same file (after a kernel restart, or a server that died) sees them
        again and carries on those still running.
        `suggest_continue_as_new_after=N` makes the dev server suggest continue-as-new once a history
        has N events (its default is 4,096 events or 4 MB), so a notebook can watch it happen.
        """
        startup.check_name(name)
        replaces = cls._replaced(name, replace_current)
        plan = await startup.check(
            kind, sandbox_root=sandbox_root, db=db, port=port, ui=ui, ui_port=ui_port, profile=profile,
            held=replaces.serving.ports() if replaces is not None else set(),
            suggest_continue_as_new_after=suggest_continue_as_new_after,
        )  # fmt: skip
        if replaces is not None:
            await replaces.stop()
        lab = cls(await plan.launch(task_queue, in_process_worker=in_process_worker, quiet=quiet), kind, task_queue,
                  plan.sandbox, name)  # fmt: skip
        if name is not None:
            cls.named[name] = lab
        elif replace_current:
            cls.current = lab
        freeze_heap()  # the libraries are loaded: a kernel's exit need not collect them (see there)
        if lab.ui_url:
            print(f"Temporal Web UI: {lab.ui_url}")
        return lab

    @classmethod
    def _replaced(cls, name: str | None, replace_current: bool) -> Lab | None:
        """The lab a new one replaces: its namesake if it has a name, else the current lab (if asked)."""
        if name is not None:
            return cls.named.get(name)
        return cls.current if replace_current else None

    @property
    def server(self) -> Server:
        return self.serving.server

    @property
    def worker(self) -> Worker | None:
        """The in-process worker (None when `Lab.start(in_process_worker=False)`: other processes work)."""
        return self.serving.worker

    @property
    def identity(self) -> str:
        return self.serving.identity

    @property
    def client(self) -> Client:
        return self.server.env.client

    @property
    def ui_url(self) -> str | None:
        return self.server.ui_url

    def new_workflow_id(self, agent: str = "demo") -> str:
        """A workflow id that no earlier run used: `<agent>-<n>-<random>`."""
        return f"{agent}-{next(self._counter):03d}-{uuid.uuid4().hex[:6]}"

    def request(
        self,
        script: Script | None = None,
        prompt: str = "Do the task.",
        *,
        workflow_id: str | None = None,
        **options: Any,
    ) -> tuple[str, AgentRequest]:
        """A fresh workflow id and the workflow input for one run (`options`: see `RunOptions`).

        The run's sandbox folder is `sandbox_root / <workflow id>`; `start_run()` makes it when the workflow starts.
        """
        __tracebackhide__ = True  # a bad script's traceback shows the reader's cell, not the lab's frames
        chosen = RunOptions.of(options)
        wid = workflow_id or self.new_workflow_id(chosen.agent)
        return wid, chosen.request(script, prompt, self.sandbox_root / wid)

    async def run(
        self,
        script: Script | None = None,
        prompt: str = "Do the task.",
        *,
        check: bool = True,
        cancel_after: float | None = None,
        terminate_after: float | None = None,
        after_tool: str | None = None,
        live: bool = False,
        on_start: Callable[[WorkflowHandle[Any, str]], None] | None = None,
        **options: Any,
    ) -> Run:
        """Run the demo workflow once and collect its histories (`options`: see `RunOptions`).

        `cancel_after` / `terminate_after` cancel or terminate the workflow that many seconds after it
        starts, as an operator would (`parent_close=` says what its subagents do then); with
        `after_tool="slow"`, that many seconds after a call of that tool is first scheduled in the run. Raises
        `RunFailed` (with `.run`) when the workflow does not complete, unless `check=False`. Histories
        are fetched once every child workflow has closed too. `live=True` draws the graph in the cell's
        output while the run goes; `on_start` is called with the workflow's handle once Temporal has
        accepted it (the demo command follows the run and cancels it on Ctrl-C through it).
        """
        __tracebackhide__ = True
        handle = await self.start_run(script, prompt, **options)
        if on_start is not None:
            on_start(handle)
        topic = STREAMING_AGENTS.get(options.get("agent", "demo"))
        operator = Operator(cancel_after, terminate_after, after_tool)
        async with watching(self.client, handle, operator, live=live, stream_topic=topic) as (streamed, view):
            run = await self.follow(handle.id, check=False)
        run.streamed = streamed
        if view is not None:
            view.finish(run.history_json)
        if run.error is not None and check:
            raise RunFailed(run)
        return run

    async def start_run(
        self,
        script: Script | None = None,
        prompt: str = "Do the task.",
        *,
        task_queue: str | None = None,
        **options: Any,
    ) -> WorkflowHandle[Any, str]:
        """Start a run and return at once, with its handle; `follow(handle.id)` waits for it (notebook 07).

        `task_queue` sends it to other workers than the lab's (a worker process with the reader's code)."""
        __tracebackhide__ = True
        self.serving.require_running()
        chosen = RunOptions.of(options)
        if chosen.agent in LONG_RUN_AGENTS:
            raise LabError(
                f"Agent {chosen.agent!r} runs in LongRunWorkflow (it may wait for a person): start it with "
                "`job = await lab.start_long_run(script)`."
            )
        if task_queue is None:
            await self._host(chosen)
        wid = self.new_workflow_id(chosen.agent)
        request = chosen.request(script, prompt, self.sandbox_root / wid)  # as `request` does, options checked once
        start = self.client.start_workflow(
            DemoAgentWorkflow.run, request, id=wid, task_queue=task_queue or self.task_queue,
            execution_timeout=timedelta(seconds=chosen.timeout), task_timeout=timedelta(seconds=chosen.task_timeout),
        )  # fmt: skip
        return await self._begin(wid, start)

    async def start_long_run(
        self,
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
        """Start a `LongRunWorkflow` (an agent that may wait for people) following `script`.

        `answer_within` seconds for a person to answer (then `on_timeout` decides); `timeout` is the
        agent's own time besides; `continue_as_new=False` keeps one history however long it grows.
        """
        __tracebackhide__ = True
        self.serving.require_running()
        if agent not in LONG_RUN_AGENTS:
            raise LabError(f"LongRunWorkflow hosts {', '.join(LONG_RUN_AGENTS)}; run {agent!r} with lab.run(...).")
        wid, request = self.request(script, prompt, agent=agent, timeout=timeout)
        job = LongRun(request, answer_within=answer_within, on_timeout=on_timeout, continue_as_new=continue_as_new)
        start = self.client.start_workflow(
            LongRunWorkflow.run, job, id=wid, task_queue=task_queue or self.task_queue,
            run_timeout=timedelta(seconds=timeout + answer_within),
        )  # fmt: skip
        return LongRunJob(self, await self._begin(wid, start))

    async def _host(self, chosen: RunOptions) -> None:
        """Build the agents the run asks for that are built on first use (the MCP agent), and remake
        the in-process worker so it registers their activities (~0.1 s; the libraries' import, 1–2 s, once)."""
        asked = {chosen.agent, *(role.agent for role in (chosen.roster or {}).values())}
        late = sorted(name for name in asked if name not in AGENTS and name not in self.serving.agents)
        for name in late:
            hosted(name)
        if late and self.serving.worker is not None:
            remake = functools.partial(make_worker, self.client, self.task_queue, self.identity)
            await self.wait(self.serving.replace_worker(remake), "the lab's worker")

    async def _begin(self, wid: str, start: Awaitable[WorkflowHandle[Any, str]]) -> WorkflowHandle[Any, str]:
        """Wait for Temporal to start run `wid` (its sandbox folder made first); keep its handle for `follow`."""
        __tracebackhide__ = True
        sandbox = self.sandbox_root / wid
        sandbox.mkdir(parents=True, exist_ok=True)
        try:
            handle = await self.wait(start, f"Temporal to start run {wid}")
        except (LabError, asyncio.CancelledError):
            raise
        except Exception as exc:
            with contextlib.suppress(OSError):
                sandbox.rmdir()  # nothing ran: leave no empty folder behind
            raise LabError(f"Temporal refused to start the run {wid}: {exc}") from None
        self._started[wid] = (handle, time.monotonic())
        return handle

    async def follow(self, workflow_id: str, *, check: bool = True, save: bool = True) -> Run:
        """Wait for a run to close, then collect its histories (see `run`); any run of this lab's server.

        `save=False` keeps the histories out of `$DURABLE_AGENTS_HISTORY_DIR`: for a run made by a
        changed version of the workflow (notebook 07), which today's code is not meant to replay.
        """
        __tracebackhide__ = True
        self.serving.require_running()
        handle, started = self._started.get(
            workflow_id, (self.client.get_workflow_handle(workflow_id), time.monotonic())
        )
        sandbox = self.sandbox_root / workflow_id
        collecting = collect(self.client, handle, sandbox, started, save=save)
        run = await self.wait(collecting, f"run {workflow_id}", run_id=workflow_id)
        self._started.pop(workflow_id, None)
        run.ui_url = self.run_url(workflow_id)
        self.last = run
        if run.error is not None and check:
            raise RunFailed(run)
        return run

    async def cancel(self, workflow_id: str) -> None:
        """Ask a run to stop, as an operator would (its history records the cancel)."""
        self.serving.require_running()
        await self.wait(self.client.get_workflow_handle(workflow_id).cancel(), f"cancelling {workflow_id}")

    def run_url(self, workflow_id: str) -> str | None:
        """The Web UI page of a run (None without a Web UI)."""
        return web_ui.run_page(self.ui_url, self.client.namespace, workflow_id)

    async def wait(self, awaitable: Awaitable[T], what: str, run_id: str | None = None) -> T:
        """Await `awaitable` on this lab's server: fail at once if the server goes, say it in a line if interrupted.

        `what` names what was awaited; `run_id` the run that goes on on the server without the cell.
        """
        __tracebackhide__ = True
        return await self.serving.wait(awaitable, what, run_id)

    async def stop(self) -> None:
        """Stop the worker and the server; safe to call twice."""
        await self.serving.stop()
        if Lab.current is self:
            Lab.current = None
        if self.name is not None and Lab.named.get(self.name) is self:
            del Lab.named[self.name]

    async def __aenter__(self) -> Lab:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        state = "running" if self.serving.running else "stopped"
        ui = f", ui={self.ui_url}" if self.ui_url else ""
        name = f" {self.name!r}" if self.name else ""
        return f"<Lab {self.kind}{name} {state}, task_queue={self.task_queue!r}{ui}>"
