"""A real Jupyter kernel driven as JupyterLab drives it: execute a cell, press Stop, restart, shut down.

Stop in JupyterLab is `interrupt_kernel()`: SIGINT to the kernel's whole process group, which is
what the lab's servers must survive.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Cell:
    """What one executed cell showed: its text output, and its error (name, value, traceback lines)."""

    text: str = ""
    error: tuple[str, str] | None = None
    traceback: list[str] = field(default_factory=list)

    @property
    def shown(self) -> str:
        """Everything a learner reads under the cell, colours removed."""
        return ANSI.sub("", self.text + "\n".join(self.traceback))


class Kernel:
    """One `python3` kernel in `cwd`."""

    def __init__(self, cwd: Path) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, *, interrupt_after: float | None = None, timeout: float = 120) -> Cell:
        """Execute `code` as a cell; with `interrupt_after`, press Stop that many seconds in."""
        msg_id = self.client.execute(code)
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            self.manager.interrupt_kernel()
        cell = Cell()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg: dict[str, Any] = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                cell.text += content["text"]
            elif kind in ("execute_result", "display_data"):
                cell.text += content["data"].get("text/plain", "") + "\n"
            elif kind == "error":
                cell.error = (content["ename"], ANSI.sub("", content["evalue"]))
                cell.traceback = content["traceback"]
            elif kind == "status" and content["execution_state"] == "idle":
                return cell
        raise TimeoutError(f"the cell did not finish within {timeout} s: {code[:80]!r}")

    def value(self, expression: str) -> str:
        """The text a cell ending in `expression` shows (raises if it failed)."""
        cell = self.run(expression)
        assert cell.error is None, cell.shown
        return cell.text.strip()

    def restart(self) -> None:
        self.manager.restart_kernel(now=False)
        self.client.wait_for_ready(timeout=60)

    def shutdown(self, now: bool = False) -> float:
        """Shut the kernel down (politely unless `now`); returns the seconds it took."""
        start = time.monotonic()
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=now)
        return time.monotonic() - start
