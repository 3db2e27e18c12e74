"""Capabilities of the demo agent: each one a toolset plus its Temporal settings."""

from durable_agents.capabilities.faults import FaultsCapability
from durable_agents.capabilities.notes import NotesCapability
from durable_agents.capabilities.sandbox import SandboxCapability, sandbox_path
from durable_agents.capabilities.text import TextCapability

__all__ = ["FaultsCapability", "NotesCapability", "SandboxCapability", "TextCapability", "sandbox_path"]
