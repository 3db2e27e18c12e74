"""Several worker processes on one task queue (notebook 06): start them, see them, stop them.

    pool = await WorkerPool.start(lab, 3)     # three interpreters, each with its own SDK client
    ...                                        # runs on `lab` are now spread over them
    pool.kill(pool.identities[0])              # a worker dies mid-run (SIGKILL)
    await pool.stop()                          # the rest stop cleanly (SIGTERM)

Each worker's stdin is a pipe from this process: if the kernel dies, the workers see it close and
stop, so no process is left behind. What a worker logs goes to `<sandbox root>/<identity>.log`.
Each is forked from a process that has imported the libraries already (`durable_agents.lab.forkserver`),
so that a worker polls within a second instead of three: the workbook's own worker, or a program the
reader wrote (`program=`, run as `python program ADDRESS TASK_QUEUE IDENTITY` would run it). A reader's
program does not watch its stdin, so a watchdog process (`durable_agents.lab.reaper`) stops it if the
kernel dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, ResetStickyTaskQueueRequest
from temporalio.client import Client

from durable_agents.lab import forkserver, reaper

READY_TIMEOUT = 60.0


class WorkerStartError(RuntimeError):
    """A worker process exited before it polled: the message ends with the last lines of its log."""

    def __init__(self, identity: str, exit_code: int | None, log: Path, why: str = "") -> None:
        if why:
            super().__init__(f"Worker {identity} started, but {why}.")
            return
        lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        tail = "\n".join(lines[-6:]) or "(its log is empty)"
        super().__init__(f"Worker {identity} did not start (exit code {exit_code}). The end of {log}:\n{tail}")


def _still_running(processes: Iterable[forkserver.ForkedWorker]) -> list[psutil.Process]:
    """The processes that still run. A reader's program that fails at once (a starter file, a syntax
    error) is gone within milliseconds of its fork: it needs no watchdog, and its wait says why it ended."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            running.append(psutil.Process(process.pid))
    return running


async def forget_sticky(client: Client, workflow_id: str) -> None:
    """Tell the server that the worker which ran `workflow_id`'s last workflow task may be gone (killed).

    The server sends a workflow's next task to that worker's own (sticky) queue first; a killed worker
    never takes it, so it waits there for the worker's sticky timeout (the SDK's default, 10 s, in a
    reader's `Worker`) before it times out and any worker may take it. A worker that stops cleanly
    says so itself; after a kill, this does it for the dead one (Temporal's `ResetStickyTaskQueue`):
    the next task goes to the shared queue at once, and whichever worker takes it replays the history.
    """
    execution = WorkflowExecution(workflow_id=workflow_id)
    request = ResetStickyTaskQueueRequest(namespace=client.namespace, execution=execution)
    await client.workflow_service.reset_sticky_task_queue(request)


async def last_polls(client: Client, task_queue: str) -> dict[str, int]:
    """When the server last heard from each poller of `task_queue`'s workflow tasks (ns since the epoch),
    by identity: it lists a poller it has heard from in the last few minutes, alive or not."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    response = await client.workflow_service.describe_task_queue(request)
    return {p.identity: p.last_access_time.ToNanoseconds() for p in response.pollers}


@dataclass
class WorkerPool:
    """Worker processes polling one lab's task queue, by identity."""

    processes: dict[str, forkserver.ForkedWorker] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    """Where each worker's output goes (`<sandbox root>/<identity>.log`)."""
    _watchdog: subprocess.Popen[bytes] | None = None

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
        program: str | Path | None = None,
    ) -> WorkerPool:
        """Start `count` worker processes on `lab`'s task queue and wait until each one polls.

        `env` adds environment variables for the workers (e.g. a different retry policy);
        `task_queue` puts them on another queue than the lab's (beside the lab's own worker);
        `program` runs that Python file as each worker, with the arguments `ADDRESS TASK_QUEUE IDENTITY`.
        """
        address, queue = lab.client.service_client.config.target_host, task_queue or lab.task_queue
        if program is not None and not Path(program).is_file():
            raise FileNotFoundError(f"No worker program {program}: write it first (its %%writefile cell).")
        pool = cls()
        # What the server remembers of earlier pollers (a killed worker's stays listed for minutes), so
        # that a program counts as polling only once the server hears from it (`_polling`).
        earlier = await last_polls(lab.client, queue) if program is not None else {}
        for n in range(1, count + 1):
            identity = f"{prefix}-{n}"
            argv = [address, "--namespace", lab.client.namespace, "--task-queue", queue, "--identity", identity]
            pool.logs[identity] = lab.sandbox_root / f"{identity}.log"
            if program is None:  # ours: forked from a process that has the libraries imported already
                pool.processes[identity] = forkserver.start_worker(
                    argv, {**os.environ, **(env or {})}, pool.logs[identity]
                )
            else:  # a reader's program, forked from the same process, run as `python program ADDRESS QUEUE IDENTITY`
                pool.processes[identity] = forkserver.start_program(
                    [str(program), address, queue, identity], {**os.environ, **(env or {})}, pool.logs[identity]
                )
        if program is not None:
            pool._watchdog = reaper.guard(_still_running(pool.processes.values()))
        ready = pool._ready if program is None else functools.partial(pool._polling, lab.client, queue, earlier)
        try:
            await asyncio.wait_for(asyncio.gather(*(ready(i) for i in pool.processes)), READY_TIMEOUT)
        except TimeoutError:
            await pool.stop()
            raise TimeoutError(f"No worker polled {queue} within {READY_TIMEOUT:.0f} s; see {pool.logs}.") from None
        except BaseException:
            await pool.stop()
            raise
        return pool

    async def _polling(self, client: Client, task_queue: str, earlier: Mapping[str, int], identity: str) -> None:
        """Wait until the server lists `identity` among `task_queue`'s workflow pollers (a reader's program).

        The server keeps a poller listed for minutes after its worker is gone, so a dead worker of
        the same identity (a pool started again after a kill) is still there: the new one polls once
        that identity's last poll is later than any the server had seen (`earlier`) before it started.
        A program that polls under another identity (no `identity=` given to its `Worker`, so the
        SDK's `PID@host`) gets an error that says so.
        """
        process = self.processes[identity]
        while process.poll() is None:
            pollers = await last_polls(client, task_queue)
            if pollers.get(identity, -1) > earlier.get(identity, -1):
                return
            if other := next((p for p in pollers if p.startswith(f"{process.pid}@")), None):
                raise WorkerStartError(
                    identity, None, self.logs[identity],
                    f"it polls as {other!r}: give its Worker(...) identity=sys.argv[3], the third argument",
                )  # fmt: skip
            await asyncio.sleep(0.2)
        raise WorkerStartError(identity, process.returncode, self.logs[identity])

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
        if self._watchdog is not None:
            # The workers it guarded are gone: end it without letting it reap their (maybe reused) pids.
            self._watchdog.kill()
            await asyncio.to_thread(self._watchdog.wait)
            if self._watchdog.stdin:
                self._watchdog.stdin.close()
            self._watchdog = None
