"""The Connections view (``o``) on canned data: listeners, the published port's chain,
flows sorted by bytes and filtered, ``y`` on a row, the help screen and the palette.

The real reads (sock_diag, conntrack, /proc counters) are tested against ss, conntrack
and nstat in test_connections_netns.py / test_connections_engine.py; here the view only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from inspector.collect.connections import Connections
from inspector.collect.conntrack import Flow, FlowRead, Tuple
from inspector.collect.sockets import Socket, SocketRead
from inspector.model.snapshot import Snapshot, TcpHealth
from inspector.render.snapshot_json import load_snapshot
from inspector.tui import connections_screen
from inspector.tui.app import CnetApp, Source, make_app
from inspector.tui.backends import ConnectionsProgress, ConnectionsReader
from inspector.tui.connections_screen import ConnectionsScreen
from inspector.tui.connections_view import MAX_SHOWN_FLOWS, FlowTable, flow_rows
from tests.test_tui import sync
from tests.tui_fakes import bridged_container, recorded_rules

FROZEN = Path(__file__).parent / "data" / "tui-snapshot.json"


@pytest.fixture(scope="module")
def frozen() -> Snapshot:
    return load_snapshot(FROZEN)


def canned(snapshot: Snapshot, flows: int = 4) -> Connections:
    """httpd on :80 behind the bridged container's published port, a resolver, and flows:
    clients through its DNAT, and its own outbound traffic masqueraded."""
    c = bridged_container(snapshot)
    ip = c.ips[0]
    port = next(p for p in c.ports if p.host_port is not None)
    assert port.host_port is not None
    sockets = (
        Socket("tcp", "LISTEN", "0.0.0.0", 80, "0.0.0.0", 0, 1001, 0, 0, 511, (4726,), "httpd"),
        Socket(
            "udp",
            "UNCONN",
            "127.0.0.1",
            5353,
            "0.0.0.0",
            0,
            1002,
            0,
            pids=(4730,),
            process="dns\x1b[31m",
        ),
        Socket("tcp", "ESTAB", ip, 80, "10.9.0.7", 41000, 1003, 0, pids=(4726,), process="httpd"),
    )
    found = []
    for n in range(flows):
        if n % 2:
            o = Tuple(ip, 40000 + n, f"198.51.100.{n % 250}", 443)
            r = Tuple(f"198.51.100.{n % 250}", 443, "192.0.2.2", 40000 + n)
        else:
            o = Tuple(f"10.9.{n // 250}.{n % 250}", 50000 + n % 10000, "127.0.0.1", port.host_port)
            r = Tuple(ip, 80, f"10.9.{n // 250}.{n % 250}", 50000 + n % 10000)
        found.append(Flow("tcp", "ESTABLISHED", 431000 + n, o, r, 1000 * (n + 1), n + 1))
    return Connections(
        SocketRead(sockets),
        FlowRead(tuple(found), accounting=True),
        TcpHealth(out_segs=5000, retrans_segs=12, listen_overflows=3, listen_drops=3),
    )


def app(snapshot: Snapshot, read: ConnectionsReader) -> Any:
    return make_app(
        snapshot,
        source=Source("file", "tests/data/tui-snapshot.json"),
        read_connections=read,
        read_rules=lambda: recorded_rules(snapshot, drop=False),
    )


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


async def open_view(pilot: Pilot[Any], snapshot: Snapshot) -> ConnectionsScreen:
    app = pilot.app
    assert isinstance(app, CnetApp)
    await until(pilot, lambda: app.marks_known)
    names = [c.name for c in snapshot.containers]
    for _ in range(names.index(bridged_container(snapshot).name)):
        await pilot.press("down")
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, ConnectionsScreen))
    screen = app.screen
    assert isinstance(screen, ConnectionsScreen)
    await until(pilot, lambda: screen.conns is not None and screen.rulesets is not None)
    await pilot.pause()
    return screen


@pytest.fixture(autouse=True)
def no_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """One read per view: the pictures and counts do not depend on a timer."""
    monkeypatch.setattr(connections_screen, "REFRESH_S", 3600.0)


@sync
async def test_view_shows_listeners_chain_and_flows(frozen: Snapshot) -> None:
    asked: list[str] = []

    def read(snapshot: Snapshot, name: str, progress: object = None) -> Connections:
        asked.append(name)
        return canned(snapshot)

    async with app(frozen, read).run_test(size=(160, 45)) as pilot:
        screen = await open_view(pilot, frozen)
        c = bridged_container(frozen)
        assert asked == [c.name]  # the selected workload only
        sockets = screen.pane("listeners").rows_shown
        assert [r.cells[:4] for r in sockets] == [
            ("tcp", "0.0.0.0:80", "*", "httpd (4726)"),
            ("udp", "127.0.0.1:5353", "*", "dns\\x1b[31m (4730)"),  # escaped, never markup
            ("tcp", f"{c.ips[0]}:80", "10.9.0.7:41000", "httpd (4726)"),  # established
        ]
        assert sockets[0].cells[4] == "0/511"
        (chain,) = screen.pane("chains").rows_shown
        assert chain.cells[0].endswith(":55557/tcp")
        assert "DNAT" in chain.cells[1] and f"{c.ips[0]}:80" in chain.cells[1]
        assert chain.cells[2:] == (f"{c.ips[0]}:80", "httpd 0.0.0.0:80", "listening")
        flows = screen.pane("flows").rows_shown
        assert [r.cells[4] for r in flows][:2] == ["3.9K", "2.9K"]  # the busiest first
        await pilot.press("slash", *"198.51", "enter")
        assert all("MASQUERADE" in r.cells[2] for r in screen.pane("flows").rows_shown)
        assert len(screen.pane("flows").rows_shown) == 2
        copied: list[str] = []
        pilot.app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("y")
        assert copied and "MASQUERADE as 192.0.2.2" in copied[0]


@sync
async def test_a_thousand_flows_show_the_busiest_first(frozen: Snapshot) -> None:
    async with app(frozen, lambda s, _name, _p: canned(s, 1000)).run_test(size=(160, 45)) as pilot:
        screen = await open_view(pilot, frozen)
        shown = screen.pane("flows").rows_shown
        assert len(shown) == MAX_SHOWN_FLOWS
        assert shown[0].sort_values[4] == 1000 * 1000.0  # the busiest of all 1,000
        note = str(screen.query_one("#connections-note").render())
        assert f"1000 flows · the first {MAX_SHOWN_FLOWS} shown" in note
        await pilot.press("slash", *"198.51.100.77:", "enter")  # reaches past the cut
        found = screen.pane("flows").rows_shown
        assert [r.cells[5] for r in found] == ["828", "578", "328", "78"]  # n + 1 packets
        note = str(screen.query_one("#connections-note").render())
        assert "1000 flows · 4 match the filter" in note


@sync
async def test_the_first_flows_show_while_the_rest_are_read(frozen: Snapshot) -> None:
    """A first read of many flows paints a screenful as soon as it is decoded, says the
    rest are coming, then shows all of them; the health rates wait for the whole read."""
    whole = canned(frozen, 1000)
    first = replace(whole, flows=replace(whole.flows, flows=whole.flows.flows[:100]))
    go_on = threading.Event()
    calls: list[bool] = []

    def read(snapshot: Snapshot, name: str, progress: ConnectionsProgress | None) -> Connections:
        calls.append(progress is not None)
        if progress is not None:
            progress(first)
            assert go_on.wait(10)
        return whole

    async with app(frozen, read).run_test(size=(160, 45)) as pilot:
        cnet = pilot.app
        assert isinstance(cnet, CnetApp)
        await until(pilot, lambda: cnet.marks_known)
        for _ in range([c.name for c in frozen.containers].index(bridged_container(frozen).name)):
            await pilot.press("down")
        await pilot.press("o")
        await until(pilot, lambda: isinstance(cnet.screen, ConnectionsScreen))
        screen = cnet.screen
        assert isinstance(screen, ConnectionsScreen)
        note = lambda: str(screen.query_one("#connections-note").render())  # noqa: E731
        await until(pilot, lambda: "the first 100 flows, reading the rest…" in note())
        assert len(screen.pane("flows").rows_shown) == 100
        assert screen.history == []
        go_on.set()
        await until(pilot, lambda: "1000 flows" in note())
        assert "reading" not in note()
        assert screen.pane("flows").rows_shown[0].sort_values[4] == 1000 * 1000.0
        assert len(screen.history) == 1
        await pilot.press("r")  # a read again replaces the table at once: no progress
        await until(pilot, lambda: len(calls) == 2)
        assert calls == [True, False]


@sync
async def test_nothing_listening_names_none(frozen: Snapshot) -> None:
    def read(snapshot: Snapshot, name: str, progress: object = None) -> Connections:
        return Connections(
            SocketRead(()),
            FlowRead(problem="conntrack: the kernel has no connection tracking loaded"),
            None,
        )

    async with app(frozen, read).run_test(size=(160, 45)) as pilot:
        screen = await open_view(pilot, frozen)
        (chain,) = screen.pane("chains").rows_shown
        assert chain.cells[3:] == ("none", "nothing listens") and chain.style == "bad"
        note = str(screen.query_one("#connections-note").render())
        assert "no connection tracking" in note
        assert screen.pane("flows").rows_shown == ()


@sync
async def test_key_is_in_help_and_palette(frozen: Snapshot) -> None:
    async with app(frozen, lambda s, _name, _p: canned(s)).run_test(size=(120, 40)) as pilot:
        cnet = pilot.app
        assert isinstance(cnet, CnetApp)
        assert (
            "o",
            "Listeners, published-port chains, flows and TCP health of the container",
        ) in list(cnet.key_help())
        titles = [c.title for c in cnet.get_system_commands(cnet.screen)]
        assert "Connections" in titles


def test_a_thousand_flows_make_rows_fast_enough_to_sort(frozen: Snapshot) -> None:
    rows = flow_rows(canned(frozen, 1000).flows.flows)
    assert len(rows) == 1000 and len({r.key for r in rows}) == 1000


def test_connections_view_picture(snap_compare: Any, frozen: Snapshot) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await open_view(pilot, frozen)

    assert snap_compare(
        app(frozen, lambda s, _name, _p: canned(s)), terminal_size=(120, 40), run_before=run
    )


@sync
async def test_top_talkers_shown_when_bytes_are_counted(frozen: Snapshot) -> None:
    async with app(frozen, lambda s, n, p: canned(s)).run_test(size=(160, 45)) as pilot:
        screen = await open_view(pilot, frozen)
        talkers = screen.query_one("#connections-talkers", Static)
        assert talkers.display
        assert str(talkers.render()).startswith(
            "Top talkers: 198.51.100.3 3.9KB (1 flow) · 10.9.0.2 2.9KB (1 flow) · "
            "198.51.100.1 2.0KB (1 flow) · 10.9.0.0 1.0KB (1 flow)"
        )


@sync
async def test_no_top_talkers_without_accounting(frozen: Snapshot) -> None:
    def read(snapshot: Snapshot, name: str, progress: object = None) -> Connections:
        conns = canned(snapshot)
        counted = tuple(replace(f, bytes=None, packets=None) for f in conns.flows.flows)
        return replace(conns, flows=FlowRead(counted, accounting=False))

    async with app(frozen, read).run_test(size=(160, 45)) as pilot:
        screen = await open_view(pilot, frozen)
        assert not screen.query_one("#connections-talkers", Static).display
        note = str(screen.query_one("#connections-note", Static).render())
        assert "nf_conntrack_acct is 0" in note


@sync
async def test_flow_rows_made_once_a_read_off_the_ui_thread(
    frozen: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filtering and sorting reuse the read's rows: the UI thread builds none."""
    made: list[str] = []
    real = connections_screen.flow_table

    def counted(conns: Connections, own: Sequence[str]) -> FlowTable:
        made.append(threading.current_thread().name)
        return real(conns, own)

    monkeypatch.setattr(connections_screen, "flow_table", counted)
    async with app(frozen, lambda s, n, p: canned(s, 300)).run_test(size=(160, 45)) as pilot:
        screen = await open_view(pilot, frozen)
        await pilot.press("s", "slash", *"198.51", "enter", "s")
        await pilot.pause()
        shown = screen.pane("flows").rows_shown
        assert shown and all("198.51" in r.cells[2] for r in shown)  # filtered, sorted
        assert len(made) == 1 and made[0] != threading.main_thread().name
