"""Worker processes are forked from a server that has imported the libraries (`lab.forkserver`)."""

from __future__ import annotations

import subprocess
import sys

from durable_agents.lab.forkserver import PRELOAD


def test_the_fork_server_preloads_every_library_a_worker_imports():
    """A library the worker imports that `PRELOAD` misses would be imported again by every worker (a
    module built into the interpreter, such as `gc`, costs nothing to import)."""
    program = (
        "import sys\n"
        f"for name in {PRELOAD!r}: __import__(name)\n"
        "before = set(sys.modules)\n"
        "import durable_agents.lab.worker\n"
        "new = set(sys.modules) - before - set(sys.builtin_module_names)\n"
        "print(*sorted(m for m in new if not m.startswith('durable_agents')))\n"
    )
    missed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout.split()
    assert not missed, f"add to durable_agents.lab.forkserver.PRELOAD: {missed}"
