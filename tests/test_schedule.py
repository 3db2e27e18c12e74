"""The order the tests reach xdist's `worksteal` scheduler in (tests/schedule.py): each worker's first
share starts with its long work, the long work balanced over the shares."""

from __future__ import annotations

from tests.schedule import long_first, share_sizes

COSTS = {"browser": 90, "07": 26, "08": 19, "10": 19, "09": 17, "05": 16}


def group_of(item: str) -> tuple[str, float] | None:
    name = item.split(":")[0]
    return (name, COSTS[name]) if name in COSTS else None


def collection() -> list[str]:
    """Notebooks first, then the tests by module, as pytest collects them: the browser module in the middle."""
    notebooks = ["05", "07", "08", "09", "10"]
    shorts = [f"short:{i}" for i in range(40)]
    return notebooks + shorts[:10] + [f"browser:{i}" for i in range(6)] + shorts[10:]


def shares(ordered: list[str], workers: int) -> list[list[str]]:
    """What `worksteal` first sends each worker: contiguous cuts of `share_sizes`."""
    cuts, start = [], 0
    for size in share_sizes(len(ordered), workers):
        cuts.append(ordered[start : start + size])
        start += size
    return cuts


def test_share_sizes_are_worksteals_first_cuts():
    assert share_sizes(438, 3) == [146, 146, 146]
    assert share_sizes(10, 3) == [3, 3, 4]
    assert share_sizes(2, 3) == [0, 1, 1]


def test_each_worker_starts_with_its_long_work_balanced_over_the_workers():
    items = collection()
    ordered = long_first(items, 3, group_of)
    assert sorted(ordered) == sorted(items), "every test is still there, once"
    first = shares(ordered, 3)
    long_groups = [[name for name in dict.fromkeys(i.split(":")[0] for i in share) if name in COSTS] for share in first]
    assert long_groups == [["browser"], ["07", "09"], ["08", "10", "05"]]
    for share, names in zip(first, long_groups, strict=True):
        count = sum(1 for item in share if group_of(item))
        assert all(group_of(item) for item in share[:count]), f"a short test comes before the long work: {share}"
        assert {group_of(item)[0] for item in share[:count]} == set(names)  # type: ignore[index]
    browser = [i for i, item in enumerate(ordered) if item.startswith("browser")]
    assert browser == list(range(browser[0], browser[0] + 6)), "the browser module's tests stay together"
    shorts = [item for item in ordered if not group_of(item)]
    assert shorts == [item for item in items if not group_of(item)], "the short tests keep their order"


def test_long_work_past_a_cut_pushes_the_next_share_on():
    ordered = long_first(["browser:0", "browser:1", "browser:2", "short:0", "short:1", "07"], 3, group_of)
    assert ordered == ["browser:0", "browser:1", "browser:2", "07", "short:0", "short:1"]


def test_without_long_work_the_order_is_the_collections():
    items = [f"short:{i}" for i in range(7)]
    assert long_first(items, 3, group_of) == items
