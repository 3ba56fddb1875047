"""One line a packet, as ``tcpdump -n`` prints it, decoded by dpkt.

``01:02:03.456789 web/eth0 Out IP 172.18.0.2.40000 > 172.18.0.3.80: TCP [S], length 0``:
time, interface, direction, source > destination (ports after a dot, as tcpdump
writes them), protocol, TCP flags or the ICMP type, and the length tcpdump gives (the
transport's payload for TCP and UDP, the message for ICMP, the frame otherwise).
Names come from the host: control characters in them are shown escaped.
"""

from __future__ import annotations

import socket
import time
from typing import Any

DLT_EN10MB = 1
DLT_RAW = 12
DLT_LINUX_SLL = 113
DLT_RAW_LINUX = 101

_ICMP = {
    0: "echo reply",
    3: "unreachable",
    4: "source quench",
    5: "redirect",
    8: "echo request",
    11: "time exceeded",
    12: "parameter problem",
    13: "time stamp request",
    14: "time stamp reply",
}
_ICMP6 = {
    1: "destination unreachable",
    2: "packet too big",
    3: "time exceeded",
    4: "parameter problem",
    128: "echo request",
    129: "echo reply",
    133: "router solicitation",
    134: "router advertisement",
    135: "neighbor solicitation",
    136: "neighbor advertisement",
    143: "multicast listener report v2",
}
_TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x40, "E"))


def shown(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def timestamp(ts_us: int) -> str:
    """Local time of day to the microsecond, as tcpdump prints it."""
    sec, usec = divmod(ts_us, 1_000_000)
    return f"{time.strftime('%H:%M:%S', time.localtime(sec))}.{usec:06d}"


def packet_line(
    ts_us: int, label: str, outbound: bool | None, data: bytes, length: int, linktype: int
) -> str:
    """The packet in one line (never raises: a packet dpkt cannot read says so)."""
    direction = "" if outbound is None else ("Out " if outbound else "In ")
    try:
        what = describe(data, length, linktype)
    except Exception as exc:  # dpkt's errors and truncated headers alike
        what = f"undecoded ({type(exc).__name__}), length {length}"
    return f"{timestamp(ts_us)} {shown(label)} {direction}{what}"


def describe(data: bytes, length: int, linktype: int) -> str:
    """``IP a.p > b.q: TCP [S.], length 0`` and the like, from the link layer up."""
    import dpkt

    if linktype == DLT_EN10MB:
        eth = dpkt.ethernet.Ethernet(data)
        return _network(eth.type, eth.data, length)
    if linktype == DLT_LINUX_SLL:
        sll = dpkt.sll.SLL(data)
        return _network(sll.ethtype, sll.data, length)
    if linktype in (DLT_RAW, DLT_RAW_LINUX):
        version = data[0] >> 4 if data else 0
        return _network(0x86DD if version == 6 else 0x0800, data, length)
    return f"linktype {linktype}, length {length}"


def _network(ethertype: int, payload: Any, length: int) -> str:
    import dpkt

    if isinstance(payload, dpkt.ip.IP):
        src, dst = socket.inet_ntoa(payload.src), socket.inet_ntoa(payload.dst)
        return _transport("IP", src, dst, payload.p, payload.data, length)
    if isinstance(payload, dpkt.ip6.IP6):
        src = socket.inet_ntop(socket.AF_INET6, payload.src)
        dst = socket.inet_ntop(socket.AF_INET6, payload.dst)
        return _transport("IP6", src, dst, payload.nxt, payload.data, length)
    if isinstance(payload, dpkt.arp.ARP):
        return _arp(payload)
    if ethertype == 0x0800 and isinstance(payload, bytes):
        return _network(ethertype, dpkt.ip.IP(payload), length)
    if ethertype == 0x86DD and isinstance(payload, bytes):
        return _network(ethertype, dpkt.ip6.IP6(payload), length)
    return f"ethertype 0x{ethertype:04x}, length {length}"


def _arp(arp: Any) -> str:
    spa, tpa = socket.inet_ntoa(arp.spa), socket.inet_ntoa(arp.tpa)
    if arp.op == 1:
        return f"ARP, Request who-has {tpa} tell {spa}, length 28"
    if arp.op == 2:
        sha = ":".join(f"{b:02x}" for b in arp.sha)
        return f"ARP, Reply {spa} is-at {sha}, length 28"
    return f"ARP, op {arp.op}, length 28"


def _transport(family: str, src: str, dst: str, proto: int, segment: Any, length: int) -> str:
    import dpkt

    if isinstance(segment, dpkt.tcp.TCP):
        flags = "".join(c for bit, c in _TCP_FLAGS if segment.flags & bit)
        flags += "." if segment.flags & 0x10 else ""
        head = f"{family} {src}.{segment.sport} > {dst}.{segment.dport}"
        size = len(segment.data)
        return f"{head}: TCP [{flags or 'none'}], seq {segment.seq}, length {size}"
    if isinstance(segment, dpkt.udp.UDP):
        size = max(0, segment.ulen - 8)
        return f"{family} {src}.{segment.sport} > {dst}.{segment.dport}: UDP, length {size}"
    if isinstance(segment, dpkt.icmp.ICMP):
        kind = _ICMP.get(segment.type, f"type {segment.type}")
        extra = ""
        if segment.type in (0, 8) and isinstance(segment.data, dpkt.icmp.ICMP.Echo):
            extra = f", id {segment.data.id}, seq {segment.data.seq}"
        return f"{family} {src} > {dst}: ICMP {kind}{extra}, length {len(bytes(segment))}"
    if isinstance(segment, dpkt.icmp6.ICMP6):
        kind = _ICMP6.get(segment.type, f"type {segment.type}")
        return f"{family} {src} > {dst}: ICMP6 {kind}, length {len(bytes(segment))}"
    name = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMP6"}.get(proto, f"proto {proto}")
    size = len(segment) if isinstance(segment, bytes) else length
    return f"{family} {src} > {dst}: {name}, length {size}"
