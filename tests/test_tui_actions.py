"""Pilot tests of the actions on the selection: ping (p), rules (i), doctor (d).

The backends are injected through ``make_app`` (``tests/tui_fakes.py``): a scripted
pinger, the recorded lab ruleset, a canned doctor.  Each asserts that its I/O ran off
the UI thread and that the UI kept answering keys meanwhile.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from inspector.model.snapshot import Snapshot
from inspector.rules import RulesUnavailable
from inspector.tui.action_view import (
    doctor_lines,
    human_bytes,
    marks_summary,
    ping_status,
    rules_lines,
    worst,
)
from inspector.tui.app import CnetApp, make_app
from inspector.tui.main_screen import MainScreen
from inspector.tui.ping_screen import PingScreen
from inspector.tui.rules_screen import RulesScreen
from inspector.tui.view import SnapshotView, plain
from tests.test_tui import (
    SIZE,
    bridged,
    host_mode,
    multi,
    none_mode,
    peers,
    select_container,
    stopped,
    sync,
    wait_for,
)
from tests.tui_fakes import (
    CannedDoctor,
    CounterReader,
    FakePinger,
    ScriptedFeed,
    bridged_container,
    isolation_path,
    multi_container,
    recorded_rules,
)


def ping_text(screen: PingScreen) -> str:
    return plain(screen.log_view.lines)


def rules_text(screen: RulesScreen) -> str:
    return plain(screen.view_.lines)


def status_text(screen: PingScreen) -> str:
    return str(screen.query_one("#ping-status").render())


def gateway_of(snapshot: Snapshot, name: str) -> str:
    c = snapshot.container(name)
    assert c is not None and c.networks and c.networks[0].gateway
    return c.networks[0].gateway


# --- p: ping ---------------------------------------------------------------------------


@sync
async def test_p_streams_replies_live_and_esc_stops_promptly(recorded: Snapshot) -> None:
    c = bridged(recorded)
    pinger = FakePinger(gated=True)
    app = make_app(recorded, ping=pinger)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        await wait_for(pilot, lambda: bool(pinger.calls))
        # The default target is the container's gateway, shown in the field.
        assert screen.target_field.value == gateway_of(recorded, c.name)
        assert pinger.calls == [(c.name, None)]  # the pinger resolves the gateway itself
        for seq in (1, 2):
            assert pinger.permits is not None
            pinger.permits.release()
            await wait_for(pilot, lambda seq=seq: f"icmp_seq={seq} " in ping_text(screen))
            assert screen.running and "running" in status_text(screen)
        assert "icmp_seq=3" not in ping_text(screen)
        assert f"{2} sent, 2 received, 0% loss" in status_text(screen)
        # The pinger blocks in its thread; the UI still answers keys.
        await pilot.press("t")
        assert screen.target_field.has_focus
        screen.log_view.focus()
        await pilot.pause()
        await pilot.press("escape")
        # the stop Event ends a ping that would otherwise never end (no timed assertion:
        # the speed is measured elsewhere)
        await wait_for(pilot, lambda: not screen.running, 10)
        assert pinger.stops[0].is_set() and pinger.ended.is_set()
        text = ping_text(screen)
        assert "ping statistics" in text and "2 packets transmitted, 2 received" in text
        assert status_text(screen).startswith("stopped")
        assert threading.get_ident() not in pinger.threads
        await pilot.press("escape")  # stopped: Esc closes
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


@sync
async def test_typing_a_target_restarts_and_stops_the_previous_run(recorded: Snapshot) -> None:
    c = bridged(recorded)
    other = multi(recorded)
    pinger = FakePinger(replies=1)
    app = make_app(recorded, ping=pinger)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        await wait_for(pilot, lambda: "icmp_seq=1 " in ping_text(screen))
        await pilot.press("t")
        screen.target_field.value = ""
        await pilot.press(*other.name, "enter")
        await wait_for(pilot, lambda: len(pinger.calls) == 2 and "icmp_seq=1 " in ping_text(screen))
        assert pinger.calls[1] == (c.name, other.name)
        assert pinger.stops[0].is_set() and not pinger.stops[1].is_set()
        assert ping_text(screen).count("PING ") == 1  # the log holds the new run only
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running)
        await pilot.press("enter")  # ping again, same target
        await wait_for(pilot, lambda: len(pinger.calls) == 3)
        assert pinger.calls[2] == (c.name, other.name)


@sync
async def test_timeouts_show_and_a_ping_that_cannot_start_says_why(recorded: Snapshot) -> None:
    c = bridged(recorded)
    silent = FakePinger(replies=0, timeouts=2)
    app = make_app(recorded, ping=silent)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        await wait_for(pilot, lambda: "icmp_seq=2 no reply" in ping_text(screen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running)
        assert screen.query_one("#ping-status").has_class("-failed")
    refused = FakePinger(error="container x has network mode none: no route to 172.17.0.1")
    app = make_app(recorded, ping=refused)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, none_mode(recorded).name)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        await wait_for(pilot, lambda: not screen.running and "ping:" in ping_text(screen))
        assert "ping: container x has network mode none" in ping_text(screen)
        assert "Traceback" not in ping_text(screen)


@sync
async def test_quitting_while_pinging_stops_the_pinger(recorded: Snapshot) -> None:
    pinger = FakePinger(replies=1)
    app = make_app(recorded, ping=pinger)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, bridged(recorded).name)
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(pinger.stops))
        app.exit()
    assert pinger.stops[0].is_set()
    assert pinger.ended.wait(10)
    # q in the panel closes it, stopping the ping first
    pinger = FakePinger(replies=1)
    app = make_app(recorded, ping=pinger)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, bridged(recorded).name)
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(pinger.stops))
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.is_running
        assert pinger.stops[0].is_set() and pinger.ended.wait(10)


@sync
async def test_p_from_a_host_pane_pings_from_the_rows_container(recorded: Snapshot) -> None:
    c = multi(recorded)
    pinger = FakePinger(replies=1)
    app = make_app(recorded, ping=pinger)
    async with app.run_test(size=SIZE) as pilot:
        ports = app.pane("ports")
        ports.focus()
        await pilot.pause()
        assert ports.select_key(f"port:{peers(c)[0]}")
        await pilot.pause()
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(pinger.calls))
        assert pinger.calls[0][0] == c.name
        await pilot.press("escape", "escape")
        await pilot.pause()

        def bridge_rows() -> list[str]:
            return [r.key for r in ports.rows_shown if r.key.startswith("bridge:")]

        await wait_for(pilot, lambda: bool(bridge_rows()))  # back on the whole host's ports
        assert ports.select_key(bridge_rows()[0])
        await pilot.pause()
        await pilot.press("p")  # a bridge belongs to no container: refused with a notice
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and len(pinger.calls) == 1


@sync
async def test_saved_snapshot_greys_ping_and_rules_out(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.check_action("selection_action", ("ping",)) is None
        assert app.check_action("selection_action", ("rules",)) is None
        assert app.check_action("selection_action", ("doctor",)) is True
        await pilot.press("p", "i")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


# --- i: rules --------------------------------------------------------------------------


@sync
async def test_i_shows_the_containers_rules_with_counters_and_the_drop_highlighted(
    recorded: Snapshot,
) -> None:
    c = bridged_container(recorded)
    ip = c.ips[0]
    port = c.ports[0].host_port
    reads: list[int] = []
    rulesets = recorded_rules(recorded)

    def read() -> object:
        reads.append(threading.get_ident())
        return rulesets

    app = make_app(recorded, read_rules=read)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await wait_for(pilot, lambda: screen.report is not None)
        assert reads and threading.get_ident() not in reads
        text = rules_text(screen)
        assert text.splitlines()[0].startswith(f"rules for container {c.name} ({ip};")
        for expected in ("ip filter (iptables-nft)", "  FORWARD", "  DOCKER-USER", "ip nat"):
            assert expected in text
        assert "policy DROP" in text
        assert f"DNAT 127.0.0.1:{port} -> {ip}:80/tcp" in text
        drop = [ln for ln in screen.view_.lines if any(f"-s {ip}/32 -j DROP" in t for t, _ in ln)]
        assert len(drop) == 1
        marker, _counts, _, spec, _reason = drop[0]
        assert marker == ("!! ", "bad") and spec == (f"-s {ip}/32 -j DROP", "bad")
        # counters: packets and bytes of the DOCKER-USER RETURN rule (27 / 2268 recorded)
        ret = [
            ln
            for ln in screen.view_.lines
            if any(t == "-j RETURN" for t, _ in ln) and "in DOCKER-USER" in ln[-1][0]
        ]
        assert ret and ret[0][1][0].split() == ["27", "2268"], ret
        assert screen.report is not None
        n = len(screen.report.blocking)  # the DROP above; Docker's isolation DROP is by design
        assert n == 1 and text.splitlines()[1] == f"!! {n} DROP/REJECT rule(s) would hit {c.name}"
        await pilot.press("r")  # read again: fresh counters
        await wait_for(pilot, lambda: len(reads) == 2)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


@sync
async def test_i_on_a_bridge_port_a_host_interface_and_unavailable_rules(
    recorded: Snapshot,
) -> None:
    c = bridged_container(recorded)
    veth = peers(c)[0]
    app = make_app(recorded, read_rules=lambda: recorded_rules(recorded))
    async with app.run_test(size=SIZE) as pilot:
        ports = app.pane("ports")
        ports.focus()
        await pilot.pause()
        assert ports.select_key(f"port:{veth}")
        await pilot.pause()
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await wait_for(pilot, lambda: screen.report is not None)
        assert screen.item == "docker0"
        text = rules_text(screen)
        assert text.startswith("rules for bridge docker0")
        assert f"{veth} is a port of docker0 (container {c.name})" in text
        assert "MASQUERADE" in text
        await pilot.press("escape")
        interfaces = app.pane("interfaces")
        interfaces.focus()
        await pilot.pause()
        assert interfaces.select_key(veth)
        await pilot.pause()
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await wait_for(pilot, lambda: screen.report is not None)
        assert rules_text(screen).startswith(f"rules for interface {veth}")

    def unavailable() -> object:
        raise RulesUnavailable("neither the iptables tools (iptables-save) nor nft are installed")

    app = make_app(recorded, read_rules=unavailable)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await wait_for(pilot, lambda: "nor nft are installed" in rules_text(screen))
        assert "Traceback" not in rules_text(screen)


@sync
async def test_reading_again_abandons_a_hung_read_without_an_error(recorded: Snapshot) -> None:
    """``r`` while ``iptables-save`` hangs: the new read shows, the hung one is dropped."""
    release = threading.Event()
    calls: list[int] = []

    def first_read_hangs() -> object:
        calls.append(len(calls))
        if len(calls) == 1:
            release.wait(30)
            raise RulesUnavailable("the hung read's late answer must not show")
        return recorded_rules(recorded)

    c = bridged_container(recorded)
    app = make_app(recorded, read_rules=first_read_hangs)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await wait_for(pilot, lambda: len(calls) == 1)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.report is not None)
        release.set()
        await pilot.pause(0.3)  # the first read's answer arrives now, to nobody
        text = rules_text(screen)
        assert text.startswith(f"rules for container {c.name}")
        assert "late answer" not in text and "Abandoned" not in text


@sync
async def test_after_a_ping_i_shows_which_rules_counters_moved(recorded: Snapshot) -> None:
    c = multi_container(recorded)
    target = bridged_container(recorded).ips[0]
    path = isolation_path(recorded)
    reader = CounterReader(recorded, path)
    pinger = FakePinger(replies=0, timeouts=3)
    app = make_app(recorded, ping=pinger, read_rules=reader)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        ping = app.screen
        assert isinstance(ping, PingScreen)
        assert app.check_action("selection_action", ("ping",)) is False  # no ping over ping
        await pilot.press("t")
        ping.target_field.value = target
        await pilot.press("enter")
        await wait_for(pilot, lambda: "icmp_seq=3 no reply" in ping_text(ping))
        assert ping.check_action("rules_moved", ()) is False  # still running
        await pilot.press("escape")
        await wait_for(pilot, lambda: not ping.running)
        # before the first packet and after the last, for each run (the first run, stopped
        # by the second, reads its "after" on its own thread, maybe a little later)
        await wait_for(pilot, lambda: reader.reads == 4)
        assert threading.get_ident() not in reader.threads
        assert "i shows the firewall rules whose counters moved" in ping_text(ping)
        await pilot.press("i")
        rules = app.screen
        assert isinstance(rules, RulesScreen)
        await wait_for(pilot, lambda: rules.report is not None)
        assert reader.reads == 4  # the view uses the two reads of the ping
        text = rules_text(rules)
        assert f"Counters that moved during the ping {c.name} -> {target}, in the order" in text
        moved = [ln for ln in text.splitlines() if ln.startswith(" +3 pkts +252 B  ip filter ")]
        # the path the packets took: into DOCKER-USER and back, then on to the DROP
        assert [ln.split("  ", 2)[1] for ln in moved] == [
            "ip filter FORWARD",
            "ip filter DOCKER-USER",
            "ip filter FORWARD",
            "ip filter DOCKER-ISOLATION-STAGE-1",
            "ip filter DOCKER-ISOLATION-STAGE-2",
        ]
        stop = [ln for ln in moved if "-o docker0 -j DROP" in ln]
        assert stop and stop[0].endswith("<- the packets stopped here"), moved
        tagged = [ln for ln in rules.view_.lines if ln[-1] == ("  +3 pkts +252 B", "moved")]
        assert len(tagged) == len(path)  # tagged in the grouped listing too
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is ping


# --- d: doctor -------------------------------------------------------------------------


@sync
async def test_marks_show_each_containers_worst_status(recorded: Snapshot) -> None:
    broken, warned = bridged(recorded).name, multi(recorded).name
    doctor = CannedDoctor(broken, warned)
    app = make_app(recorded, doctor=doctor)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.marks_known)
        assert doctor.calls == [((), False)]  # every container, no ping
        assert threading.get_ident() not in doctor.threads
        rows = {r.key: r for r in app.pane("containers").rows_shown}
        assert rows[broken].cells[0] == "✗" and rows[broken].cell_styles[0] == "bad"
        assert rows[warned].cells[0] == "!" and rows[warned].cell_styles[0] == "warning"
        assert rows[stopped(recorded).name].cells[0] == "·"
        assert rows[host_mode(recorded).name].cells[0] == "✓"
        box = app.screen.query_one("#containers-pane")
        assert box.border_subtitle == "doctor: ✗ 1 fail, ! 1 warn"
        for _ in range(3):
            await pilot.press("j")
        await pilot.pause()
        assert len(doctor.calls) == 1  # cached: the same snapshot is not checked again


@sync
async def test_d_shows_the_checks_in_the_detail_panel_and_esc_goes_back(
    recorded: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = bridged(recorded)
    doctor = CannedDoctor(c.name, gateway="fail")
    app = make_app(recorded, doctor=doctor)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.marks_known)
        other = multi(recorded)
        await select_container(app, pilot, other.name)
        await pilot.press("d")
        await wait_for(pilot, lambda: app.detail.border_title == f"Doctor · {other.name}")
        await wait_for(pilot, lambda: "gateway ping: fail" in plain(app.detail_lines()))
        # the ping's verdict reaches the mark too, for a minute
        assert app.mark(other.name) == "fail"
        monkeypatch.setattr("inspector.tui.marks.GATEWAY_CHECK_FRESH_S", 0.0)
        assert app.mark(other.name) == "pass"
        await select_container(app, pilot, c.name)  # moving on leaves doctor mode
        assert app.detail.border_title == "Detail"
        await pilot.press("d")
        await wait_for(pilot, lambda: "FAIL at veth" in plain(app.detail_lines()))
        assert doctor.calls[-1] == ((c.name,), True)
        text = plain(app.detail_lines())
        lines = text.splitlines()
        assert lines[0] == f"{c.name}  FAIL at veth"
        checks = [ln for ln in lines if ln.startswith(("✗", "!", "✓", "·"))]
        assert checks and checks[0].startswith("✗ fail veth  vethdead0 is down"), lines
        assert "should be on: docker0" in text and "fix: ip link set vethdead0 up" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.detail.border_title == "Detail"
        assert plain(app.detail_lines()) == plain(app.view.container_detail(c))  # type: ignore[union-attr]


@sync
async def test_d_from_a_host_pane_goes_to_the_container(recorded: Snapshot) -> None:
    c = multi(recorded)
    app = make_app(recorded, doctor=CannedDoctor())
    async with app.run_test(size=SIZE) as pilot:
        interfaces = app.pane("interfaces")
        interfaces.focus()
        await pilot.pause()
        assert interfaces.select_key(peers(c)[-1])
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: app.detail.border_title == f"Doctor · {c.name}")
        assert app.pane("containers").current_key == c.name
        await wait_for(pilot, lambda: " ok" in plain(app.detail_lines()).splitlines()[0])


@sync
async def test_a_slow_doctor_leaves_the_ui_responsive(recorded: Snapshot) -> None:
    gate = threading.Event()
    doctor = CannedDoctor(delay=gate)
    app = make_app(recorded, doctor=doctor)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: bool(doctor.calls))
            table = app.pane("containers")
            before = table.current_key
            await pilot.press("j")  # the doctor is still blocked: the key is handled anyway
            assert table.current_key != before
            assert not app.marks_known
            assert all(r.cells[0] == "" for r in table.rows_shown)
            gate.set()
            await wait_for(pilot, lambda: app.marks_known)
            assert all(r.cells[0] for r in table.rows_shown)
    finally:
        gate.set()


@sync
async def test_live_each_new_snapshot_gets_its_marks(recorded: Snapshot) -> None:
    c = bridged(recorded)
    later = dataclasses.replace(recorded, taken_at="2030-01-01T00:00:00Z")
    doctor = CannedDoctor()
    feed = ScriptedFeed(recorded, later)
    app = make_app(feed=feed, doctor=doctor, ping=FakePinger())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.marks_known)
        await pilot.press("r")
        await wait_for(pilot, lambda: feed.refreshes == 1 and app.marks_known)
        assert [call for call in doctor.calls if not call[1]] == [((), False), ((), False)]
        assert app.mark(c.name) == "pass"


# --- pure view logic -------------------------------------------------------------------


def test_selection_of_each_pane(recorded: Snapshot) -> None:
    view = SnapshotView(recorded)
    c = bridged_container(recorded)
    veth = peers(c)[0]
    sel = view.selection("containers", c.name, None)
    assert sel is not None and (sel.kind, sel.item, sel.container) == ("container", c.name, c.name)
    sel = view.selection("interfaces", veth, None)
    assert sel is not None and (sel.kind, sel.item, sel.container) == ("interface", veth, c.name)
    sel = view.selection("interfaces", "docker0", None)
    assert sel is not None and (sel.kind, sel.container) == ("bridge", None)
    sel = view.selection("ports", f"port:{veth}", None)
    assert sel is not None and (sel.kind, sel.item, sel.container) == ("port", "docker0", c.name)
    assert "these are the rules of docker0" in sel.note
    sel = view.selection("ports", "bridge:docker0", None)
    assert sel is not None and (sel.kind, sel.item) == ("bridge", "docker0")
    default = next(r for r in view.host_route_rows if r.cells[0] == "default")
    sel = view.selection("routes", default.key, None)
    assert sel is not None and sel.kind == "interface" and sel.container is None
    assert view.selection("interfaces", "-", c) is None


def test_rules_lines_and_marks_words(recorded: Snapshot) -> None:
    from inspector.rules import rules_for

    c = bridged_container(recorded)
    report = rules_for(recorded, recorded_rules(recorded), c.name)
    lines = rules_lines(report)
    assert lines[0] == ((f"rules for {report.description}", "title"),)
    assert lines[1][0][1] == "bad" and "DROP/REJECT" in lines[1][0][0]
    assert "Counters that moved" not in plain(lines)
    assert "none of the rules shown counted" in plain(rules_lines(report, ()))
    assert marks_summary(["pass", "pass", None]) == "doctor: ✓ no fault"
    assert marks_summary([None]) == ""
    assert marks_summary(["fail", "warn", "warn", "skip"]) == "doctor: ✗ 1 fail, ! 2 warn"
    assert worst(["skip", "pass", "warn"]) == "warn" and worst([]) is None
    assert [human_bytes(n) for n in (2268, 99_999, 100_000, 1_234_567)] == [
        "2268",
        "99999",
        "97.7K",
        "1.2M",
    ]
    assert ping_status(True, 0, 0, [], False) == "running · nothing sent yet"
    assert ping_status(False, 4, 3, [1.0, 2.0, 3.0], True) == (
        "stopped · 4 sent, 3 received, 25% loss · rtt min/avg/max 1.000/2.000/3.000 ms"
    )
    assert "checking x, pinging its gateway…" in plain(
        doctor_lines(None, container="x", running=True)
    )


@pytest.mark.parametrize("key", ["p", "c", "i", "d"])
@sync
async def test_every_action_is_a_footer_binding_a_help_line_and_a_palette_entry(
    recorded: Snapshot, key: str
) -> None:
    from inspector.tui.actions import ACTIONS

    action = next(a for a in ACTIONS if a.key == key)
    bindings = [b for b in CnetApp.BINDINGS if getattr(b, "id", None) == action.id]
    assert len(bindings) == 1 and bindings[0].key == key  # type: ignore[union-attr]
    app = make_app(recorded, ping=FakePinger(), read_rules=lambda: recorded_rules(recorded))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert (key, action.description) in list(app.key_help())
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert commands[action.label].help.endswith(f"({key})")
        footer_keys = {k for k, b in app.screen.active_bindings.items() if b.binding.show}
        assert key in footer_keys


@sync
async def test_p_names_why_the_kernels_drop_reasons_are_not_there(recorded: Snapshot) -> None:
    """The drop-reason line comes after the run, as plain text, off the UI thread."""
    c = bridged(recorded)
    starts: list[int] = []

    def no_tracefs() -> tuple[None, str]:
        starts.append(threading.get_ident())
        return None, "tracefs is not mounted at /sys/kernel/tracing [bold]x[/]: no drop reasons"

    pinger = FakePinger(replies=2)
    app = make_app(recorded, ping=pinger, drops=no_tracefs)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        await wait_for(pilot, lambda: "icmp_seq=2 " in ping_text(screen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running, 10)
        text = ping_text(screen)
        assert (
            "drop reasons: tracefs is not mounted at /sys/kernel/tracing [bold]x[/]:"
            " no drop reasons" in text
        )
        assert starts and threading.get_ident() not in starts


@sync
async def test_p_with_a_real_drop_probe_leaves_no_instance(recorded: Snapshot) -> None:
    """The real probe around a run: its tracefs instance exists while the ping runs and
    is gone once it ends (checked in tracefs itself)."""
    import os

    from inspector.collect import tracefs

    if tracefs.availability() is not None:
        pytest.skip(f"no drop reasons here: {tracefs.availability()}")
    mine = f"{tracefs.PREFIX}{os.getpid()}-"

    def ours() -> list[str]:
        return [n for n in os.listdir(f"{tracefs.TRACEFS}/instances") if n.startswith(mine)]

    c = bridged(recorded)
    pinger = FakePinger(gated=True)
    app = make_app(recorded, ping=pinger, drops=tracefs.start_probe)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        await wait_for(pilot, lambda: bool(pinger.calls))
        assert len(ours()) == 1  # traced during the probe only
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running, 10)
        assert "during the probe the kernel dropped" in ping_text(screen)
        assert ours() == []
