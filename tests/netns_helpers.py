"""Helpers for tests that make ``ip netns`` namespaces of their own (no Docker)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


def sleeper_in(ns: str) -> subprocess.Popen[bytes]:
    """A process whose namespace is ``ns`` (``ip netns exec`` enters it, then execs)."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"])
    want = os.stat(f"/run/netns/{ns}").st_ino
    for _ in range(500):  # until exec'd inside: a bounded wait, no assertion on time
        if os.stat(f"/proc/{proc.pid}/ns/net").st_ino == want:
            return proc
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"sleep never entered {ns}")


def ip(*args: str) -> str:
    """``ip ARGS``'s output; RuntimeError with its message when it fails."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def link_stats(ns: str, dev: str) -> dict[str, int]:
    """Bytes and packets each way of ``dev`` in ``ns``, as ``ip -s -j link`` counts them."""
    return stats_of(ip("-n", ns, "-s", "-j", "link", "show", "dev", dev))


def stats_of(ip_json: str) -> dict[str, int]:
    """Bytes and packets each way of the one link ``ip -s -j link show DEV`` printed."""
    (link,) = json.loads(ip_json)
    s = link["stats64"]
    return {
        "rx_bytes": s["rx"]["bytes"],
        "tx_bytes": s["tx"]["bytes"],
        "rx_packets": s["rx"]["packets"],
        "tx_packets": s["tx"]["packets"],
    }


@contextmanager
def veth_pair(tag: str, a_ip: str, b_ip: str) -> Iterator[dict[str, str]]:
    """Namespaces ``TAG-a`` and ``TAG-b`` joined by a veth (``TAGa`` in A, ``TAGb`` in B),
    IPv4 only (a /29), each with a permanent neighbour entry for the other: no ARP and no
    IPv6 chatter, so the only traffic on the veth is what the test sends.  Yields each
    end's MAC by device; both namespaces (and so the veth) are removed afterwards."""
    a, b, veth_a, veth_b = f"{tag}-a", f"{tag}-b", f"{tag}a", f"{tag}b"
    made: list[str] = []
    try:
        for ns in (a, b):
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", veth_a, "netns", a, "type", "veth", "peer", veth_b, "netns", b)
        for ns, dev, addr in ((a, veth_a, a_ip), (b, veth_b, b_ip)):
            ip("netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")
            ip("-n", ns, "addr", "add", f"{addr}/29", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
        mac = {
            dev: json.loads(ip("-n", ns, "-j", "link", "show", "dev", dev))[0]["address"]
            for ns, dev in ((a, veth_a), (b, veth_b))
        }
        for ns, dev, other, other_mac in (
            (a, veth_a, b_ip, mac[veth_b]),
            (b, veth_b, a_ip, mac[veth_a]),
        ):
            ip(
                "-n",
                ns,
                "neigh",
                "replace",
                other,
                "lladdr",
                other_mac,
                "dev",
                dev,
                "nud",
                "permanent",
            )
        yield mac
    finally:
        for ns in made:  # the veth goes with its namespaces
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        assert not any(n.startswith(tag) for n in os.listdir("/run/netns"))
