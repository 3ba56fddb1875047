"""A small, read-only rtnetlink client: dumps links, addresses and routes, asks for netns ids.

Why not pyroute2: importing it costs ~0.28 s and its message parsing dominates collection
(see "Performance" in the README); cnet only needs a handful of attributes from three dumps
(links, addresses, routes) and a netns id query, which this module reads straight from the
kernel's bytes.  It can only ask
(GET/dump); it has no way to change a link, address or route.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Iterator
from typing import NamedTuple

# nlmsghdr and message types (linux/netlink.h, linux/rtnetlink.h)
_NLMSGHDR = struct.Struct("=IHHII")
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
RTM_NEWNSID, RTM_GETNSID = 88, 90

_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct(
    "=BBBBBBBBI"
)  # family, dst_len, src_len, tos, table, proto, scope, type, flags
_RTGENMSG = struct.Struct("=Bxxx")
_RTATTR = struct.Struct("=HH")
_NLA_TYPE_MASK = 0x3FFF

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_EXT_MASK, IFLA_LINK_NETNSID = 16, 18, 29, 37
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 1, 2, 4, 5
IFLA_BRPORT_STATE = 1
IFLA_BR_STP_STATE = 5
RTEXT_FILTER_SKIP_STATS = 1 << 3
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
NETNSA_NSID, NETNSA_FD = 1, 3
RT_TABLE_MAIN = 254
SOL_NETLINK, NETLINK_GET_STRICT_CHK = 270, 12

OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")


class NetlinkError(OSError):
    """The kernel answered a request with an error."""


def attributes(
    data: bytes | memoryview, offset: int = 0, end: int | None = None
) -> dict[int, memoryview]:
    """Top-level rtattrs of a message body: type -> payload (the last one wins)."""
    view = memoryview(data)
    end = len(view) if end is None else end
    found: dict[int, memoryview] = {}
    while offset + 4 <= end:
        length, kind = _RTATTR.unpack_from(view, offset)
        if length < 4:
            break
        found[kind & _NLA_TYPE_MASK] = view[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def u8(b: memoryview) -> int:
    return b[0]


def u32(b: memoryview) -> int:
    return int(struct.unpack_from("=I", b)[0])


def s32(b: memoryview) -> int:
    return int(struct.unpack_from("=i", b)[0])


def text(b: memoryview) -> str:
    return bytes(b).split(b"\0", 1)[0].decode("utf-8", "replace")


def mac(b: memoryview) -> str:
    return ":".join(f"{x:02x}" for x in bytes(b))


def ip(b: memoryview, family: int) -> str:
    return socket.inet_ntop(family, bytes(b))


class LinkMsg(NamedTuple):
    ifindex: int
    attrs: dict[int, memoryview]


class AddrMsg(NamedTuple):
    family: int
    prefixlen: int
    ifindex: int
    attrs: dict[int, memoryview]


class RouteMsg(NamedTuple):
    family: int
    dst_len: int
    table: int
    protocol: int
    scope: int
    type: int
    attrs: dict[int, memoryview]


class Rtnl:
    """One NETLINK_ROUTE socket; by default in this thread's namespace, or an adopted one."""

    def __init__(self, sock: socket.socket | None = None) -> None:
        self._sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
        self._sock.bind((0, 0))
        with contextlib.suppress(OSError):  # before Linux 4.20: no filtering, still correct
            self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        self._seq = 0
        self._buf = bytearray(1 << 17)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, msg_type: int, flags: int, body: bytes) -> Iterator[tuple[int, memoryview]]:
        """Send one request; yield (type, body) of each reply until the dump or answer ends."""
        self._seq += 1
        seq = self._seq
        header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), msg_type, NLM_F_REQUEST | flags, seq, 0)
        self._sock.send(header + body)
        dump = bool(flags & NLM_F_DUMP)
        while True:
            size = self._sock.recv_into(self._buf)
            # Copy: the parsed messages keep views into it after the buffer is reused.
            view = memoryview(bytes(memoryview(self._buf)[:size]))
            offset = 0
            while offset + _NLMSGHDR.size <= size:
                length, kind, _flags, mseq, _pid = _NLMSGHDR.unpack_from(view, offset)
                if length < _NLMSGHDR.size:
                    return
                payload = view[offset + _NLMSGHDR.size : offset + length]
                offset += (length + 3) & ~3
                if mseq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    code = s32(payload)
                    if code != 0:
                        raise NetlinkError(-code, os.strerror(-code))
                    return
                yield kind, payload
                if not dump:
                    return

    def links(self) -> list[LinkMsg]:
        body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        body += _RTATTR.pack(8, IFLA_EXT_MASK) + struct.pack("=I", RTEXT_FILTER_SKIP_STATS)
        return [
            LinkMsg(ifindex=_IFINFOMSG.unpack_from(p)[2], attrs=attributes(p, _IFINFOMSG.size))
            for kind, p in self._request(RTM_GETLINK, NLM_F_DUMP, body)
            if kind == RTM_NEWLINK
        ]

    def addresses(self) -> list[AddrMsg]:
        body = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        out = []
        for kind, p in self._request(RTM_GETADDR, NLM_F_DUMP, body):
            if kind == RTM_NEWADDR:
                family, prefixlen, _flags, _scope, index = _IFADDRMSG.unpack_from(p)
                out.append(AddrMsg(family, prefixlen, index, attributes(p, _IFADDRMSG.size)))
        return out

    def routes(self, table: int = RT_TABLE_MAIN) -> list[RouteMsg]:
        """Routes of every family in one dump; the kernel keeps to ``table`` where it can.

        With strict checking (Linux 4.20+) the kernel skips the other tables, such as the
        local one with a route per address; callers still filter, for older kernels.
        """
        body = _RTMSG.pack(socket.AF_UNSPEC, 0, 0, 0, table, 0, 0, 0, 0)
        body += _RTATTR.pack(8, RTA_TABLE) + struct.pack("=I", table)
        out = []
        for kind, p in self._request(RTM_GETROUTE, NLM_F_DUMP, body):
            if kind == RTM_NEWROUTE:
                fam, dst_len, _src, _tos, tab, proto, scope, rtype, _fl = _RTMSG.unpack_from(p)
                attrs = attributes(p, _RTMSG.size)
                if RTA_TABLE in attrs:
                    tab = u32(attrs[RTA_TABLE])
                out.append(RouteMsg(fam, dst_len, tab, proto, scope, rtype, attrs))
        return out

    def netnsid(self, ns_fd: int) -> int | None:
        """The id this socket's namespace gives the namespace ``ns_fd`` (None: none assigned)."""
        body = (
            _RTGENMSG.pack(socket.AF_UNSPEC) + _RTATTR.pack(8, NETNSA_FD) + struct.pack("=I", ns_fd)
        )
        for kind, p in self._request(RTM_GETNSID, 0, body):
            if kind == RTM_NEWNSID:
                attrs = attributes(p, _RTGENMSG.size)
                if NETNSA_NSID in attrs:
                    nsid = s32(attrs[NETNSA_NSID])
                    return nsid if nsid >= 0 else None
        return None
