"""Worker processes are forked from a server that has imported the libraries (`lab.forkserver`)."""

from __future__ import annotations

import os
import subprocess
import sys

from durable_agents.lab.forkserver import PRELOAD


def _imported_after_preload(env: dict[str, str]) -> list[str]:
    """The third-party modules a worker imports as it starts (its module, then `load_providers`), in
    an interpreter that has imported `PRELOAD` (a module built into the interpreter, such as `gc`,
    costs nothing to import)."""
    program = (
        "import sys\n"
        f"for name in {PRELOAD!r}: __import__(name)\n"
        "before = set(sys.modules)\n"
        "from durable_agents.lab import worker\n"
        "worker.load_providers()\n"
        "new = set(sys.modules) - before - set(sys.builtin_module_names)\n"
        "print(*sorted(m for m in new if not m.startswith('durable_agents')))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, env=env)
    return done.stdout.split()


def test_the_fork_server_preloads_every_library_a_worker_imports():
    """A library a worker imports that `PRELOAD` misses would be imported again by every worker."""
    keyless = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    missed = _imported_after_preload(keyless)
    assert not missed, f"add to durable_agents.lab.forkserver.PRELOAD what imports these: {missed[:20]}"


def test_a_worker_given_an_anthropic_key_imports_its_sdk_as_it_starts_not_in_a_workflow_task():
    """Anthropic's SDK is left out of `PRELOAD` (~1.3 s every notebook's first pool would wait for); a
    worker that can serve it (its key is set) imports it before it polls."""
    keyed = _imported_after_preload({**os.environ, "ANTHROPIC_API_KEY": "sk-ant-test"})
    assert "anthropic" in keyed and "pydantic_ai.models.anthropic" in keyed, f"not imported at the start: {keyed[:20]}"
