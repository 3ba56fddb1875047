"""Flows from the host's connection tracking table (ctnetlink, with pyroute2's messages).

Each entry has the tuple the first packet carried (original) and the one its answers carry
(reply).  When they disagree the kernel rewrote addresses: a published port reads
``client -> 127.0.0.1:18181`` in the original and ``172.17.0.4:80 -> client`` in the reply
(DNAT); a container's outbound flow leaves with the host's address in the reply (SNAT or
MASQUERADE).  A workload's flows are the entries whose original source or reply source is one
of its addresses.

Byte and packet counts exist only when ``net.netfilter.nf_conntrack_acct`` is 1; cnet never
turns that on, it says it is off.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.marshal import Marshal
from pyroute2.netlink.nfnetlink import NFNL_SUBSYS_CTNETLINK
from pyroute2.netlink.nfnetlink.nfctsocket import IPCTNL_MSG_CT_GET, NFCTAttrTuple, nfct_msg

from inspector.collect.nlsock import NLMSG_HEADER, NetlinkSocket, nla_types, whole

ACCT_SYSCTL = "/proc/sys/net/netfilter/nf_conntrack_acct"
NETLINK_NETFILTER = 12
# The table can hold hundreds of thousands of entries; a view needs the first few thousand.
MAX_FLOWS = 5000
TCP_STATES = (
    "NONE",
    "SYN_SENT",
    "SYN_RECV",
    "ESTABLISHED",
    "FIN_WAIT",
    "CLOSE_WAIT",
    "LAST_ACK",
    "TIME_WAIT",
    "CLOSE",
    "SYN_SENT2",
)
PROTOCOLS = {socket.IPPROTO_TCP: "tcp", socket.IPPROTO_UDP: "udp", 1: "icmp", 58: "icmpv6"}


@dataclass(frozen=True)
class Tuple:
    """One direction of a flow."""

    src: str
    sport: int
    dst: str
    dport: int

    def text(self) -> str:
        return f"{_hostport(self.src, self.sport)} -> {_hostport(self.dst, self.dport)}"


def _hostport(addr: str, port: int) -> str:
    host = f"[{addr}]" if ":" in addr else addr
    return f"{host}:{port}" if port else host


@dataclass(frozen=True)
class Flow:
    """One conntrack entry; ``bytes``/``packets`` are both directions, None when the
    kernel does not account them."""

    protocol: str
    state: str  # the TCP state, or "" for protocols that have none
    timeout_s: int
    original: Tuple
    reply: Tuple
    bytes: int | None = None
    packets: int | None = None

    @property
    def dnat(self) -> bool:
        """The destination was rewritten (a published port, a DNAT rule)."""
        return (self.original.dst, self.original.dport) != (self.reply.src, self.reply.sport)

    @property
    def snat(self) -> bool:
        """The source was rewritten (MASQUERADE or SNAT on the way out)."""
        return (self.original.src, self.original.sport) != (self.reply.dst, self.reply.dport)

    def text(self) -> str:
        """``client -> host:18181 DNAT -> 172.17.0.4:80``, or with the MASQUERADE'd source."""
        o, r = self.original, self.reply
        if self.dnat:
            return f"{o.text()} DNAT -> {_hostport(r.src, r.sport)}"
        if self.snat:
            return f"{o.text()} MASQUERADE as {_hostport(r.dst, r.dport)}"
        return o.text()


@dataclass(frozen=True)
class FlowRead:
    flows: tuple[Flow, ...] = ()
    accounting: bool = False  # nf_conntrack_acct is on: bytes and packets are counted
    problem: str | None = None
    truncated: bool = False


def accounting_on(path: str = ACCT_SYSCTL) -> bool:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def _tuple(nla: Any) -> tuple[Tuple, int]:
    """One direction and its protocol number, asking pyroute2 for each attribute by name
    (it decodes an attribute when it is asked for, and only then)."""
    if nla is None:
        return Tuple("", 0, "", 0), 0
    ip, proto = nla.get_attr("CTA_TUPLE_IP"), nla.get_attr("CTA_TUPLE_PROTO")
    src = dst = ""
    if ip is not None:
        src = ip.get_attr("CTA_IP_V4_SRC") or ip.get_attr("CTA_IP_V6_SRC") or ""
        dst = ip.get_attr("CTA_IP_V4_DST") or ip.get_attr("CTA_IP_V6_DST") or ""
    if proto is None:
        return Tuple(str(src), 0, str(dst), 0), 0
    return (
        Tuple(
            str(src),
            int(proto.get_attr("CTA_PROTO_SRC_PORT") or 0),
            str(dst),
            int(proto.get_attr("CTA_PROTO_DST_PORT") or 0),
        ),
        int(proto.get_attr("CTA_PROTO_NUM") or 0),
    )


def flow_from(msg: Any, accounting: bool) -> Flow:
    """A Flow out of one ctnetlink message as pyroute2 parsed it (``nfct_msg``)."""
    original, proto = _tuple(msg.get_attr("CTA_TUPLE_ORIG"))
    reply, _ = _tuple(msg.get_attr("CTA_TUPLE_REPLY"))
    state = ""
    info = msg.get_attr("CTA_PROTOINFO")
    tcp = info.get_attr("CTA_PROTOINFO_TCP") if info is not None else None
    if tcp is not None and tcp.get_attr("CTA_PROTOINFO_TCP_STATE") is not None:
        n = int(tcp.get_attr("CTA_PROTOINFO_TCP_STATE"))
        state = TCP_STATES[n] if n < len(TCP_STATES) else str(n)
    total_bytes = total_packets = None
    if accounting:
        counts = [msg.get_attr(k) for k in ("CTA_COUNTERS_ORIG", "CTA_COUNTERS_REPLY")]
        counts = [c for c in counts if c is not None]
        if counts:
            total_bytes = sum(int(c.get_attr("CTA_COUNTERS_BYTES") or 0) for c in counts)
            total_packets = sum(int(c.get_attr("CTA_COUNTERS_PACKETS") or 0) for c in counts)
    return Flow(
        PROTOCOLS.get(proto, str(proto)),
        state,
        int(msg.get_attr("CTA_TIMEOUT") or 0),
        original,
        reply,
        total_bytes,
        total_packets,
    )


def involves(flow: Flow, addresses: Iterable[str]) -> bool:
    """The flow starts at, or is answered by, one of these addresses."""
    wanted = set(addresses)
    return flow.original.src in wanted or flow.reply.src in wanted


READ_ATTRIBUTES = (
    "CTA_TUPLE_ORIG",
    "CTA_TUPLE_REPLY",
    "CTA_PROTOINFO",
    "CTA_TIMEOUT",
    "CTA_COUNTERS_ORIG",
    "CTA_COUNTERS_REPLY",
)
"""What ``flow_from`` reads of an entry; the others (status, mark, use, id, zone,
timestamps, labels) are left out before pyroute2 builds an object for each."""
NFGENMSG_SIZE = 4
FIRST = 100
"""Flows decoded before ``progress`` hears of them: a screenful (the view shows 100)."""
YIELD_EVERY = 10
"""With a view waiting (``progress``), decoding lets go of the interpreter lock every few
ms: a thread that waits for it otherwise waits a whole switch interval (5 ms) each time
it gave it up, and a screen drawn beside the decoding took twice as long."""


class _CtSocket:
    """A ctnetlink socket of the caller's namespace, read without pyroute2's loop (nlsock)."""

    def __init__(self) -> None:
        marshal = Marshal()
        marshal.msg_map = {NFNL_SUBSYS_CTNETLINK << 8: nfct_msg}  # IPCTNL_MSG_CT_NEW: an entry
        self._sock = NetlinkSocket(NETLINK_NETFILTER, marshal)
        self._get = IPCTNL_MSG_CT_GET | (NFNL_SUBSYS_CTNETLINK << 8)
        self._msg = nfct_msg
        self._keep = (
            NLMSG_HEADER.size + NFGENMSG_SIZE,
            whole(nla_types(nfct_msg, READ_ATTRIBUTES)),
        )

    def close(self) -> None:
        self._sock.close()

    def dump(self, family: int, side: str | None, address: str | None) -> Iterator[Any]:
        """Every entry of ``family``, or (kernel 5.8 and later filters them) those whose
        ``side`` ("orig" or "reply") source is ``address``."""
        if side is None:
            msg = self._msg()
        else:
            wanted = NFCTAttrTuple(family=family, saddr=address)
            wanted.attrs()  # sets its filter flags
            flags = "CTA_FILTER_ORIG_FLAGS" if side == "orig" else "CTA_FILTER_REPLY_FLAGS"
            msg = self._msg.create_from(
                **{f"tuple_{side}": wanted, "cta_filter": {"attrs": [[flags, wanted.flags]]}}
            )
        msg["nfgen_family"] = family
        for answer in self._sock.answers(msg, self._get, dump=True, keep=self._keep):
            if answer.get("header", {}).get("error") is not None:
                raise answer["header"]["error"]
            yield answer


def _dumps(ct: _CtSocket, family: int, addresses: Sequence[str] | None) -> Iterator[Any]:
    """The entries of one family: all of them, or those whose original or reply source
    is one of ``addresses``; an entry both match comes twice (the caller drops repeats)."""
    if addresses is None:
        yield from ct.dump(family, None, None)
        return
    for address in addresses:
        yield from ct.dump(family, "orig", address)
        yield from ct.dump(family, "reply", address)


def read_flows(
    addresses: Sequence[str] | None = None,
    *,
    limit: int = MAX_FLOWS,
    progress: Callable[[FlowRead], None] | None = None,
) -> FlowRead:
    """The host table's flows of a workload (every flow when ``addresses`` is None).

    Decoding is what costs (pyroute2: ~0.2 ms an entry, 1,000 flows ~200 ms), so
    ``progress`` hears of the first ``FIRST`` once they are decoded, and a view can show
    them while the rest are.  Never raises: without root, without the conntrack module or
    ctnetlink, ``problem`` says so in one line.
    """
    accounting = accounting_on()
    found: dict[tuple[Tuple, Tuple], Flow] = {}
    truncated = False
    told = progress is None
    families = [
        (socket.AF_INET, None if addresses is None else [a for a in addresses if ":" not in a])
    ]
    families.append(
        (socket.AF_INET6, None if addresses is None else [a for a in addresses if ":" in a])
    )
    try:
        for family, wanted in families:
            if wanted == []:
                continue  # no address of this family: no socket, no dump
            ct = _CtSocket()
            try:
                for msg in _dumps(ct, family, wanted):
                    flow = flow_from(msg, accounting)
                    if wanted is not None and not involves(flow, wanted):
                        continue  # a kernel that ignored the filter
                    if len(found) >= limit:
                        truncated = True
                        break
                    found.setdefault((flow.original, flow.reply), flow)
                    if not told and len(found) == FIRST:
                        told = True
                        assert progress is not None
                        progress(FlowRead(tuple(found.values()), accounting, None, False))
                    elif progress is not None and len(found) % YIELD_EVERY == 0:
                        time.sleep(0)  # the interpreter lock to a view drawing the first
            finally:
                ct.close()
    except NetlinkError as exc:  # the kernel's answer: not an OSError in pyroute2
        return FlowRead(
            tuple(found.values()), accounting, _why(OSError(exc.code, str(exc))), truncated
        )
    except OSError as exc:
        return FlowRead(tuple(found.values()), accounting, _why(exc), truncated)
    return FlowRead(tuple(found.values()), accounting, None, truncated)


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EPERM, errno.EACCES):
        return "conntrack: not allowed to read the table (cnet needs root)"
    if exc.errno in (errno.ENOENT, errno.EPROTONOSUPPORT, errno.EOPNOTSUPP):
        return "conntrack: the kernel has no connection tracking loaded"
    return f"conntrack: {exc.strerror or exc}"


@dataclass(frozen=True)
class Talker:
    peer: str
    bytes: int
    packets: int
    flows: int


def top_talkers(flows: Iterable[Flow], own: Iterable[str], n: int = 5) -> list[Talker]:
    """The peers a workload exchanged the most bytes with (empty without accounting)."""
    mine = set(own)
    by_peer: dict[str, list[int]] = {}
    for f in flows:
        if f.bytes is None:
            continue
        peer = f.original.dst if f.original.src in mine else f.original.src
        acc = by_peer.setdefault(peer, [0, 0, 0])
        acc[0] += f.bytes
        acc[1] += f.packets or 0
        acc[2] += 1
    ranked = sorted(by_peer.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [Talker(p, b, k, c) for p, (b, k, c) in ranked[:n]]
