"""Why each capability hands out the same toolset object every time it is asked (`one_toolset`).

`TemporalDurability` wraps the toolsets a capability gives when the agent is built, and inside a
workflow it refuses any executing toolset it did not wrap then. When a run adds a capability of
its own (Pydantic AI's instrumentation does, for tracing), the run asks every capability for its
toolset again; a capability that builds a new `FunctionToolset` on each call then hands out an
object Temporal has never seen, and the run fails with "cannot be added at runtime". Returning the
toolset built the first time keeps it the one that was registered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def one_toolset(get_toolset: Callable[[Any], T]) -> Callable[[Any], T]:
    """Decorate a capability's `get_toolset` so it builds its toolset once and returns that one after."""

    @functools.wraps(get_toolset)
    def cached(self: Any) -> T:
        if "_one_toolset" not in self.__dict__:
            self.__dict__["_one_toolset"] = get_toolset(self)
        return self.__dict__["_one_toolset"]

    return cached
