"""Capabilities of the demo agents: each one a toolset (plus, for some, its Temporal settings)."""

from durable_agents.capabilities.faults import FaultsCapability
from durable_agents.capabilities.notes import NotesCapability
from durable_agents.capabilities.sandbox import SandboxCapability, sandbox_path
from durable_agents.capabilities.subagents import SubagentsCapability
from durable_agents.capabilities.text import TextCapability

__all__ = [
    "FaultsCapability",
    "NotesCapability",
    "SandboxCapability",
    "SubagentsCapability",
    "TextCapability",
    "sandbox_path",
]
