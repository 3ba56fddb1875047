"""The networks view: pure rows from Docker's list or the snapshot, and Pilot tests of
``n`` and Enter on a member."""

from __future__ import annotations

import threading
from typing import Any

from inspector.model.snapshot import Snapshot
from inspector.tui.app import make_app
from inspector.tui.networks_screen import FROM_SNAPSHOT, NetworksScreen
from inspector.tui.networks_view import (
    member_of,
    network_rows,
    networks_from_engine,
    networks_from_snapshot,
)
from inspector.tui.screens import HelpScreen
from tests.test_tui import SIZE, multi, sync, wait_for


def listed(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Docker's network list (the API's shape, members left out as since API 1.28) for
    the networks the recorded lab's containers are on, one with options set."""
    out: list[dict[str, Any]] = []
    for n in networks_from_snapshot(snapshot):
        driver = {"host": "host", "none": "null"}.get(n.name, n.driver)
        options: dict[str, str] = {}
        if n.name == "bridge":
            options["com.docker.network.bridge.name"] = "docker0"
        net: dict[str, Any] = {
            "Name": n.name,
            "Id": "592378eadee3" + "0" * 52 if n.bridge.startswith("br-") else "ab" * 32,
            "Driver": driver,
            "IPAM": {
                "Config": [
                    {"Subnet": s, "Gateway": g} for s, g in zip(n.subnets, n.gateways, strict=False)
                ]
            },
            "Internal": False,
            "Options": options,
            "Containers": {},
        }
        if n.name == "cnetlab-net1":
            options.update(
                {
                    "com.docker.network.bridge.name": "cnetlab-br1",
                    "com.docker.network.bridge.enable_icc": "false",
                    "com.docker.network.driver.mtu": "1400",
                }
            )
            net["Internal"] = True
            net["IPAM"]["Config"].append({"Subnet": "fd00:231::/64", "Gateway": "fd00:231::1"})
            net["EnableIPv6"] = True
        out.append(net)
    out.append({"Name": "lonely", "Id": "cd" * 32, "Driver": "bridge", "IPAM": {"Config": []}})
    return out


def test_engine_networks_have_their_options_and_the_snapshots_members(recorded: Snapshot) -> None:
    nets = {n.name: n for n in networks_from_engine(listed(recorded), recorded)}
    net1 = nets["cnetlab-net1"]
    assert net1.options == ("internal", "icc off", "mtu 1400", "ipv6")
    assert net1.subnets[0].startswith("172.30.") and net1.subnets[1] == "fd00:231::/64"
    assert net1.bridge == "cnetlab-br1"
    c = multi(recorded)
    assert [m.container for m in net1.members] == [c.name]
    assert net1.members[0].addresses[0] in c.ips
    assert nets["bridge"].bridge == "docker0" and nets["bridge"].options == ()
    assert nets["lonely"].bridge == "br-cdcdcdcdcdcd" and nets["lonely"].members == ()
    assert nets["none"].driver == "null"


def test_a_saved_snapshot_gives_members_addresses_subnets_and_bridges(recorded: Snapshot) -> None:
    nets = {n.name: n for n in networks_from_snapshot(recorded)}
    c = multi(recorded)
    for att in c.networks:
        n = nets[att.name]
        assert (n.driver, n.gateways) == ("bridge", (att.gateway,))
        assert any(i.peer is not None and i.peer.bridge == n.bridge for i in c.interfaces)
        assert c.name in [m.container for m in n.members]
    assert nets["host"].driver == "host" and nets["host"].members[0].addresses == ()


def test_rows_put_members_under_their_network(recorded: Snapshot) -> None:
    rows = network_rows(networks_from_snapshot(recorded))
    heads = [r for r in rows if not r.child]
    assert [r.key for r in heads] == [f"net:{n.name}" for n in networks_from_snapshot(recorded)]
    members = [member_of(r.key) for r in rows if r.child]
    assert multi(recorded).name in members and member_of(heads[0].key) is None


@sync
async def test_n_shows_every_network_and_enter_on_a_member_jumps_to_it(recorded: Snapshot) -> None:
    threads: set[int] = set()
    data = listed(recorded)

    def read() -> list[dict[str, Any]]:
        threads.add(threading.get_ident())
        return data

    app = make_app(recorded, read_networks=read)
    c = multi(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        start = app.pane("containers").current_key
        assert start != c.name
        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, NetworksScreen)
        await wait_for(pilot, lambda: screen.networks is not None)
        assert threads and threading.get_ident() not in threads  # read in a worker
        keys = [r.key for r in screen.table.rows_shown]
        assert "net:lonely" in keys and len([k for k in keys if k.startswith("net:")]) == len(data)
        # Enter on a network line stays; on a member it goes there
        await pilot.press("enter")
        assert app.screen is screen
        targets = [k for k in keys if member_of(k) == c.name]
        assert targets, keys
        target = targets[0]
        while screen.table.current_key != target:
            await pilot.press("j")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, NetworksScreen))
        assert app.pane("containers").current_key == c.name
        assert app.pane("containers").has_focus
        await pilot.press("escape")  # back where it was opened from
        await wait_for(pilot, lambda: app.pane("containers").current_key == start)


@sync
async def test_on_a_saved_snapshot_n_shows_what_the_containers_say(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, NetworksScreen)
        await wait_for(pilot, lambda: screen.networks is not None)
        assert str(screen.query_one("#networks-source").render()) == FROM_SNAPSHOT
        assert screen.check_action("reload", ()) is False
        assert [r.key for r in screen.table.rows_shown] == [
            r.key for r in network_rows(networks_from_snapshot(recorded))
        ]
        await pilot.press("escape")
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
    assert ("n", "Every Docker network") in list(app.key_help())
