"""The synchronous rtnetlink socket (``collect.rtnl``) against iproute2, in namespaces of its own.

Made here and removed afterwards (prefix ``cnetsc-``): two namespaces joined by a veth,
with an address, a default route, a route in table 100 and blackhole routes (IPv4, IPv6).  What the
socket reads inside, through ``netlink``'s record functions, must be what ``ip -j`` says
inside; the ids the namespaces give each other what iproute2 shows for the veth.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
from collections.abc import Iterator

import pytest

from inspector.collect import netns
from inspector.collect.netlink import Netlink, address_record, link_record, route_record
from inspector.collect.rtnl import RtnlSocket
from tests.netns_helpers import ip, veth_pair

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]


@pytest.fixture
def pair() -> Iterator[tuple[str, str, str]]:
    tag = f"cnetsc-{secrets.token_hex(2)}"
    with veth_pair(tag, "10.251.88.1", "10.251.88.2"):
        a = f"{tag}-a"
        ip("-n", a, "route", "add", "default", "via", "10.251.88.2")
        ip("-n", a, "route", "add", "10.99.0.0/16", "via", "10.251.88.2", "table", "100")
        ip("-n", a, "route", "add", "blackhole", "10.98.0.0/16")
        ip("-n", a, "-6", "route", "add", "blackhole", "2001:db8:77::/48")
        yield a, f"{tag}-b", f"{tag}a"


def inside(ns: str) -> RtnlSocket:
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        with netns.inside(fd):
            return RtnlSocket()
    finally:
        os.close(fd)


def test_links_addresses_and_routes_are_what_iproute2_says(pair: tuple[str, str, str]) -> None:
    a, _b, veth = pair
    rt = inside(a)
    try:
        links = [link_record(m) for m in rt.links()]
        addresses = {r.cidr for m in rt.addresses() if (r := address_record(m)) is not None}
        routes = [r for m in rt.routes() if (r := route_record(m)) is not None]
        missing = rt.link(987654)
        one = rt.link(1)
    finally:
        rt.close()
    shown = json.loads(ip("-n", a, "-j", "link"))
    assert [(x.interface.name, x.interface.ifindex, x.interface.mtu) for x in links] == [
        (x["ifname"], x["ifindex"], x["mtu"]) for x in shown
    ]
    mine = next(x for x in links if x.interface.name == veth)
    theirs = next(x for x in shown if x["ifname"] == veth)
    assert mine.interface.mac == theirs["address"]
    assert mine.interface.link_netnsid == theirs["link_netnsid"]
    assert addresses == {
        f"{i['local']}/{i['prefixlen']}"
        for x in json.loads(ip("-n", a, "-j", "addr"))
        for i in x["addr_info"]
    }
    # every table but the kernel's own local routes, as cnet keeps them
    expected = {
        (r["dst"], r.get("gateway"), r.get("table", "main"), r.get("type", "unicast"))
        for family in ("-4", "-6")
        for r in json.loads(ip("-n", a, family, "-j", "route", "show", "table", "all"))
        if not (r.get("table") == "local" and r.get("protocol") == "kernel")
    }
    got = {(r.dst, r.gateway, r.table, r.type) for r in routes}
    assert got == expected
    assert ("10.99.0.0/16", "10.251.88.2", "100", "unicast") in got
    assert ("10.98.0.0/16", None, "main", "blackhole") in got
    assert ("2001:db8:77::/48", None, "main", "blackhole") in got  # after the IPv4 ones
    assert [r.family for r in routes] == sorted(
        (r.family for r in routes), key=lambda f: f != socket.AF_INET
    )
    assert missing is None
    assert one is not None and one.get("ifname") == "lo"


def test_a_namespace_dump_is_the_one_pyroute2s_iproute_reads(pair: tuple[str, str, str]) -> None:
    """The same records as through ``IPRoute`` (the card's way until now), ids included."""
    a, b, _veth = pair
    fd_a = os.open(f"/run/netns/{a}", os.O_RDONLY | os.O_CLOEXEC)
    fd_b = os.open(f"/run/netns/{b}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        with netns.inside(fd_a):
            from pyroute2 import IPRoute

            ipr = IPRoute(strict_check=True)
        rt = inside(a)
        try:
            links = tuple(link_record(m) for m in ipr.get_links())
            answer = ipr.get_netnsid(fd=fd_b)
            mine = rt.links()
            assert tuple(link_record(m) for m in mine) == links
            # only what a record reads was decoded: the counters never were
            assert all(m.get_attr("IFLA_STATS64") is None for m in mine)
            assert all(m.get_attr("IFLA_STATS64") is not None for m in ipr.get_links())
            assert rt.netnsid(fd_b) == answer["nsid"]
            with Netlink.inside(fd_a) as nl:
                assert nl.netnsid(fd_b) == answer["nsid"]
        finally:
            rt.close()
            ipr.close()
    finally:
        os.close(fd_a)
        os.close(fd_b)


def test_a_kept_connection_parses_again_only_what_changed(pair: tuple[str, str, str]) -> None:
    """The host's connection is kept and dumped again every 30 s: an unchanged link,
    address or route is the record of the dump before (not parsed again), and a change
    (an MTU, an address, a route) is seen as ``ip`` sees it."""
    from inspector.collect.netlink import Netlink

    a, _b, veth = pair
    fd = os.open(f"/run/netns/{a}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        nl = Netlink.inside(fd)
    finally:
        os.close(fd)
    try:
        first = nl.dump()
        ip("-n", a, "link", "set", veth, "mtu", "1400")
        ip("-n", a, "addr", "add", "10.251.89.1/24", "dev", veth)
        ip("-n", a, "route", "add", "10.97.0.0/16", "via", "10.251.88.2")
        second = nl.dump()
    finally:
        nl.close()
    lo_before = next(x for x in first.links if x.interface.name == "lo")
    lo_after = next(x for x in second.links if x.interface.name == "lo")
    assert lo_after is lo_before  # the same bytes: the same record, not parsed again
    shown = json.loads(ip("-n", a, "-j", "link"))
    assert {(x.interface.name, x.interface.mtu) for x in second.links} == {
        (x["ifname"], x["mtu"]) for x in shown
    }
    assert ("10.251.89.1/24" in {r.cidr for r in second.addresses}) and (
        "10.251.89.1/24" not in {r.cidr for r in first.addresses}
    )
    assert "10.97.0.0/16" in {r.dst for r in second.routes}
    assert {r.dst for r in first.routes} < {r.dst for r in second.routes}


def test_a_bridge_and_its_port_keep_their_states_through_the_filter(
    pair: tuple[str, str, str],
) -> None:
    """A link keeps only a few of ``IFLA_LINKINFO``'s nested attributes: the bridge's STP
    state and its port's state still read as ``ip -d`` shows them."""
    from inspector.collect.netlink import Netlink

    a, _b, veth = pair
    ip("-n", a, "link", "add", "cnetsc-br0", "type", "bridge", "stp_state", "1")
    ip("-n", a, "link", "set", veth, "master", "cnetsc-br0")
    ip("-n", a, "link", "set", "cnetsc-br0", "up")
    fd = os.open(f"/run/netns/{a}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        with Netlink.inside(fd) as nl:
            links = {r.interface.name: r for r in nl.dump().links}
    finally:
        os.close(fd)
    shown = {x["ifname"]: x for x in json.loads(ip("-n", a, "-d", "-j", "link"))}
    bridge, port = links["cnetsc-br0"], links[veth]
    assert bridge.interface.kind == "bridge" and port.interface.kind == "veth"
    assert bridge.stp is (shown["cnetsc-br0"]["linkinfo"]["info_data"]["stp_state"] != 0)
    assert bridge.stp is True
    assert port.port_state == shown[veth]["linkinfo"]["info_slave_data"]["state"]
    assert port.master_index == shown["cnetsc-br0"]["ifindex"]


def test_namespaces_read_one_after_another_share_what_is_alike(
    pair: tuple[str, str, str],
) -> None:
    """One ``DumpMemos`` for the namespaces of a pass: what both hold byte for byte (``lo``)
    is parsed once, and each namespace still reads as ``ip`` shows it."""
    from inspector.collect.netlink import DumpMemos, Netlink

    memos = DumpMemos()
    dumps = {}
    for ns in pair[:2]:
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            with Netlink.inside(fd, memos) as nl:
                dumps[ns] = nl.dump()
        finally:
            os.close(fd)
    a, b = (dumps[ns] for ns in pair[:2])
    lo_a = next(x for x in a.links if x.interface.name == "lo")
    lo_b = next(x for x in b.links if x.interface.name == "lo")
    assert lo_b is lo_a
    for ns, dump in dumps.items():
        shown = json.loads(ip("-n", ns, "-j", "link"))
        assert [(x.interface.name, x.interface.ifindex, x.interface.mac) for x in dump.links] == [
            (x["ifname"], x["ifindex"], x.get("address") if x["ifname"] != "lo" else None)
            for x in shown
        ]
        assert {r.cidr for r in dump.addresses} == {
            f"{i['local']}/{i['prefixlen']}"
            for x in json.loads(ip("-n", ns, "-j", "addr"))
            for i in x["addr_info"]
        }
