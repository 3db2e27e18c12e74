"""The server dies too (notebook 07): a run's progress lives in the server's database, not in the server.

    handle = await lab.start_run(script)                 # on a lab started with db="...": a SQLite file
    crash = await kill_server(lab, handle.id)            # the server (and its workers) die mid-tool
    lab = await Lab.start(in_process_worker=False, db=DB) # a new server on the same file
    pool = await WorkerPool.start(lab, 1)
    run = await crash.finish(lab)                        # the run carries on, and ends

What `crash.rows()` reports is read from the history: how many events the run had when the server
died (all of which the new worker replays), what came after, and how the tool in flight resumed.
With the in-memory default there is nothing to come back to: a new server starts empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from durable_agents.lab.lab import Lab
from durable_agents.lab.run import Run
from durable_agents.lab.workers import WorkerPool


@dataclass
class ServerCrash:
    """A run whose server was killed: what its history held then, and (after `finish`) how it ended."""

    workflow_id: str
    events_at_crash: int
    same_ports: dict[str, int] = field(default_factory=dict)
    """`port` and `ui_port` of the dead server: `Lab.start(..., **crash.same_ports)` brings the new one up
    where the old one was, so every Web UI link printed before the crash works again."""
    run: Run | None = None
    seconds: float = 0.0
    """From the new lab's first call to the run's answer (the reader's time between cells not counted)."""
    _started: float = field(default_factory=time.monotonic)

    async def finish(self, lab: Lab) -> Run:
        """Follow the run on a lab started again on the same database; time it from this call."""
        start = time.monotonic()
        self.run = await lab.follow(self.workflow_id)
        self.seconds = time.monotonic() - start
        return self.run

    def rows(self) -> list[dict[str, Any]]:
        """What the history says happened, in three rows."""
        assert self.run is not None, "call `await crash.finish(lab)` first"
        events = self.run.histories[self.workflow_id].events
        slow = next(s for s in self.run.graph().steps if s.label == "slow")
        return [
            {"what": "events when the server died", "value": self.events_at_crash,
             "meaning": "all recorded in the database file; the new worker replays them"},
            {"what": "events after the restart", "value": len(events) - self.events_at_crash,
             "meaning": "the tool's retry, its result, the answer"},
            {"what": "the tool in flight", "value": f"attempt {slow.attempts}",
             "meaning": str(slow.result or "")[:80]},
            {"what": "restart to answer", "value": f"{self.seconds:.1f} s",
             "meaning": "mostly the tool's heartbeat timeout (1 s), then the rest of its work"},
        ]  # fmt: skip


async def kill_server(lab: Lab, workflow_id: str, pool: WorkerPool | None = None) -> ServerCrash:
    """Kill the lab's server (SIGKILL, as a power cut would) and its worker processes; note the history first."""
    assert lab.server.process is not None, "this lab's server is not one the lab started"
    history = await lab.client.get_workflow_handle(workflow_id).fetch_history()
    port = int(lab.server.address.rsplit(":", 1)[1])
    same_ports = {"port": port, "ui_port": int(lab.ui_url.rsplit(":", 1)[1])} if lab.ui_url else {"port": port}
    lab.server.process.kill()
    lab.server.process.wait(10)  # gone, and its ports free for the server started after it
    if pool is not None:
        pool.kill_all()
    return ServerCrash(workflow_id, len(history.events), same_ports)
