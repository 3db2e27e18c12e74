"""A watchdog that kills server processes when the process that started them dies.

`WorkflowEnvironment.shutdown()` stops a server cleanly, but a Jupyter kernel that is restarted or
killed never gets to call it. The reaper is a child process holding the read end of a pipe: when
the parent dies for any reason, even `SIGKILL`, the pipe closes and the reaper kills the servers.

Run as `python -m durable_agents.lab.reaper PID [PID ...]`; use `guard()` from Python.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

import psutil


def guard(pids: list[int]) -> subprocess.Popen[bytes]:
    """Start a reaper for `pids`; closing its stdin (or dying) makes it kill them."""
    return subprocess.Popen(
        [sys.executable, "-m", "durable_agents.lab.reaper", *map(str, pids)],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )


def reap(pids: list[int], grace: float = 3) -> None:
    """Terminate `pids` and their children, then kill whatever is left after `grace` s (0: kill at once)."""
    procs: list[psutil.Process] = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            procs += [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
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
    reap([int(p) for p in sys.argv[1:]])
