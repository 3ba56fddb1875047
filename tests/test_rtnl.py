"""The rtnetlink reader: attribute parsing, and that it only ever asks (never changes)."""

from __future__ import annotations

import socket
import struct

from inspector.collect import netns, rtnl
from inspector.collect.netlink import read_links, read_routes
from inspector.collect.rtnl import Rtnl


def attr(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def test_nested_attributes_are_read_with_padding() -> None:
    inner = attr(rtnl.IFLA_INFO_KIND, b"veth\0") + attr(rtnl.IFLA_INFO_SLAVE_KIND, b"bridge\0")
    body = (
        attr(rtnl.IFLA_IFNAME, b"eth0\0")
        + attr(rtnl.IFLA_MTU, struct.pack("=I", 1450))
        + attr(rtnl.IFLA_LINKINFO | 0x8000, inner)
    )
    top = rtnl.attributes(body)
    assert rtnl.text(top[rtnl.IFLA_IFNAME]) == "eth0"
    assert rtnl.u32(top[rtnl.IFLA_MTU]) == 1450
    nested = rtnl.attributes(top[rtnl.IFLA_LINKINFO])  # NLA_F_NESTED is masked off
    assert rtnl.text(nested[rtnl.IFLA_INFO_KIND]) == "veth"
    assert rtnl.text(nested[rtnl.IFLA_INFO_SLAVE_KIND]) == "bridge"


def test_truncated_attribute_stops_parsing() -> None:
    assert rtnl.attributes(struct.pack("=HH", 2, 1)) == {}


class RecordingSocket(socket.socket):
    sent_types: list[int]

    def send(self, data: bytes, *args: int) -> int:  # type: ignore[override]
        self.sent_types.append(struct.unpack_from("=IH", data)[1])
        return super().send(data, *args)


def test_reading_the_host_sends_only_get_requests() -> None:
    sock = RecordingSocket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
    sock.sent_types = []
    with Rtnl(sock) as nl:
        links = read_links(nl)
        read_routes(nl, links.interfaces)
        nl.netnsid(netns.host_netns_fd())
    gets = {rtnl.RTM_GETLINK, rtnl.RTM_GETADDR, rtnl.RTM_GETROUTE, rtnl.RTM_GETNSID}
    assert sock.sent_types and set(sock.sent_types) <= gets
    assert any(i.name == "lo" for i in links.interfaces)


def test_routes_are_the_main_table_whether_or_not_the_kernel_filters() -> None:
    """Linux before 4.20 ignores the table filter; cnet's own filter then gives the same."""
    with Rtnl() as strict, Rtnl() as lax:
        lax._sock.setsockopt(rtnl.SOL_NETLINK, rtnl.NETLINK_GET_STRICT_CHK, 0)
        assert {m.table for m in lax.routes()} > {rtnl.RT_TABLE_MAIN}  # e.g. the local table
        assert {m.table for m in strict.routes()} == {rtnl.RT_TABLE_MAIN}
        links = read_links(strict).interfaces
        assert read_routes(lax, links) == read_routes(strict, links)
