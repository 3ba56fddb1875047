"""SVG snapshots of the main views (pytest-textual-snapshot), from a frozen recorded snapshot.

``tests/data/tui-snapshot.json`` is a copy of a lab recording kept for these pictures only,
so re-recording the lab does not churn them.  Update with ``--snapshot-update`` and look.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inspector.model import Snapshot
from inspector.snapshot_json import load_snapshot
from inspector.tui.app import Source, make_app

FROZEN = Path(__file__).parent / "data" / "tui-snapshot.json"
SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def frozen() -> Snapshot:
    return load_snapshot(FROZEN)


def app(snapshot: Snapshot) -> Any:
    return make_app(snapshot, source=Source("file", "tests/data/tui-snapshot.json"))


def down_to(snapshot: Snapshot, test: Callable[[Any], bool]) -> list[str]:
    index = next(n for n, c in enumerate(snapshot.containers) if test(c))
    return ["j"] * index


def is_multi(c: Any) -> bool:
    return sum(1 for i in c.interfaces if i.peer is not None) >= 2


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_start(snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]) -> None:
    assert snap_compare(app(frozen), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_multi_network_container(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    assert snap_compare(app(frozen), terminal_size=size, press=down_to(frozen, is_multi))


def test_shared_namespace_container(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    keys = down_to(frozen, lambda c: c.netns_shared_with not in (None, "host"))
    assert snap_compare(app(frozen), terminal_size=(120, 40), press=keys)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_host_interfaces_pane(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    keys = [*down_to(frozen, is_multi), "tab", "tab", "j"]
    assert snap_compare(app(frozen), terminal_size=size, press=keys)


def test_filter(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    assert snap_compare(app(frozen), terminal_size=(80, 24), press=["slash", *"multi"])


def test_help(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    assert snap_compare(app(frozen), terminal_size=(80, 24), press=["question_mark"])


def test_export_dialog(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    assert snap_compare(app(frozen), terminal_size=(80, 24), press=["e"])
