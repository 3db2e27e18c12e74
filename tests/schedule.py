"""The order the tests are handed to pytest-xdist's `worksteal` scheduler in: long work first, on
every worker, so no worker is left with a long test at the end while the others have nothing.

`worksteal` first cuts the collection into one contiguous share per worker, in order, and a worker
that runs out of work later takes the *last* half of the longest queue still waiting. A long test at
the end of a share cannot be taken once it has started, so where it falls sets the suite's tail. In
collection order, one share held notebooks 02-10 and then the browser module (~90 s on its own):
the run's last 28 s were that one worker, the two cores idle a third of the time meanwhile.

So each share is built to begin with long groups, balanced over the shares (the longest first, each
to the least loaded share), then filled, in collection order, with the rest: the short tests at the
end of each share are what the others take. A group is a notebook (its header's "Run all" figure,
`notebook_items.run_all_seconds`) or a test module that says what it costs (`SECONDS`): such a
module keeps its tests together, as its module-scoped fixtures start something costly (JupyterLab and
Chromium). Without xdist (`-n 0`) the order is the collection's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")


def share_sizes(count: int, workers: int) -> list[int]:
    """How many tests `worksteal` first sends each worker: what is left, divided by the workers left."""
    sizes: list[int] = []
    for index in range(workers):
        sizes.append((count - sum(sizes)) // (workers - index))
    return sizes


def long_first(items: Sequence[Item], workers: int, group_of: Callable[[Item], tuple[str, float] | None]) -> list[Item]:
    """`items` reordered so that each of `workers` shares starts with its long groups.

    `group_of(item)` names the item's long group and the group's cost in seconds, or says None for a
    short test. The groups go, longest first, to the share with the least cost so far; each share then
    takes short tests, in their order, up to where `worksteal`'s cut after it falls (`share_sizes`). A
    share whose long groups alone go past that cut keeps them all, and the next share takes fewer short
    tests.
    """
    groups: dict[str, list[Item]] = {}
    costs: dict[str, float] = {}
    short: list[Item] = []
    for item in items:
        group = group_of(item)
        if group is None:
            short.append(item)
        else:
            groups.setdefault(group[0], []).append(item)
            costs[group[0]] = group[1]
    shares: list[list[Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for name in sorted(groups, key=lambda name: -costs[name]):
        least = loads.index(min(loads))
        shares[least] += groups[name]
        loads[least] += costs[name]
    ordered: list[Item] = []
    end = 0  # where the share being built ends, counted from the first test
    for share, size in zip(shares, share_sizes(len(items), workers), strict=True):
        end += size
        ordered += share
        fill = max(0, end - len(ordered))
        ordered += short[:fill]
        del short[:fill]
    return ordered + short
