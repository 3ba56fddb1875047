"""An rtnetlink socket read synchronously: pyroute2's messages without pyroute2's loop.

pyroute2 0.9's ``IPRoute`` runs every request through an asyncio loop of its own: about
35 ``run_until_complete`` round trips per namespace read, two thirds of a read's cost.  At
a thousand namespaces that was most of ``cnet snapshot``'s 7-9 s.  Here a plain
``AF_NETLINK`` socket sends the request pyroute2's own message class encoded, ``recv``
takes the reply, and pyroute2's ``MarshalRtnl`` parses it into the same messages
``IPRoute`` would give (measured at 1,000 namespaces: 10 s -> 5.3 s for the same three
dumps, with the floor of the bare ``recv`` at 1.2 s).

A route dump also holds what the kernel keeps in its ``local`` table for every address
(two thirds of a container's routes, which ``netlink.route_record`` drops); those are
told apart by two bytes of the fixed ``rtmsg`` header and never decoded.

The socket belongs to the namespace of the thread that made it (``netns.inside``), so one
socket per namespace serves its three dumps and its id queries.  Only asks: nothing here
can change a link, address or route.
"""

from __future__ import annotations

import errno
import socket
import struct
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_GETADDR, RTM_GETLINK, RTM_GETNSID, RTM_GETROUTE
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from inspector.collect.nlsock import (
    NLMSG_HEADER,
    Memo,
    NetlinkSocket,
    nla_type,
    nla_types,
    one_dump,
    whole,
)

RTMSG_TABLE_PROTOCOL = struct.Struct("BB")
RTMSG_TABLE_AT = NLMSG_HEADER.size + 4  # family, dst_len, src_len, tos, then table, protocol
LOCAL_TABLE = 255
KERNEL_PROTOCOL = 2

LINK_ATTRIBUTES = (
    "IFLA_ADDRESS",
    "IFLA_IFNAME",
    "IFLA_MTU",
    "IFLA_LINK",
    "IFLA_MASTER",
    "IFLA_OPERSTATE",
    "IFLA_LINKINFO",
    "IFLA_LINK_NETNSID",
)
"""What ``netlink.link_record`` reads of a link.  A link carries about forty attributes
(counters, queues, offload sizes, each family's settings) and pyroute2 builds an object
for every one of them: at 1,000 bridge ports that was most of a host dump.  The others
are left out of the message before pyroute2 sees it."""
IFINFOMSG_SIZE = 16


def kernel_local_route(data: bytes, offset: int) -> bool:
    """A route the kernel derived from an address in its ``local`` table (read from the
    fixed header, before anything is decoded): ``route_record`` would drop it anyway."""
    table, protocol = RTMSG_TABLE_PROTOCOL.unpack_from(data, offset + RTMSG_TABLE_AT)
    return bool(table == LOCAL_TABLE and protocol == KERNEL_PROTOCOL)


_INFO = ifinfmsg.ifinfo
LINK_KEEP = (
    NLMSG_HEADER.size + IFINFOMSG_SIZE,
    {
        **whole(nla_types(ifinfmsg, LINK_ATTRIBUTES)),
        nla_type(ifinfmsg, "IFLA_LINKINFO"): {
            nla_type(_INFO, "IFLA_INFO_KIND"): None,
            nla_type(_INFO, "IFLA_INFO_SLAVE_KIND"): None,
            nla_type(_INFO, "IFLA_INFO_DATA"): {
                nla_type(_INFO.bridge_data, "IFLA_BR_STP_STATE"): None
            },
            nla_type(_INFO, "IFLA_INFO_SLAVE_DATA"): {
                nla_type(_INFO.bridge_slave_data, "IFLA_BRPORT_STATE"): None
            },
        },
    },
)
"""Of ``IFLA_LINKINFO``, only the kinds, a bridge's STP state and a port's state: a bridge
port's slave data alone is about forty attributes, and the host of a dense node has one
port per workload (a third of ``cnet snapshot`` at 1,000 namespaces was that dump)."""
IFADDRMSG_SIZE = 8
ADDRESS_KEEP = (
    NLMSG_HEADER.size + IFADDRMSG_SIZE,
    whole(nla_types(ifaddrmsg, ("IFA_ADDRESS", "IFA_LOCAL"))),
)
"""What ``netlink.address_record`` reads of an address besides its fixed header; the
cache info (lifetimes, timestamps), flags and label are left out."""


class RtnlSocket(NetlinkSocket):
    """One rtnetlink socket in the namespace of the thread that made it; one thread uses it."""

    def __init__(self) -> None:
        super().__init__(socket.NETLINK_ROUTE, MarshalRtnl(), strict=True)

    def links(self, memo: Memo | None = None) -> list[Any]:
        """Every link, with only the attributes ``LINK_ATTRIBUTES`` names (or, with a
        ``memo``, what its ``make`` made of each)."""
        with one_dump(memo):
            return self.ask(
                ifinfmsg(), RTM_GETLINK, dump=True, keep=LINK_KEEP, memo=memo, same="links"
            )

    def link(self, ifindex: int) -> Any | None:
        """One link by index; None when there is none (ENODEV)."""
        msg = ifinfmsg()
        msg["index"] = ifindex
        try:
            found = self.ask(msg, RTM_GETLINK, keep=LINK_KEEP)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return None
            raise
        return found[0] if found else None

    def addresses(self, memo: Memo | None = None) -> list[Any]:
        """Every address, with only its ``IFA_ADDRESS`` and ``IFA_LOCAL`` (or, with a
        ``memo``, what its ``make`` made of each)."""
        with one_dump(memo):
            return self.ask(
                ifaddrmsg(), RTM_GETADDR, dump=True, keep=ADDRESS_KEEP, memo=memo, same="addresses"
            )

    def routes(self, memo: Memo | None = None) -> list[Any]:
        """Every table's routes, IPv4 then IPv6, but the kernel's own ``local`` ones (or,
        with a ``memo``, what its ``make`` made of each).

        One dump per family: asked for both at once (``AF_UNSPEC``), this kernel (6.18)
        ends the dump after the IPv4 routes."""
        with one_dump(memo):
            out: list[Any] = []
            for family in (socket.AF_INET, socket.AF_INET6):
                msg = rtmsg()
                msg["family"] = family
                out.extend(
                    self.ask(
                        msg,
                        RTM_GETROUTE,
                        dump=True,
                        skip=kernel_local_route,
                        memo=memo,
                        same=("routes", family),
                    )
                )
            return out

    def netnsid(self, ns_fd: int) -> int | None:
        """The id this namespace gives the namespace ``ns_fd`` (the kernel's answer as
        is: 4294967295 when it gave none); None when there was no answer."""
        msg = nsidmsg()
        msg["attrs"] = [("NETNSA_FD", ns_fd)]
        for answer in self.ask(msg, RTM_GETNSID):
            nsid = answer.get_attr("NETNSA_NSID")
            return int(nsid) if nsid is not None else None
        return None
