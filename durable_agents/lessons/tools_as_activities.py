"""Notebook 02 (tools as activities): the package code it shows, in one import for its set-up cell.

Notebook 02's set-up cell imports from two places, `lessons.workbook` and this module: the faults
capability (tools that fail on purpose), the workflow-native `text` tools and the MCP server's
toolset, re-exported here (`name as name`) so that the notebook can show each where it discusses it.
"""

from __future__ import annotations

from durable_agents.capabilities import faults as faults
from durable_agents.capabilities import text as text
from durable_agents.mcp_server import units_toolset as units_toolset
