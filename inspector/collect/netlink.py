"""Turn rtnetlink dumps (``rtnl``) into the model: links, addresses, routes and bridges.

The same functions read the host and, through a socket made by
``netns.netlink_socket_in``, any container namespace.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from typing import NamedTuple

from inspector.collect import rtnl
from inspector.collect.rtnl import Rtnl
from inspector.model import Bridge, BridgePort, Interface, Route

BRPORT_STATES = {0: "disabled", 1: "listening", 2: "learning", 3: "forwarding", 4: "blocking"}
ROUTE_SCOPES = {0: "universe", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
ROUTE_PROTOCOLS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    16: "dhcp",
    42: "babel",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
}
MAIN_TABLE = rtnl.RT_TABLE_MAIN
RTN_UNICAST = 1


class LinkDump(NamedTuple):
    """One namespace's links, and the bridges among them with their ports."""

    interfaces: tuple[Interface, ...]
    bridges: tuple[Bridge, ...]


def _addresses_by_index(nl: Rtnl) -> dict[int, list[str]]:
    by_index: dict[int, list[str]] = defaultdict(list)
    for msg in nl.addresses():
        # On point-to-point links IFA_ADDRESS is the peer's; IFA_LOCAL is ours.
        raw = msg.attrs.get(rtnl.IFA_LOCAL) or msg.attrs.get(rtnl.IFA_ADDRESS)
        if raw is not None and msg.family in (socket.AF_INET, socket.AF_INET6):
            by_index[msg.ifindex].append(f"{rtnl.ip(raw, msg.family)}/{msg.prefixlen}")
    return by_index


def _lower_link(index: int, iflink: int | None, netnsid: int | None) -> int | None:
    """IFLA_LINK, or None where it names no other device (0, or the link itself in-namespace)."""
    if not iflink or (iflink == index and netnsid is None):
        return None
    return iflink


def read_links(nl: Rtnl) -> LinkDump:
    """Dump links and addresses; bridges come with their ports and STP state."""
    addresses = _addresses_by_index(nl)
    msgs = nl.links()
    names = {
        m.ifindex: rtnl.text(m.attrs[rtnl.IFLA_IFNAME]) for m in msgs if rtnl.IFLA_IFNAME in m.attrs
    }
    interfaces: list[Interface] = []
    port_states: dict[int, str] = {}
    stp: dict[int, bool] = {}
    for m in msgs:
        a = m.attrs
        info = rtnl.attributes(a[rtnl.IFLA_LINKINFO]) if rtnl.IFLA_LINKINFO in a else {}
        kind = rtnl.text(info[rtnl.IFLA_INFO_KIND]) if rtnl.IFLA_INFO_KIND in info else None
        if (
            rtnl.IFLA_INFO_SLAVE_KIND in info
            and rtnl.text(info[rtnl.IFLA_INFO_SLAVE_KIND]) == "bridge"
        ):
            slave = (
                rtnl.attributes(info[rtnl.IFLA_INFO_SLAVE_DATA])
                if rtnl.IFLA_INFO_SLAVE_DATA in info
                else {}
            )
            state = (
                rtnl.u8(slave[rtnl.IFLA_BRPORT_STATE]) if rtnl.IFLA_BRPORT_STATE in slave else None
            )
            port_states[m.ifindex] = (
                BRPORT_STATES.get(state, str(state)) if state is not None else "unknown"
            )
        if kind == "bridge":
            data = rtnl.attributes(info[rtnl.IFLA_INFO_DATA]) if rtnl.IFLA_INFO_DATA in info else {}
            stp[m.ifindex] = (
                bool(rtnl.u32(data[rtnl.IFLA_BR_STP_STATE]))
                if rtnl.IFLA_BR_STP_STATE in data
                else False
            )
        netnsid = rtnl.s32(a[rtnl.IFLA_LINK_NETNSID]) if rtnl.IFLA_LINK_NETNSID in a else None
        if netnsid is not None and netnsid < 0:
            netnsid = None
        iflink = rtnl.u32(a[rtnl.IFLA_LINK]) if rtnl.IFLA_LINK in a else None
        address = rtnl.mac(a[rtnl.IFLA_ADDRESS]) if rtnl.IFLA_ADDRESS in a else None
        operstate = rtnl.u8(a[rtnl.IFLA_OPERSTATE]) if rtnl.IFLA_OPERSTATE in a else 0
        master = rtnl.u32(a[rtnl.IFLA_MASTER]) if rtnl.IFLA_MASTER in a else 0
        interfaces.append(
            Interface(
                name=names.get(m.ifindex, f"if{m.ifindex}"),
                ifindex=m.ifindex,
                iflink=_lower_link(m.ifindex, iflink, netnsid),
                kind=kind,
                mac=address if address and address != "00:00:00:00:00:00" else None,
                mtu=rtnl.u32(a[rtnl.IFLA_MTU]) if rtnl.IFLA_MTU in a else None,
                state=rtnl.OPERSTATES[operstate]
                if operstate < len(rtnl.OPERSTATES)
                else str(operstate),
                addresses=tuple(addresses.get(m.ifindex, ())),
                master=names.get(master) if master else None,
                link_netnsid=netnsid,
            )
        )
    bridges = tuple(
        Bridge(
            name=b.name,
            ifindex=b.ifindex,
            state=b.state,
            addresses=b.addresses,
            stp=stp[b.ifindex],
            ports=tuple(
                BridgePort(
                    name=i.name, ifindex=i.ifindex, state=port_states.get(i.ifindex, "unknown")
                )
                for i in interfaces
                if i.master == b.name
            ),
        )
        for b in interfaces
        if b.ifindex in stp
    )
    return LinkDump(interfaces=tuple(interfaces), bridges=bridges)


def read_routes(nl: Rtnl, interfaces: tuple[Interface, ...]) -> tuple[Route, ...]:
    """The main table (IPv4 then IPv6), unicast routes, in kernel order."""
    names = {i.ifindex: i.name for i in interfaces}
    routes = []
    msgs = [m for m in nl.routes(MAIN_TABLE) if m.family in (socket.AF_INET, socket.AF_INET6)]
    msgs.sort(key=lambda m: m.family != socket.AF_INET)  # stable: kernel order in a family
    for msg in msgs:
        if msg.table != MAIN_TABLE or msg.type != RTN_UNICAST:
            continue
        family = msg.family
        a = msg.attrs
        if rtnl.RTA_DST not in a and msg.dst_len == 0:
            dst = "default"
        else:
            base = (
                rtnl.ip(a[rtnl.RTA_DST], family)
                if rtnl.RTA_DST in a
                else ("::" if family == socket.AF_INET6 else "0.0.0.0")
            )
            dst = f"{base}/{msg.dst_len}"  # the kernel keeps route prefixes masked
        oif = rtnl.u32(a[rtnl.RTA_OIF]) if rtnl.RTA_OIF in a else None
        routes.append(
            Route(
                dst=dst,
                gateway=rtnl.ip(a[rtnl.RTA_GATEWAY], family) if rtnl.RTA_GATEWAY in a else None,
                dev=names.get(oif) if oif is not None else None,
                scope=ROUTE_SCOPES.get(msg.scope, str(msg.scope)),
                protocol=ROUTE_PROTOCOLS.get(msg.protocol, str(msg.protocol)),
                metric=rtnl.u32(a[rtnl.RTA_PRIORITY]) if rtnl.RTA_PRIORITY in a else None,
            )
        )
    return tuple(routes)
