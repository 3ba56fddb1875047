"""Flows from the host's connection tracking table (ctnetlink through pyroute2's NFCTSocket).

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACCT_SYSCTL = "/proc/sys/net/netfilter/nf_conntrack_acct"
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


def _attrs(nla: Any) -> dict[str, Any]:
    """An nla's attributes by name (pyroute2 gives a list of pairs, or a dict-like)."""
    if nla is None:
        return {}
    raw = nla.get("attrs", []) if isinstance(nla, Mapping) else nla["attrs"]
    return {name: value for name, value, *_ in raw}


def _tuple(nla: Any) -> tuple[Tuple, int]:
    attrs = _attrs(nla)
    ip = _attrs(attrs.get("CTA_TUPLE_IP"))
    proto = _attrs(attrs.get("CTA_TUPLE_PROTO"))
    src = ip.get("CTA_IP_V4_SRC") or ip.get("CTA_IP_V6_SRC") or ""
    dst = ip.get("CTA_IP_V4_DST") or ip.get("CTA_IP_V6_DST") or ""
    return (
        Tuple(
            str(src),
            int(proto.get("CTA_PROTO_SRC_PORT") or 0),
            str(dst),
            int(proto.get("CTA_PROTO_DST_PORT") or 0),
        ),
        int(proto.get("CTA_PROTO_NUM") or 0),
    )


def flow_from(msg: Mapping[str, Any], accounting: bool) -> Flow:
    """A Flow out of one decoded ctnetlink message."""
    attrs = _attrs(msg)
    original, proto = _tuple(attrs.get("CTA_TUPLE_ORIG"))
    reply, _ = _tuple(attrs.get("CTA_TUPLE_REPLY"))
    state = ""
    tcp = _attrs(_attrs(attrs.get("CTA_PROTOINFO")).get("CTA_PROTOINFO_TCP"))
    if "CTA_PROTOINFO_TCP_STATE" in tcp:
        n = int(tcp["CTA_PROTOINFO_TCP_STATE"])
        state = TCP_STATES[n] if n < len(TCP_STATES) else str(n)
    total_bytes = total_packets = None
    if accounting:
        counts = [_attrs(attrs.get(k)) for k in ("CTA_COUNTERS_ORIG", "CTA_COUNTERS_REPLY")]
        if any(counts):
            total_bytes = sum(int(c.get("CTA_COUNTERS_BYTES") or 0) for c in counts)
            total_packets = sum(int(c.get("CTA_COUNTERS_PACKETS") or 0) for c in counts)
    return Flow(
        PROTOCOLS.get(proto, str(proto)),
        state,
        int(attrs.get("CTA_TIMEOUT") or 0),
        original,
        reply,
        total_bytes,
        total_packets,
    )


def involves(flow: Flow, addresses: Iterable[str]) -> bool:
    """The flow starts at, or is answered by, one of these addresses."""
    wanted = set(addresses)
    return flow.original.src in wanted or flow.reply.src in wanted


def _dumps(ct: Any, family: int, addresses: Sequence[str] | None) -> Iterator[Any]:
    """The entries of one family: all of them, or (kernel 5.8 and later filters them) those
    whose original or reply source is one of ``addresses``; an entry both match comes
    twice (the caller drops repeats).  Decoding is what costs (~0.1 ms an entry)."""
    from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple

    if addresses is None:
        yield from ct.dump()
        return
    for address in addresses:
        yield from ct.dump(tuple_orig=NFCTAttrTuple(family=family, saddr=address))
        yield from ct.dump(tuple_reply=NFCTAttrTuple(family=family, saddr=address))


def read_flows(addresses: Sequence[str] | None = None, *, limit: int = MAX_FLOWS) -> FlowRead:
    """The host table's flows of a workload (every flow when ``addresses`` is None).

    Never raises: without root, without the conntrack module or ctnetlink, ``problem`` says
    so in one line.
    """
    from pyroute2 import NFCTSocket
    from pyroute2.netlink.exceptions import NetlinkError

    accounting = accounting_on()
    found: dict[tuple[Tuple, Tuple], Flow] = {}
    truncated = False
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
            with NFCTSocket(nfgen_family=family) as ct:
                for msg in _dumps(ct, family, wanted):
                    if msg.get("header", {}).get("error") is not None:
                        raise msg["header"]["error"]
                    flow = flow_from(msg, accounting)
                    if wanted is not None and not involves(flow, wanted):
                        continue  # a kernel that ignored the filter
                    if len(found) >= limit:
                        truncated = True
                        break
                    found.setdefault((flow.original, flow.reply), flow)
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
