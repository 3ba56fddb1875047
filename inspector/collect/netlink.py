"""Read links, addresses, routes and bridges through netlink (pyroute2) into the model.

Functions take an open ``IPRoute`` so the same code reads the host and, through a
socket made by ``netns.netlink_socket_in``, any container namespace.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from inspector.model import Bridge, BridgePort, Interface, Route

NO_NSID = 4294967295  # the kernel's "no id assigned" (-1 as u32)

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
MAIN_TABLE = 254
RTN_UNICAST = 1


@dataclass(frozen=True)
class LinkDump:
    """One namespace's links, with the bridge facts only the host needs."""

    interfaces: tuple[Interface, ...]
    bridges: tuple[Bridge, ...]


def _attr(msg: Any, name: str) -> Any:
    return msg.get_attr(name)


def _addresses_by_index(ipr: Any) -> dict[int, list[str]]:
    by_index: dict[int, list[str]] = defaultdict(list)
    for msg in ipr.get_addr():
        addr = _attr(msg, "IFA_ADDRESS")
        if addr is None:
            continue
        local = _attr(msg, "IFA_LOCAL")
        # On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
        by_index[msg["index"]].append(f"{local or addr}/{msg['prefixlen']}")
    return by_index


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def read_links(ipr: Any) -> LinkDump:
    """Dump links and addresses; bridges come with their ports and STP state."""
    addresses = _addresses_by_index(ipr)
    raw = list(ipr.get_links())
    names = {msg["index"]: _attr(msg, "IFLA_IFNAME") for msg in raw}
    interfaces: list[Interface] = []
    bridge_msgs: list[Any] = []
    port_states: dict[int, str] = {}
    for msg in raw:
        index = msg["index"]
        linkinfo = _attr(msg, "IFLA_LINKINFO")
        kind = linkinfo.get_attr("IFLA_INFO_KIND") if linkinfo is not None else None
        if linkinfo is not None and linkinfo.get_attr("IFLA_INFO_SLAVE_KIND") == "bridge":
            slave = linkinfo.get_attr("IFLA_INFO_SLAVE_DATA")
            state = slave.get_attr("IFLA_BRPORT_STATE") if slave is not None else None
            port_states[index] = (
                BRPORT_STATES.get(state, str(state)) if state is not None else "unknown"
            )
        iflink = _optional_int(_attr(msg, "IFLA_LINK"))
        netnsid = _optional_int(_attr(msg, "IFLA_LINK_NETNSID"))
        master = _attr(msg, "IFLA_MASTER")
        mac = _attr(msg, "IFLA_ADDRESS")
        interfaces.append(
            Interface(
                name=names[index],
                ifindex=index,
                # A link that is its own link (iflink == ifindex) has no lower device.
                iflink=iflink
                if iflink not in (None, 0) and (iflink != index or netnsid is not None)
                else None,
                kind=kind,
                mac=mac if mac and mac != "00:00:00:00:00:00" else None,
                mtu=_optional_int(_attr(msg, "IFLA_MTU")),
                state=str(_attr(msg, "IFLA_OPERSTATE") or "unknown").lower(),
                addresses=tuple(addresses.get(index, ())),
                master=names.get(master) if master else None,
                link_netnsid=netnsid if netnsid is not None and netnsid != NO_NSID else None,
            )
        )
        if kind == "bridge":
            bridge_msgs.append(msg)
    by_index = {i.ifindex: i for i in interfaces}
    bridges = []
    for msg in bridge_msgs:
        info = _attr(msg, "IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
        stp = info.get_attr("IFLA_BR_STP_STATE") if info is not None else None
        me = by_index[msg["index"]]
        ports = tuple(
            BridgePort(name=i.name, ifindex=i.ifindex, state=port_states.get(i.ifindex, "unknown"))
            for i in interfaces
            if i.master == me.name
        )
        bridges.append(
            Bridge(
                name=me.name,
                ifindex=me.ifindex,
                state=me.state,
                addresses=me.addresses,
                stp=bool(stp),
                ports=ports,
            )
        )
    return LinkDump(interfaces=tuple(interfaces), bridges=tuple(bridges))


def read_routes(ipr: Any, interfaces: tuple[Interface, ...]) -> tuple[Route, ...]:
    """The main table (IPv4 and IPv6), unicast routes, in kernel order."""
    names = {i.ifindex: i.name for i in interfaces}
    routes = []
    for family in (socket.AF_INET, socket.AF_INET6):
        for msg in ipr.get_routes(family=family, table=MAIN_TABLE):
            if msg["type"] != RTN_UNICAST:
                continue
            dst = _attr(msg, "RTA_DST")
            dst_len = msg["dst_len"]
            if dst is None and dst_len == 0:
                dst_text = "default"
            else:
                base = dst or ("::" if family == socket.AF_INET6 else "0.0.0.0")
                dst_text = str(ipaddress.ip_network(f"{base}/{dst_len}", strict=False))
            oif = _attr(msg, "RTA_OIF")
            routes.append(
                Route(
                    dst=dst_text,
                    gateway=_attr(msg, "RTA_GATEWAY"),
                    dev=names.get(oif) if oif is not None else None,
                    scope=ROUTE_SCOPES.get(msg["scope"], str(msg["scope"])),
                    protocol=ROUTE_PROTOCOLS.get(msg["proto"], str(msg["proto"])),
                    metric=_optional_int(_attr(msg, "RTA_PRIORITY")),
                )
            )
    return tuple(routes)


def netnsid_of(ipr: Any, ns_fd: int) -> int | None:
    """The id the namespace of ``ipr`` gives the namespace ``ns_fd`` (None: none assigned)."""
    reply = ipr.get_netnsid(fd=ns_fd)
    nsid = reply.get("nsid") if isinstance(reply, dict) else None
    if nsid is None or nsid == NO_NSID or nsid < 0:
        return None
    return int(nsid)
