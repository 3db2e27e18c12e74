"""Start the workbook afresh: stop every lab its kernels left running, and clear `.sandbox/`.

JupyterLab reopens the last workspace, so opening one notebook can silently restart another
notebook's kernel, and with it a Temporal server; and a day of runs leaves hundreds of run folders
in `.sandbox/`. In a notebook cell, `await reset()`; in a terminal (with Jupyter closed or not):

    uv run python -m durable_agents.lab.cleanup

It stops this kernel's labs, then ends the Temporal servers, worker processes and watchdogs that
were started from this workbook's Python environment (by any kernel), and deletes the `.sandbox`
folders in the workbook and in `notebooks/`. Kernels themselves are left alone (restart them from
Jupyter's *Kernel* menu); processes from any other environment or folder are never touched.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from durable_agents.lab import forkserver, reaper
from durable_agents.lab.binaries import DEV_SERVER, TEST_SERVER

WORKBOOK = Path(__file__).resolve().parents[2]
MODULES = ("durable_agents.lab.worker", "durable_agents.lab.reaper")
BINARIES = (DEV_SERVER[0], TEST_SERVER[0])


@dataclass
class Reset:
    """What `reset()` did: the processes it ended and the folders it deleted."""

    stopped: list[str]
    cleared: list[Path]

    def __repr__(self) -> str:
        stopped = ", ".join(self.stopped) or "none"
        cleared = ", ".join(str(p) for p in self.cleared) or "none"
        return f"Stopped: {stopped}.\nCleared: {cleared}."


def leftovers(environment: Path | None = None) -> list[psutil.Process]:
    """Servers, workers and watchdogs started from `environment` (default: this Python's), not this process."""
    prefix = Path(os.path.abspath(environment or sys.prefix))  # not resolved: the venv's python is a symlink
    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "username"]):
        cmdline = proc.info["cmdline"] or []
        if proc.pid in mine or not cmdline or proc.info["username"] != psutil.Process().username():
            continue
        program = Path(cmdline[0])
        from_here = program.is_absolute() and program.is_relative_to(prefix)
        ours = program.name in BINARIES or any(m in cmdline for m in MODULES) or forkserver.is_ours(cmdline)
        if from_here and ours:
            found.append(proc)
    return found


def sandboxes(workbook: Path = WORKBOOK) -> list[Path]:
    """The `.sandbox` folders of the workbook and of its notebooks (the kernels' working folder)."""
    return [p for p in (workbook / ".sandbox", workbook / "notebooks" / ".sandbox") if p.is_dir()]


async def reset(workbook: Path = WORKBOOK) -> Reset:
    """Stop this kernel's labs and every lab process left from this workbook's environment; clear `.sandbox/`."""
    from durable_agents.lab.lab import Lab

    for lab in (Lab.current, *Lab.named.values()):
        if lab is not None:
            await lab.stop()
    processes = leftovers()
    names = [f"{Path(p.info['cmdline'][0]).name} (pid {p.pid})" for p in processes]
    await asyncio.to_thread(reaper.reap, processes)
    cleared = sandboxes(workbook)
    for folder in cleared:
        shutil.rmtree(folder, ignore_errors=True)
    return Reset(names, cleared)


if __name__ == "__main__":
    print(asyncio.run(reset()))
