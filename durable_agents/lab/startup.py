"""`Lab.start` in two steps: check what it was asked for while the current lab runs, then bring a lab up.

Everything that can be checked is checked first (`check`): a typo, a busy port, a bad folder or an
unreachable server then leaves the user with the lab they had. Only the checked `Plan` starts a
server (`launch`), and a failure or an interrupt half-way leaves no server or log handler behind.
"""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from durable_agents.lab import logs, reaper, servers
from durable_agents.lab.errors import LabError
from durable_agents.lab.servers import Server
from durable_agents.lab.serving import Serving
from durable_agents.lab.worker import make_worker

Kind = Literal["dev", "time-skipping", "existing"]
KINDS: tuple[Kind, ...] = ("dev", "time-skipping", "existing")


@dataclass(frozen=True)
class Plan:
    """A lab's start-up, checked: its sandbox made, its ports free, an existing server reached."""

    kind: Kind
    sandbox: Path
    database: Path | None
    port: int | None
    ui: bool
    ui_port: int | None
    existing: Server | None
    suggest_continue_as_new_after: int | None

    async def start_server(self) -> Server:
        """The server this plan names: the existing one, or a dev or time-skipping server started now."""
        if self.existing is not None:
            return self.existing
        if self.kind == "dev":
            return await servers.start_dev(
                self.sandbox, ui=self.ui, ui_port=self.ui_port, db=self.database, port=self.port,
                suggest_continue_as_new_after=self.suggest_continue_as_new_after,
            )  # fmt: skip
        return await servers.start_time_skipping(self.sandbox, port=self.port)

    async def launch(self, task_queue: str, *, in_process_worker: bool, quiet: bool) -> Serving:
        """Start the server, the in-process worker and the reaper that guards the server."""
        log = logs.attach(self.sandbox / logs.WORKER_LOG) if quiet else None
        server: Server | None = None
        try:
            server = await self.start_server()
            identity = f"lab-worker-{os.getpid()}@{socket.gethostname()}"
            worker = make_worker(server.env.client, task_queue, identity) if in_process_worker else None
            watchdog = reaper.guard([server.process]) if server.process else None
        except BaseException:  # an interrupt or a failure half-way: leave no server or log handler behind
            logs.detach(log)
            if server is not None:
                await server.stop()
            raise
        up = Serving(server, worker, identity, log, watchdog)
        up.serve()
        return up


async def check(
    kind: Kind,
    *,
    sandbox_root: str | Path,
    db: str | Path | None,
    port: int | None,
    ui: bool,
    ui_port: int | None,
    profile: str | None,
    held: set[int],
    suggest_continue_as_new_after: int | None,
) -> Plan:
    """Check `Lab.start`'s arguments; `held` are the ports of the lab it will stop (free by then)."""
    if kind not in KINDS:
        raise LabError(f"Unknown lab kind {kind!r}: use 'dev', 'time-skipping' or 'existing'.")
    if db is not None and kind != "dev":
        raise LabError(f"db= keeps a dev server's runs in a file; the {kind!r} lab has no such option.")
    sandbox = _sandbox(sandbox_root)
    database = servers.check_db(db) if db is not None else None
    port = servers.pick_port(port, "Temporal server", held) if port is not None else None
    ui_port = servers.pick_port(ui_port, "Temporal Web UI", held) if ui_port is not None and ui else None
    existing = await servers.connect_existing(profile) if kind == "existing" else None
    return Plan(kind, sandbox, database, port, ui, ui_port, existing, suggest_continue_as_new_after)


def check_name(name: object) -> None:
    """A lab's `name=` is text (or None): the key its successor of the same name replaces it by."""
    if name is not None and (not isinstance(name, str) or not name):
        raise LabError(f"name={name!r}: give the lab a name as text (e.g. name='fast'), or leave it out.")


def _sandbox(root: str | Path) -> Path:
    """The lab's sandbox root, made (and checked writable) before anything is stopped or started.

    The probe file has a name of its own: labs that start at once in one folder (JupyterLab reopening
    several notebooks, or several `durable-agents demo` commands) removed each other's `.lab-probe`,
    and the one that came second was told it could not write there."""
    sandbox = Path(root).expanduser().resolve()
    try:
        sandbox.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=sandbox, prefix=".lab-probe-"):
            pass
    except OSError as exc:
        raise LabError(
            f"sandbox_root={str(root)!r} cannot be used ({exc.strerror}): give a folder you can write."
        ) from None
    return sandbox
