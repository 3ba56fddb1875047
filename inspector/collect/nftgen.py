"""The nftables ruleset generation: a cheap fingerprint of the firewall.

The kernel bumps one counter on every committed nftables transaction (iptables-nft
writes through nftables too), and answers ``NFT_MSG_GETGEN`` with it: one netlink round
trip, no ruleset dump.  Read-only.  Legacy iptables does not move it: callers that cache
on it also cap the age of what they cache.
"""

from __future__ import annotations

import socket
import struct

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_GETGEN = 16
NFT_MSG_NEWGEN = 15
NFTA_GEN_ID = 1
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
_HDR = struct.Struct("=IHHII")


def nft_generation(timeout: float = 1.0) -> int | None:
    """The current generation id, or None when netlink will not say (no nf_tables, no
    CAP_NET_ADMIN)."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    except OSError:
        return None
    with sock:
        sock.settimeout(timeout)
        body = struct.pack("=BBH", socket.AF_UNSPEC, 0, 0)
        msg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN
        header = _HDR.pack(_HDR.size + len(body), msg_type, NLM_F_REQUEST, 1, 0)
        try:
            sock.sendto(header + body, (0, 0))
            data = sock.recv(65536)
        except OSError:
            return None
    return parse_generation(data)


def parse_generation(data: bytes) -> int | None:
    """The generation id in a ``NFT_MSG_NEWGEN`` answer; None for anything else."""
    if len(data) < _HDR.size + 4:
        return None
    length, msg_type, _flags, _seq, _pid = _HDR.unpack_from(data)
    if msg_type != (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN:
        return None
    offset = _HDR.size + 4
    end = min(length, len(data))
    while offset + 4 <= end:
        attr_len, attr_type = struct.unpack_from("=HH", data, offset)
        if attr_len < 4:
            return None
        if attr_type & 0x3FFF == NFTA_GEN_ID and attr_len >= 8:
            value: int = struct.unpack_from(">I", data, offset + 4)[0]
            return value
        offset += (attr_len + 3) & ~3
    return None
