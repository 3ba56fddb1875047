"""SVG snapshots of the main views (pytest-textual-snapshot), from a frozen recorded snapshot.

``tests/data/tui-snapshot.json`` is a copy of a lab recording kept for these pictures only,
so re-recording the lab does not churn them.  Update with ``--snapshot-update`` and look.
The actions run on the fakes of ``tui_fakes``; every picture waits for the doctor's
marks (computed in a worker) so none depends on timing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from inspector.model.snapshot import Snapshot
from inspector.render.snapshot_json import load_snapshot
from inspector.tui.app import CnetApp, make_app
from inspector.tui.ping_screen import PingScreen
from inspector.tui.rules_screen import RulesScreen
from inspector.tui.status_line import Source
from inspector.tui.view import plain
from tests.tui_fakes import (
    CannedDoctor,
    CounterReader,
    FakePinger,
    bridged_container,
    isolation_path,
    multi_container,
    recorded_rules,
)
from tests.tui_terminal import on_sixteen_colours

FROZEN = Path(__file__).parent / "data" / "tui-snapshot.json"
SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def frozen() -> Snapshot:
    return load_snapshot(FROZEN)


def app(snapshot: Snapshot, **backends: Any) -> Any:
    return make_app(snapshot, source=Source("file", "tests/data/tui-snapshot.json"), **backends)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


async def marks(pilot: Pilot[Any]) -> None:
    """Wait for the doctor's marks (they come from a worker)."""
    app = pilot.app
    assert isinstance(app, CnetApp)
    await until(pilot, lambda: app.marks_known)


def then(*steps: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        for step in steps:
            await step(pilot)

    return run


def keys(*pressed: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press(*pressed)
        await pilot.pause()

    return run


def down_to(snapshot: Snapshot, test: Callable[[Any], bool]) -> list[str]:
    index = next(n for n, c in enumerate(snapshot.containers) if test(c))
    return ["j"] * index


def is_multi(c: Any) -> bool:
    return sum(1 for i in c.interfaces if i.peer is not None) >= 2


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_start(snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]) -> None:
    assert snap_compare(app(frozen), terminal_size=size, run_before=marks)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_multi_network_container(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    assert snap_compare(
        app(frozen), terminal_size=size, press=down_to(frozen, is_multi), run_before=marks
    )


def test_shared_namespace_container(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    pressed = down_to(frozen, lambda c: c.netns_shared_with not in (None, "host"))
    assert snap_compare(app(frozen), terminal_size=(120, 40), press=pressed, run_before=marks)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_host_interfaces_pane(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    pressed = [*down_to(frozen, is_multi), "tab", "tab", "j"]
    assert snap_compare(app(frozen), terminal_size=size, press=pressed, run_before=marks)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
@pytest.mark.parametrize("terminal", ["no-color", "16-colours"])
def test_terminals(
    snap_compare: SnapCompare,
    frozen: Snapshot,
    size: tuple[int, int],
    terminal: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The multi-network container as NO_COLOR and a 16-colour terminal (TERM=screen,
    linux, xterm) show it: every frame, title and key readable."""
    if terminal == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
        shown = app(frozen)
    else:
        shown = on_sixteen_colours(app(frozen))
    pressed = down_to(frozen, is_multi)
    assert snap_compare(shown, terminal_size=size, press=pressed, run_before=marks)


def test_host_routes_and_ports_at_100x30(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    """In the host panes every route shows its gateway and device, every port its state."""
    pressed = ["tab", "tab", "tab"]
    assert snap_compare(app(frozen), terminal_size=(100, 30), press=pressed, run_before=marks)


def test_filter(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    assert snap_compare(
        app(frozen), terminal_size=(80, 24), press=["slash", *"multi"], run_before=marks
    )


def test_help(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    assert snap_compare(
        app(frozen), terminal_size=(80, 24), press=["question_mark"], run_before=marks
    )


def test_export_dialog(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    assert snap_compare(app(frozen), terminal_size=(80, 24), press=["e"], run_before=marks)


# --- the actions ---------------------------------------------------------------------


def to_bridged(frozen: Snapshot) -> list[str]:
    name = bridged_container(frozen).name
    return down_to(frozen, lambda c: c.name == name)


def ping_lines(pilot: Pilot[Any]) -> str:
    screen = pilot.app.screen
    return plain(screen.log_view.lines) if isinstance(screen, PingScreen) else ""


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_ping_panel_streaming(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    async def streamed(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: "icmp_seq=4 no reply" in ping_lines(pilot))

    run = then(marks, keys(*to_bridged(frozen), "p"), streamed)
    pinger = FakePinger(replies=3, timeouts=1)
    assert snap_compare(app(frozen, ping=pinger), terminal_size=size, run_before=run)


def test_ping_panel_stopped(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    async def stopped(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: "icmp_seq=3 " in ping_lines(pilot))
        await pilot.press("escape")
        await until(pilot, lambda: "rules whose counters moved" in ping_lines(pilot))

    run = then(marks, keys(*to_bridged(frozen), "p"), stopped)
    reader = CounterReader(frozen, isolation_path(frozen))
    backends = {"ping": FakePinger(replies=3), "read_rules": reader}
    assert snap_compare(app(frozen, **backends), terminal_size=(120, 40), run_before=run)


def rules_shown(pilot: Pilot[Any]) -> bool:
    screen = pilot.app.screen
    return isinstance(screen, RulesScreen) and screen.report is not None


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_rules_view_with_a_drop(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    async def shown(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: rules_shown(pilot))

    run = then(marks, keys(*to_bridged(frozen), "i"), shown)
    rules = recorded_rules(frozen)
    assert snap_compare(app(frozen, read_rules=lambda: rules), terminal_size=size, run_before=run)


def test_rules_moved_during_a_ping(snap_compare: SnapCompare, frozen: Snapshot) -> None:
    """``multi`` pings ``bridge``'s address: Docker's isolation drops it, and i shows where."""
    multi = multi_container(frozen)
    target = bridged_container(frozen).ips[0]

    async def moved(pilot: Pilot[Any]) -> None:
        await pilot.press("t")
        screen = pilot.app.screen
        assert isinstance(screen, PingScreen)
        screen.target_field.value = target
        await pilot.press("enter")
        await until(pilot, lambda: "icmp_seq=3 no reply" in ping_lines(pilot))
        await pilot.press("escape")
        await until(pilot, lambda: "rules whose counters moved" in ping_lines(pilot))
        await pilot.press("i")
        await until(pilot, lambda: rules_shown(pilot))

    to_multi = down_to(frozen, lambda c: c.name == multi.name)
    run = then(marks, keys(*to_multi, "p"), moved)
    reader = CounterReader(frozen, isolation_path(frozen))
    backends = {"ping": FakePinger(replies=0, timeouts=3), "read_rules": reader}
    assert snap_compare(app(frozen, **backends), terminal_size=(120, 40), run_before=run)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_doctor_marks_and_checks(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    broken = bridged_container(frozen).name
    warned = next(c.name for c in frozen.containers if is_multi(c))

    async def checked(pilot: Pilot[Any]) -> None:
        cnet = pilot.app
        assert isinstance(cnet, CnetApp)
        await until(pilot, lambda: "FAIL at veth" in plain(cnet.detail_lines()))

    run = then(marks, keys(*to_bridged(frozen), "d"), checked)
    doctor = CannedDoctor(broken, warned)
    assert snap_compare(app(frozen, doctor=doctor), terminal_size=size, run_before=run)


# --- rates and networks ----------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_rate_columns_and_sparkline(
    snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]
) -> None:
    """A minute of scripted rates: the rate columns, and the multi container's sparkline."""
    from tests.tui_fakes import ScriptedRates, scripted_rates

    running = [c.name for c in frozen.containers if c.running]
    steps = scripted_rates(frozen, 40, lambda t, name: 900 * (running.index(name) + 1) + 50 * t)
    feed = ScriptedRates()
    shown = make_app(frozen, source=Source("file", "tests/data/tui-snapshot.json"), rates=feed)
    name = multi_container(frozen).name

    async def rated(pilot: Pilot[Any]) -> None:
        for step in steps:
            feed.push(step)
        cnet = pilot.app
        assert isinstance(cnet, CnetApp)
        await until(pilot, lambda: cnet.rates is steps[-1])
        await until(pilot, lambda: "Traffic" in plain(cnet.detail_lines()))

    run = then(marks, keys(*down_to(frozen, lambda c: c.name == name)), rated)
    assert snap_compare(shown, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_networks_view(snap_compare: SnapCompare, frozen: Snapshot, size: tuple[int, int]) -> None:
    from inspector.tui.networks_screen import NetworksScreen
    from tests.test_tui_networks import listed

    data = listed(frozen)

    async def shown(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, NetworksScreen)
        await until(pilot, lambda: screen.networks is not None)

    run = then(marks, keys("n"), shown)
    assert snap_compare(app(frozen, read_networks=lambda: data), terminal_size=size, run_before=run)
