"""The nftables ruleset generation: a cheap fingerprint of the firewall.

The kernel bumps one counter on every committed nftables transaction (iptables-nft
writes through nftables too), and answers ``NFT_MSG_GETGEN`` with it: one netlink round
trip, no ruleset dump.  Asked through pyroute2's ``NFTSocket`` (its ``nft_gen_msg``), in
the caller's network namespace.  Read-only.  Legacy iptables does not move it: callers
that cache on it also cap the age of what they cache.
"""

from __future__ import annotations

from pyroute2.netlink import NLM_F_REQUEST
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.nfnetlink.nftsocket import NFT_MSG_GETGEN, NFTSocket, nft_gen_msg


def nft_generation() -> int | None:
    """The current generation id, or None when netlink will not say (no nf_tables, no
    CAP_NET_ADMIN)."""
    try:
        sock = NFTSocket()
    except (OSError, NetlinkError):
        return None
    try:
        msg = nft_gen_msg()
        msg["nfgen_family"] = 0  # AF_UNSPEC: the generation is one for every family
        answers = sock.request_get(msg, NFT_MSG_GETGEN, NLM_F_REQUEST)
    except (OSError, NetlinkError):
        return None
    finally:
        sock.close()
    for answer in answers:
        gen = answer.get_attr("NFTA_GEN_ID")
        if isinstance(gen, int):
            return gen
    return None
