"""Netlink through pyroute2: one namespace's links, addresses and routes, as small records.

The same record functions read a dump and a single event message (``RTM_NEWLINK`` and
the like), so the live inventory applies a kernel notification exactly as it would have
read it in a dump.  Everything here only asks: no function can change a link, address or
route.  A namespace other than the host's is read through a socket created while this
thread is inside it (``netns.inside``): its socket stays bound there.  Dumps go through
``collect.rtnl`` (no asyncio loop); the event subscription stays on pyroute2's ``IPRoute``.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterable
from typing import Any

from inspector.collect import netns
from inspector.model.records import (
    AddressRecord,
    LinkRecord,
    NamespaceDump,
    NexthopRecord,
    RouteRecord,
)
from inspector.model.snapshot import Interface

BRPORT_STATES = {0: "disabled", 1: "listening", 2: "learning", 3: "forwarding", 4: "blocking"}
ROUTE_SCOPES = {0: "universe", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
# The names iproute2 gives route protocols (/usr/share/iproute2/rt_protos).
ROUTE_PROTOCOLS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    17: "mrouted",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
# rtnetlink.h RTN_*: the names iproute2 prints for route types.
ROUTE_TYPES = {
    0: "unspec",
    1: "unicast",
    2: "local",
    3: "broadcast",
    4: "anycast",
    5: "multicast",
    6: "blackhole",
    7: "unreachable",
    8: "prohibit",
    9: "throw",
    10: "nat",
    11: "xresolve",
}
# /usr/share/iproute2/rt_tables; any other table keeps its number.
ROUTE_TABLES = {0: "unspec", 253: "default", 254: "main", 255: "local"}
LOCAL_TABLE = 255
KERNEL_PROTOCOL = 2
NO_NSID = 4294967295  # what the kernel answers for a namespace it gave no id
# Links, IPv4/IPv6 addresses and routes (linux/rtnetlink.h RTMGRP_*).
EVENT_GROUPS = 0x1 | 0x10 | 0x40 | 0x100 | 0x400
EVENT_RCVBUF = 8 * 1024 * 1024
"""Receive buffer of the event socket: a burst of container starts stays well inside it;
past it the kernel drops events and says ENOBUFS, and the reader re-dumps."""


def _lower_link(index: int, iflink: int | None, netnsid: int | None) -> int | None:
    """IFLA_LINK, or None where it names no other device (0, or the link itself in-namespace)."""
    if not iflink or (iflink == index and netnsid is None):
        return None
    return iflink


def link_record(msg: Any) -> LinkRecord:
    """A ``RTM_NEWLINK`` message (from a dump or an event) as a record."""
    index = int(msg["index"])
    kind = msg.get(("linkinfo", "kind"))
    port_state: str | None = None
    if msg.get(("linkinfo", "slave_kind")) == "bridge":
        state = msg.get(("IFLA_LINKINFO", "IFLA_INFO_SLAVE_DATA", "IFLA_BRPORT_STATE"))
        port_state = BRPORT_STATES.get(state, str(state)) if state is not None else "unknown"
    stp: bool | None = None
    if kind == "bridge":
        stp = bool(msg.get(("IFLA_LINKINFO", "IFLA_INFO_DATA", "IFLA_BR_STP_STATE")) or 0)
    netnsid = msg.get("link_netnsid")
    if netnsid is not None and not 0 <= netnsid < NO_NSID:
        netnsid = None
    mac = msg.get("address")
    master = msg.get("master")
    return LinkRecord(
        interface=Interface(
            name=str(msg.get("ifname") or f"if{index}"),
            ifindex=index,
            iflink=_lower_link(index, msg.get("link"), netnsid),
            kind=str(kind) if kind else None,
            mac=mac if mac and mac != "00:00:00:00:00:00" else None,
            mtu=msg.get("mtu"),
            state=str(msg.get("operstate") or "unknown").lower(),
            link_netnsid=netnsid,
        ),
        master_index=int(master) if master else None,
        port_state=port_state,
        stp=stp,
    )


def address_record(msg: Any) -> AddressRecord | None:
    """An ``RTM_NEWADDR``/``RTM_DELADDR`` message; None for families cnet does not show."""
    if msg["family"] not in (socket.AF_INET, socket.AF_INET6):
        return None
    # On point-to-point links IFA_ADDRESS is the peer's; IFA_LOCAL is ours.
    address = msg.get("local") or msg.get("address")
    if address is None:
        return None
    return AddressRecord(int(msg["index"]), f"{address}/{msg['prefixlen']}")


def _gateway(msg: Any) -> str | None:
    """RTA_GATEWAY, or RTA_VIA (an IPv4 route through an IPv6 neighbour)."""
    gateway = msg.get("gateway")
    if gateway is None:
        via = msg.get("via")
        gateway = via.get("addr") if isinstance(via, dict) else None
    return str(gateway) if gateway is not None else None


def _nexthops(msg: Any) -> tuple[NexthopRecord, ...]:
    """RTA_MULTIPATH's nexthops; the kernel keeps ``weight - 1`` in ``rtnh_hops``."""
    return tuple(
        NexthopRecord(gateway=_gateway(nh), oif=nh["oif"] or None, weight=int(nh["hops"]) + 1)
        for nh in msg.get("multipath") or ()
    )


def route_record(msg: Any) -> RouteRecord | None:
    """An ``RTM_NEWROUTE``/``RTM_DELROUTE`` message, any type and table; None for other
    families and for what the kernel itself keeps in the ``local`` table.

    The ``local`` table holds, for every address, the routes the kernel derives from it
    (``local``, ``broadcast``, IPv6 ``multicast``): those say again what the addresses
    say, so they are left out, as ``ip route`` leaves them out.  A route a person or a
    daemon put there (``ip route add local 10.0.0.0/8 dev lo``: protocol ``boot``) is
    kept, as is every route of every other table (policy routing) and type.
    """
    family = msg["family"]
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    table = msg.get("table") or msg["table"]
    if table == LOCAL_TABLE and msg["proto"] == KERNEL_PROTOCOL:
        return None
    dst = msg.get("dst")
    if dst is None and msg["dst_len"] == 0:
        text = "default"
    else:
        base = dst if dst is not None else ("::" if family == socket.AF_INET6 else "0.0.0.0")
        text = f"{base}/{msg['dst_len']}"  # the kernel keeps route prefixes masked
    prefsrc = msg.get("prefsrc")
    return RouteRecord(
        family=family,
        dst=text,
        gateway=_gateway(msg),
        oif=msg.get("oif"),
        scope=ROUTE_SCOPES.get(msg["scope"], str(msg["scope"])),
        protocol=ROUTE_PROTOCOLS.get(msg["proto"], str(msg["proto"])),
        metric=msg.get("priority"),
        type=ROUTE_TYPES.get(msg["type"], str(msg["type"])),
        table=ROUTE_TABLES.get(table, str(table)),
        nexthops=_nexthops(msg),
        prefsrc=str(prefsrc) if prefsrc is not None else None,
    )


def _made(records: Iterable[Any]) -> tuple[Any, ...]:
    """The records, without the messages their maker left out (None)."""
    return tuple(r for r in records if r is not None)


class DumpMemos:
    """What the last dump's messages became (``nlsock.Memo``), for the next dump to reuse.

    A connection kept (the host's) parses again only what changed since its last dump.
    The namespaces of one host share theirs, read one after the other: a dense node's
    namespaces are alike (``lo``, its addresses, the default route, the IPv6 routes of
    ``eth0`` are the same bytes in each), so a namespace's read parses only what is its own.
    Used by one thread at a time."""

    def __init__(self) -> None:
        from inspector.collect.nlsock import Memo  # why: pyroute2's import, as Netlink's

        self.links = Memo(link_record)
        self.addresses = Memo(address_record)
        self.routes = Memo(route_record)


class Netlink:
    """An rtnetlink connection to one namespace, for dumps: a plain socket read without
    pyroute2's asyncio loop, its answers parsed by pyroute2's own messages
    (``collect.rtnl``; 2.5x less CPU a namespace than ``IPRoute``).

    Made on the thread that uses it.  ``Netlink.inside(fd)`` opens one in the namespace
    ``fd`` names without forking: this thread steps in, creates the socket, steps back.
    """

    def __init__(self, memos: DumpMemos | None = None) -> None:
        # Imported here: pyroute2 takes a fifth of a second to import, and a command that
        # reads no namespace (a saved snapshot, --help) never pays it.
        from inspector.collect.rtnl import RtnlSocket

        self._rt = RtnlSocket()
        self._memos = memos if memos is not None else DumpMemos()

    @classmethod
    def inside(cls, ns_fd: int, memos: DumpMemos | None = None) -> Netlink:
        with netns.inside(ns_fd):
            return cls(memos)

    def close(self) -> None:
        self._rt.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def dump(self) -> NamespaceDump:
        """Links, addresses and the routes (``route_record`` says which)."""
        memos = self._memos
        return NamespaceDump(
            links=_made(self._rt.links(memos.links)),
            addresses=_made(self._rt.addresses(memos.addresses)),
            routes=self.routes(),
        )

    def routes(self) -> tuple[RouteRecord, ...]:
        """Every table's routes, IPv4 then IPv6, kernel order within each."""
        return _made(self._rt.routes(self._memos.routes))

    def link(self, ifindex: int) -> LinkRecord | None:
        """One link by index; None when it is gone."""
        msg = self._rt.link(ifindex)
        return link_record(msg) if msg is not None else None

    def netnsid(self, ns_fd: int) -> int | None:
        """The id this namespace gives the namespace ``ns_fd``; None when it gave none."""
        nsid = self._rt.netnsid(ns_fd)
        return nsid if nsid is not None and 0 <= nsid < NO_NSID else None


class NetlinkEvents:
    """The host's link, address and route notifications (pyroute2 ``bind``), blocking.

    ``get`` raises ``OSError(ENOBUFS)`` when the kernel dropped notifications because
    the buffer was full: the caller must re-dump, since what was lost is unknown.
    """

    def __init__(self, rcvbuf: int = EVENT_RCVBUF) -> None:
        from pyroute2 import IPRoute

        self._ipr = IPRoute(rcvbuf=rcvbuf)
        self._ipr.bind(groups=EVENT_GROUPS)

    def get(self) -> list[Any]:
        return list(self._ipr.get())

    def close(self) -> None:
        """Close; after ENOBUFS pyroute2 raises the socket's error once more here."""
        with contextlib.suppress(OSError):
            self._ipr.close()


def is_enobufs(exc: BaseException) -> bool:
    """The kernel dropped notifications: what the reader knows is no longer complete."""
    return isinstance(exc, OSError) and exc.errno == errno.ENOBUFS
