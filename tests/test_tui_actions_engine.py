"""The TUI's actions against the real lab, with the live collector and the real backends.

Run with ``CNET_LAB_ID=3`` (any free id) when others use the engine at the same time.
Traffic goes only to this lab's containers and their gateways; the host's links,
addresses, routes and rules are compared before and after.
"""

from __future__ import annotations

import json
from typing import Any

from inspector.live.runner import Live
from inspector.tui.app import CnetApp, make_app
from inspector.tui.main_screen import MainScreen
from inspector.tui.ping_screen import PingScreen
from inspector.tui.rules_screen import RulesScreen
from inspector.tui.view import plain
from tests.hoststate import host_changes, mine, settled_host_state
from tests.lab import PREFIX, Lab, sh
from tests.test_tui import SIZE, select_container, sync, wait_for


def ping_text(screen: PingScreen) -> str:
    return plain(screen.log_view.lines)


def rules_text(screen: RulesScreen) -> str:
    return plain(screen.view_.lines)


async def open_rules(pilot: Any, app: CnetApp, *, after_ping: bool = False) -> RulesScreen:
    """Press ``i`` and wait for the rules (and, after a ping, the counters that moved)."""
    await pilot.press("i")
    rules = app.screen
    assert isinstance(rules, RulesScreen)
    await wait_for(
        pilot,
        lambda: rules.report is not None and (rules.changes is not None or not after_ping),
        15,
    )
    return rules


async def live_app_on(lab: Lab, pilot: Any, app: CnetApp, name: str) -> None:
    await wait_for(  # the first read complete: every namespace in the picture
        pilot,
        lambda: (
            app.view is not None
            and name in app.view.containers
            and app.live_status is not None
            and not app.live_status.reading
        ),
        30,
    )
    await select_container(app, pilot, name)


@sync
async def test_p_pings_the_gateway_for_real_and_i_shows_the_dnat(lab: Lab) -> None:
    gateway = lab.inspect(lab.bridge)["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    ip = lab.container_ip(lab.bridge)
    port = lab.published_port
    dnat = [
        r
        for r in sh("iptables-save", "-t", "nat").splitlines()
        if f"--to-destination {ip}:80" in r and f"--dport {port} " in r
    ]
    assert len(dnat) == 1, dnat
    before = settled_host_state()
    app = make_app(feed=Live(reconcile=0))
    async with app.run_test(size=SIZE) as pilot:
        await live_app_on(lab, pilot, app, lab.bridge)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        assert screen.target_field.value == gateway
        await wait_for(pilot, lambda: f"bytes from {gateway}: icmp_seq=2 " in ping_text(screen), 10)
        text = ping_text(screen)
        assert text.startswith(f"PING {gateway} (gateway of {lab.bridge} on docker0) ")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running, 10)  # the stop Event ends it
        text = ping_text(screen)
        assert "ping statistics" in text and " 0% packet loss" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        text = rules_text(await open_rules(pilot, app))
        assert text.startswith(f"rules for container {lab.bridge} ({ip};")
        spec = dnat[0].split(" ", 2)[2]  # the rule as iptables-save prints it, without -A DOCKER
        (line,) = [ln for ln in text.splitlines() if f"  {spec}  # " in ln]
        assert f"# DNAT 127.0.0.1:{port} -> {ip}:80/tcp" in line
        await pilot.press("escape")
        await pilot.pause()
        # d: the real doctor, with the real gateway ping, in the detail panel.
        await pilot.press("d")
        await wait_for(pilot, lambda: app.detail.border_title == f"Doctor · {lab.bridge}")
        await wait_for(pilot, lambda: not _running(app), 15)
        detail = plain(app.detail_lines())
        # Healthy, but for the path MTU when the host's uplink is below the container's
        # (this machine's eth0 has 1400 under docker0's 1500): the doctor warns, by design.
        narrow = _uplink_mtu() < 1500
        assert detail.splitlines()[0] == f"{lab.bridge}  {'WARN' if narrow else 'ok'}", detail
        assert f"✓ pass gateway  {gateway} answered" in detail
        await wait_for(pilot, lambda: app.marks_known, 15)
        assert app.mark(lab.bridge) == ("warn" if narrow else "pass")
    assert host_changes(before, settled_host_state(), mine(lab)) == []


def _uplink_mtu() -> int:
    """The MTU of the device of the host's IPv4 default route, as iproute2 reports it."""
    (default,) = [r for r in json.loads(sh("ip", "-j", "route", "show", "default"))][:1]
    (link,) = json.loads(sh("ip", "-j", "link", "show", "dev", default["dev"]))
    return int(link["mtu"])


@sync
async def test_i_shows_the_ipv6_rules_too(lab: Lab) -> None:
    """A DROP in ip6tables on the container's bridge is in the view, marked as blocking."""
    had_ip6_filter = "table ip6 filter" in sh("nft", "list", "tables")
    comment = f"{PREFIX}v6-test"
    rule = ["FORWARD", "-i", lab.net1_bridge, "-m", "comment", "--comment", comment, "-j", "DROP"]
    before = settled_host_state()
    sh("ip6tables", "-I", *rule)
    try:
        app = make_app(feed=Live(reconcile=0))
        async with app.run_test(size=SIZE) as pilot:
            await live_app_on(lab, pilot, app, lab.multi)
            text = rules_text(await open_rules(pilot, app))
    finally:
        sh("ip6tables", "-D", *rule)
        if not had_ip6_filter:  # the insert made the table: leave the host as it was
            sh("nft", "delete", "table", "ip6", "filter")
    assert "ip6 filter" in text
    (line,) = [ln for ln in text.splitlines() if comment in ln]
    assert line.startswith("!! ") and f"-i {lab.net1_bridge} -m comment" in line
    assert host_changes(before, settled_host_state(), mine(lab)) == []


def _running(app: CnetApp) -> bool:
    return "pinging its gateway…" in plain(app.detail_lines())


@sync
async def test_after_a_ping_through_forward_i_shows_the_counters_that_moved(lab: Lab) -> None:
    """From ``multi`` (net1) to ``bridge`` (docker0): the packets cross FORWARD, where
    Docker's network isolation drops them; the rules view shows that path."""
    target = lab.container_ip(lab.bridge)
    isolation = "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP"
    has_isolation = isolation in sh("iptables-save", "-t", "filter").splitlines()
    before = settled_host_state()
    app = make_app(feed=Live(reconcile=0))
    async with app.run_test(size=SIZE) as pilot:
        await live_app_on(lab, pilot, app, lab.multi)
        await pilot.press("p", "t")
        screen = app.screen
        assert isinstance(screen, PingScreen)
        screen.target_field.value = target
        await pilot.press("enter")
        await wait_for(pilot, lambda: "icmp_seq=2 " in ping_text(screen), 10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running, 10)
        await wait_for(pilot, lambda: screen.counters is not None, 15)
        sent = int(ping_text(screen).split(" packets transmitted")[0].rsplit("\n", 1)[-1])
        assert sent >= 2
        rules = await open_rules(pilot, app, after_ping=True)
        assert rules.changes is not None
        moved = {(c.chain, c.rule.spec if c.rule else None): c.packets for c in rules.changes}
        assert moved.get(("FORWARD", "-j DOCKER-USER"), 0) >= sent
        if has_isolation:  # Docker's isolation dropped them: the view names the rule
            assert "received, 100% packet loss" in ping_text(screen)
            assert moved.get(("DOCKER-ISOLATION-STAGE-2", "-o docker0 -j DROP"), 0) >= sent
            assert "-o docker0 -j DROP  <- the packets stopped here" in rules_text(rules)
        assert "Counters that moved during the ping" in rules_text(rules)
    assert host_changes(before, settled_host_state(), mine(lab)) == []
