"""TCP/UDP health as rates in the detail panel: the selected workload only, on a worker.

The Pilot part runs on a canned reader (the real read is checked against ``nstat`` in
test_health_rates_netns.py): it must be asked for the container under the cursor and no
other, and the detail must show the rates between two of its reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from inspector.live.health_rates import HealthMeter, health_between
from inspector.model.snapshot import Snapshot, TcpHealth
from inspector.render.snapshot_json import load_snapshot
from inspector.tui import health_detail
from inspector.tui.app import CnetApp, Source, make_app
from tests.test_tui import sync

FROZEN = Path(__file__).parent / "data" / "tui-snapshot.json"


@pytest.fixture(scope="module")
def frozen() -> Snapshot:
    return load_snapshot(FROZEN)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


def detail_text(app: CnetApp) -> str:
    return "\n".join("".join(text for text, _ in line) for line in app.detail_lines())


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads every tick, ticks ten times a second: the test need not wait seconds."""
    monkeypatch.setattr(health_detail, "EVERY_S", 0.0)
    monkeypatch.setattr(health_detail, "TICK_S", 0.1)


@sync
async def test_detail_shows_the_selected_workloads_rates(frozen: Snapshot) -> None:
    asked: list[str] = []

    def read(snapshot: Snapshot, name: str) -> TcpHealth:
        asked.append(name)
        n = len(asked)
        # every read: 40 segments sent, 4 of them again, one listen overflow
        return TcpHealth(out_segs=40 * n, retrans_segs=4 * n, listen_overflows=n)

    app = make_app(frozen, source=Source("file", "x.json"), read_health=read)
    async with app.run_test(size=(160, 45)) as pilot:
        assert isinstance(app, CnetApp)
        first = app.selected_container()
        assert first is not None
        await until(pilot, lambda: "retrans" in detail_text(app))
        text = detail_text(app)
        assert "TCP health" in text and "(10.0% of" in text  # 4 of 40, whatever the interval
        assert "listen overflows 0/s" not in text  # one a read: a rate above zero
        assert set(asked) == {first.name}  # the selected workload, never the others
        await pilot.press("down")
        second = app.selected_container()
        assert second is not None and second.name != first.name
        await until(pilot, lambda: second.name in asked[-1:] and "retrans" in detail_text(app))
        assert set(asked) == {first.name, second.name}


@sync
async def test_no_reader_no_health_lines(frozen: Snapshot) -> None:
    """A saved snapshot has no live counters: the detail has no TCP health."""
    app = make_app(frozen, source=Source("file", "x.json"))
    async with app.run_test(size=(160, 45)) as pilot:
        assert isinstance(app, CnetApp)
        await pilot.pause(0.3)
        assert "TCP health" not in detail_text(app)


def test_meter_rates_and_history() -> None:
    meter = HealthMeter()
    assert meter.add(10.0, TcpHealth(out_segs=100, retrans_segs=1)) is None
    rates = meter.add(12.0, TcpHealth(out_segs=300, retrans_segs=5, out_rsts=4))
    assert rates is not None
    assert rates.rate("out_segs") == 100.0 and rates.rate("retrans_segs") == 2.0
    assert rates.rate("out_rsts") == 2.0 and rates.retransmit_share == 0.02
    later = meter.add(15.0, TcpHealth(out_segs=300, retrans_segs=8, out_rsts=4))
    assert later is not None and later.retrans_history == (2.0, 1.0)
    assert later.retransmit_share is None  # nothing sent in that step


def test_a_new_namespace_starts_over() -> None:
    """A counter going down is a restarted workload: no negative rate, history cleared."""
    meter = HealthMeter()
    meter.add(0.0, TcpHealth(retrans_segs=50))
    assert meter.add(3.0, TcpHealth(retrans_segs=60)) is not None
    assert meter.add(6.0, TcpHealth(retrans_segs=2)) is None
    rates = meter.add(9.0, TcpHealth(retrans_segs=5))
    assert rates is not None and rates.retrans_history == (1.0,)
    assert health_between(TcpHealth(), TcpHealth(out_segs=1), 0.0) is None


@sync
async def test_workers_never_write_the_snapshot_out(
    frozen: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual describes a worker by the repr of its arguments unless told otherwise: the
    health read every few seconds, the marks and ``d`` wrote the whole snapshot out each
    time (at 1,000 namespaces a third of the idle TUI's CPU).  Every worker has its own
    description, so the snapshot's repr is never asked for."""
    written: list[int] = []
    monkeypatch.setattr(Snapshot, "__repr__", lambda self: written.append(1) or "Snapshot")
    reads: list[str] = []

    def read(snapshot: Snapshot, name: str) -> TcpHealth:
        reads.append(name)
        return TcpHealth(out_segs=40 * len(reads))

    app = make_app(frozen, source=Source("file", "x.json"), read_health=read)
    async with app.run_test(size=(160, 45)) as pilot:
        assert isinstance(app, CnetApp)
        await until(pilot, lambda: app.marks_known and len(reads) >= 3)
        await pilot.press("d")  # the doctor on one container, on a worker
        await until(pilot, lambda: "gateway" in detail_text(app).lower())
    assert written == []
