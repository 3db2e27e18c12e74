"""Worker processes forked from a warm interpreter, so that each starts in well under a second.

A worker process spends most of its start importing pydantic-ai, the model SDKs and temporalio
(~2 s of its ~2.5 s on a quiet 2-core machine). One server process imports them once
(`multiprocessing`'s fork server, started at the first worker or by `warm_up()`), and each worker
is a fork of it: it then imports only this package, with its own environment, connects and polls.

Only third-party modules are preloaded (`PRELOAD`): the package reads some variables when it is
imported (`DURABLE_AGENTS_FAULT_ATTEMPTS`, `DURABLE_AGENTS_YOUR_TOOLS`), and each worker is given
its own. The server holds no SDK runtime and no thread when it forks. A worker is its own session,
its stdin and stdout are pipes from this process (it stops when stdin closes), its stderr is its log,
as for `subprocess.Popen`, whose part `WorkerPool` uses `ForkedWorker` offers.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

from durable_agents import upstream

PRELOAD = [
    "dotenv",
    "genai_prices.data",
    "pydantic_ai.durable_exec.temporal",
    "pydantic_ai.models.function",
    "pydantic_ai.models.ollama",
    "pydantic_ai.models.openai",
    "pydantic_ai.models.test",
    "pydantic_ai_harness.ask_user",
    "pydantic_ai_harness.code_mode",
    "pydantic_ai_harness.compaction",
    "psutil",
    "temporalio.client",
    "temporalio.worker",
    *upstream.PRELOAD,
]
"""What the fork server imports: every third-party module `durable_agents.lab.worker` needs with no API
key set (tests/test_forkserver.py checks that it imports nothing else but this package). A worker given
a key imports that provider's SDK as it starts (`live.servable`): Anthropic's would add ~1.3 s to the
server's ~1.7 s, which the first worker pool of a notebook waits for."""

_CONTEXT = multiprocessing.get_context("forkserver")


def warm_up() -> None:
    """Start the fork server (if it is not running), so that it imports `PRELOAD` while this process
    does something else (~10 ms here; its imports take ~1.7 s there). `start_worker` calls it; a notebook
    that starts worker processes calls it first thing in its set-up cell, so the server imports while the
    kernel does. It stops when this process exits."""
    from multiprocessing import forkserver

    _CONTEXT.set_forkserver_preload(PRELOAD)
    with upstream.helpers_in_own_session():  # out of a kernel's process group: see there why
        forkserver.ensure_running()


def is_ours(cmdline: Sequence[str]) -> bool:
    """Whether a process with this command line is our fork server or a worker forked from it (a fork
    keeps its parent's command line), so that `cleanup.reset()` finds what a kernel left."""
    return any("multiprocessing.forkserver" in arg and repr(PRELOAD) in arg for arg in cmdline)


class ForkedWorker:
    """A worker process forked from the server: the part of `subprocess.Popen` that `WorkerPool` uses."""

    def __init__(self, process: multiprocessing.process.BaseProcess, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self._process = process
        self.stdin = stdin
        self.stdout = stdout

    @property
    def pid(self) -> int:
        return self._process.pid  # type: ignore[return-value]

    @property
    def returncode(self) -> int | None:
        """The exit code, or minus the signal that ended it, as `Popen` says; None while it runs."""
        return self._process.exitcode

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            self._process.kill()


def start_worker(argv: Sequence[str], env: Mapping[str, str], log: Path) -> ForkedWorker:
    """Fork `python -m durable_agents.lab.worker *argv` with environment `env`, its stderr going to `log`
    (its stdout is a pipe to this process, on which it says READY)."""
    return _fork(list(argv), env, log, None)


def start_program(command: Sequence[str], env: Mapping[str, str], log: Path) -> ForkedWorker:
    """Fork what `python *command` would run, `PROGRAM.py ARG ...` (in the program's folder) or
    `-m MODULE ARG ...`, with environment `env`, its stdout and stderr going to `log`.

    A reader's worker program then starts in a fraction of a second instead of the ~2.5 s a new
    interpreter spends importing the libraries it uses."""
    if command[0] == "-m":
        return _fork(list(command[2:]), env, log, ("module", command[1]))
    return _fork(list(command[1:]), env, log, ("path", str(Path(command[0]).resolve())))


def _fork(argv: list[str], env: Mapping[str, str], log: Path, main: tuple[str, str] | None) -> ForkedWorker:
    warm_up()
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    ends = Connection(stdin_r, writable=False), Connection(stdout_w, readable=False)
    # daemon: at exit, multiprocessing stops the workers (SIGTERM) instead of waiting for them.
    process = _CONTEXT.Process(target=_run, args=(argv, dict(env), str(log), *ends, main), daemon=True)
    # multiprocessing re-runs this process's main module in the child (as `__mp_main__`), in case the
    # target lives there: a notebook kernel's is harmless, but a script's or a command's would
    # import the package before the child has its environment (or, unguarded, run again). The
    # worker needs nothing from it, so the child is shown an empty one.
    try:
        with upstream.main_module_hidden():
            process.start()
    finally:
        for end in ends:
            end.close()  # the child has its own copies
    return ForkedWorker(process, open(stdin_w, "wb", buffering=0), open(stdout_r, "rb"))


def _run(
    argv: list[str],
    env: dict[str, str],
    log: str,
    stdin: Connection,
    stdout: Connection,
    main: tuple[str, str] | None,
) -> None:
    """In the forked child: become a worker process as `subprocess.Popen(start_new_session=True)` would start it.

    A program's stdout goes to its log, as its stderr does: nobody reads the pipe, and a program that
    printed more than the pipe holds would wait forever. Only our worker (`main` None) says READY on it."""
    os.setsid()
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    printed_to = stdout.fileno() if main is None else log_fd
    for source, target in ((stdin.fileno(), 0), (printed_to, 1), (log_fd, 2)):
        os.dup2(source, target)
    stdin.close()
    stdout.close()
    os.close(log_fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's own streams, open until it exits)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)  # multiprocessing has made the working directory and sys.path this process's
    from durable_agents.lab.exit import exit_now

    if main is not None:
        exit_now(lambda: _run_main(*main, argv))
    from durable_agents.lab import worker

    exit_now(lambda: worker.main(argv))


def _run_main(kind: str, main: str, argv: list[str]) -> None:
    """Run `main` as `python main *argv` (kind "path", started in the file's folder: that folder first on
    `sys.path`) or `python -m main *argv` (kind "module") would: its arguments in `sys.argv`, as `__main__`."""
    sys.argv = [main, *argv]
    if kind == "module":
        runpy.run_module(main, run_name="__main__", alter_sys=True)
        return
    folder = os.path.dirname(main)
    os.chdir(folder)
    sys.path.insert(0, folder)
    runpy.run_path(main, run_name="__main__")
