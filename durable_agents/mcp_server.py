"""A small stdio MCP server with unit-conversion tools, for the MCP part of notebook 02.

`python -m durable_agents.mcp_server` runs the server; `units_toolset()` gives an agent a toolset
that starts it as a subprocess. The tools are deterministic, so a scripted run always gives the
same answers. The server object is built only in the subprocess: building it configures logging,
which a notebook process should not inherit.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TO_METRES = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048, "mi": 1609.344}


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length between mm, cm, m, km, in, ft and mi."""
    for unit in (from_unit, to_unit):
        if unit not in _TO_METRES:
            raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(_TO_METRES)}")
    return round(value * _TO_METRES[from_unit] / _TO_METRES[to_unit], 6)


def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 6)


TOOLS: list[Callable[..., float]] = [convert_length, celsius_to_fahrenheit]


def units_toolset(toolset_id: str = "units") -> Any:
    """A `pydantic_ai.mcp.MCPToolset` that talks to this server over stdio."""
    from fastmcp.client import Client
    from fastmcp.client.transports import StdioTransport
    from pydantic_ai.mcp import MCPToolset

    # The server's stderr goes to a file: a Jupyter kernel's sys.stderr has no file descriptor to hand on.
    log = Path(tempfile.gettempdir()) / "durable-agents-mcp-units.log"
    transport = StdioTransport(command=sys.executable, args=["-m", "durable_agents.mcp_server"], log_file=log)
    return MCPToolset(Client(transport), id=toolset_id)


def main() -> None:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("units")
    for tool in TOOLS:
        server.tool()(tool)
    server.run()


if __name__ == "__main__":
    main()
