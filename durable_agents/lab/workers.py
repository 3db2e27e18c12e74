"""Several worker processes on one task queue (notebook 06): start them, see them, stop them.

    pool = await WorkerPool.start(lab, 3)     # three interpreters, each with its own SDK client
    ...                                        # runs on `lab` are now spread over them
    pool.kill(pool.identities[0])              # a worker dies mid-run (SIGKILL)
    await pool.stop()                          # the rest stop cleanly (SIGTERM)

Each worker's stdin is a pipe from this process: if the kernel dies, the workers see it close and
stop, so no process is left behind. What a worker logs goes to `<sandbox root>/<identity>.log`.
Each is forked from a process that has imported the libraries already (`durable_agents.lab.forkserver`),
so that a worker polls within a second instead of three.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durable_agents.lab import forkserver

READY_TIMEOUT = 60.0


class WorkerStartError(RuntimeError):
    """A worker process exited before it polled: the message ends with the last lines of its log."""

    def __init__(self, identity: str, exit_code: int | None, log: Path) -> None:
        lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        tail = "\n".join(lines[-6:]) or "(its log is empty)"
        super().__init__(f"Worker {identity} did not start (exit code {exit_code}). The end of {log}:\n{tail}")


@dataclass
class WorkerPool:
    """Worker processes polling one lab's task queue, by identity."""

    processes: dict[str, forkserver.ForkedWorker] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    """Where each worker's output goes (`<sandbox root>/<identity>.log`)."""

    @property
    def identities(self) -> list[str]:
        return list(self.processes)

    @classmethod
    async def start(
        cls,
        lab: Any,
        count: int = 2,
        prefix: str = "worker",
        env: Mapping[str, str] | None = None,
        task_queue: str | None = None,
    ) -> WorkerPool:
        """Start `count` worker processes on `lab`'s task queue and wait until each one polls.

        `env` adds environment variables for the workers (e.g. a different retry policy);
        `task_queue` puts them on another queue than the lab's (beside the lab's own worker).
        """
        config = lab.client.service_client.config
        pool = cls()
        for n in range(1, count + 1):
            identity = f"{prefix}-{n}"
            pool.logs[identity] = lab.sandbox_root / f"{identity}.log"
            argv = [config.target_host, "--namespace", lab.client.namespace]
            argv += ["--task-queue", task_queue or lab.task_queue, "--identity", identity]
            pool.processes[identity] = forkserver.start_worker(argv, {**os.environ, **(env or {})}, pool.logs[identity])
        try:
            await asyncio.wait_for(asyncio.gather(*(pool._ready(i) for i in pool.processes)), READY_TIMEOUT)
        except BaseException:
            await pool.stop()
            raise
        return pool

    async def _ready(self, identity: str) -> None:
        process = self.processes[identity]
        line = await asyncio.to_thread(process.stdout.readline)
        if line.strip() != b"READY":
            await asyncio.to_thread(process.wait, 5)  # it is exiting: let it finish writing its log
            raise WorkerStartError(identity, process.poll(), self.logs[identity])

    def kill(self, identity: str) -> None:
        """Kill one worker at once (SIGKILL), as a crash would: it finishes nothing it holds."""
        process = self.processes.pop(identity)
        process.kill()
        process.wait()

    def kill_all(self) -> list[str]:
        """Kill every worker at once (SIGKILL), as a power cut would; returns who was killed."""
        killed = self.identities
        for identity in killed:
            self.kill(identity)
        return killed

    async def stop(self) -> None:
        """Stop every worker: SIGTERM, then SIGKILL after 10 s."""
        processes, self.processes = list(self.processes.values()), {}
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), 10)
            except TimeoutError:
                process.kill()
                process.wait()
            if process.stdin:
                process.stdin.close()
            if process.stdout:
                process.stdout.close()
