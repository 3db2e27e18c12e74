"""A watchdog that kills server processes when the process that started them dies.

`WorkflowEnvironment.shutdown()` stops a server cleanly, but a Jupyter kernel that is restarted or
killed never gets to call it. The reaper is a child process holding the read end of a pipe: when
the parent dies for any reason, even `SIGKILL`, the pipe closes and the reaper kills the servers.

Each server is named by its pid *and* its start time: a pid is reused once its process is gone
(there are only 32,768 of them on Linux by default), and a watchdog that outlived its server must
not kill whatever process got the number next (on a busy machine, another lab's server).

Run as `python -m durable_agents.lab.reaper PID:START [PID:START ...]`; use `guard()` from Python.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import psutil


def ident(process: psutil.Process) -> str:
    """`pid:start-time`, which names one process for good."""
    return f"{process.pid}:{process.create_time()!r}"


def running(process: psutil.Process | int) -> bool:
    """Whether `process` (a process or a pid) still runs: not gone, and not a zombie.

    A process can end between two questions about it (`is_running()`, then `status()`), so one that
    has gone meanwhile counts as not running instead of raising `NoSuchProcess`."""
    try:
        proc = process if isinstance(process, psutil.Process) else psutil.Process(process)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def guard(processes: list[psutil.Process]) -> subprocess.Popen[bytes]:
    """Start a reaper for `processes`; closing its stdin (or dying) makes it kill them."""
    return subprocess.Popen(
        [sys.executable, "-m", "durable_agents.lab.reaper", *map(ident, processes)],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )


def same(idents: list[str]) -> list[psutil.Process]:
    """The processes `idents` name that still run, with the start time they had (never a reused pid)."""
    found = []
    for text in idents:
        pid, _, started = text.partition(":")
        with contextlib.suppress(psutil.NoSuchProcess, ValueError):
            proc = psutil.Process(int(pid))
            if not started or proc.create_time() == float(started):
                found.append(proc)
    return found


def reap(processes: list[psutil.Process], grace: float = 3) -> None:
    """Terminate `processes` and their children, then kill whatever is left after `grace` s (0: kill at once)."""
    procs: list[psutil.Process] = []
    for proc in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.is_running():  # psutil checks the start time too: a reused pid is not this process
                procs += [proc, *proc.children(recursive=True)]
    if grace:
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace) if grace else ([], procs)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


if __name__ == "__main__":
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
    reap(same(sys.argv[1:]))
