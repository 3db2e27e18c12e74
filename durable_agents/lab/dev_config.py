"""The dynamic config every dev server of the lab starts with, and why each value is there.

The Temporal CLI's dev server keeps the production defaults of a history service built for many
shards and hosts. Two of them set the pace of a one-person server: how late a timer may fire, and
how often a history queue may be read. See docs/dev-server-pace.md for the measurements.
"""

from __future__ import annotations

DEV_SERVER_CONFIG = [
    # The server batches timers, and a retry waits on a timer: by default a timer fires up to 1 s
    # late, so an activity retried after 100 ms waited ~1 s (a three-attempt tool: 2.0 s). With
    # 10 ms, a retry waits about its interval (0.3 s).
    'history.timerProcessorMaxTimeShift="10ms"',
    # Each history queue is read at most 20 times a second by default (a token bucket, so the first
    # ~25 reads of a fresh or idle server are free). Every workflow step needs a read of the
    # transfer queue (the workflow task after an activity completes), so past the burst a step
    # cost 50 ms instead of 15; every timer needs a read of the timer queue and one of the transfer
    # queue, so a timer cost 230 ms instead of 15. The visibility queue (what `list` shows) has the
    # same limit. A dev server has one host and few workflows: 1,000 reads a second is no load.
    "history.transferProcessorMaxPollRPS=1000",
    "history.timerProcessorMaxPollRPS=1000",
    "history.visibilityProcessorMaxPollRPS=1000",
    # A version being retired is "draining" until no open run is pinned to it, then "drained". The
    # server re-checks a draining version every 3 minutes by default, after a 3-minute grace period
    # for visibility to catch up: with one local server, once a second (notebook 10 waits on it).
    'matching.wv.VersionDrainageStatusRefreshInterval="1s"',
    'matching.wv.VersionDrainageStatusVisibilityGracePeriod="1s"',
]
"""Values for the dev server's `--dynamic-config-value` flags."""


def dynamic_config_flags(values: list[str]) -> list[str]:
    """`values` as the dev server's command-line flags."""
    return [flag for value in values for flag in ("--dynamic-config-value", value)]
