"""Rates through real network namespaces, no Docker: checked against ``ip -s -j link``.

Made here and removed afterwards (prefix ``cnrt-``): two namespaces A and B joined by a
veth, IPv4 only with fixed neighbours, so the only traffic on it is the ping sent from A
to B.  A "container" points at each namespace by the pid of a ``sleep`` inside it.  The
rates code reads the counters as it does on a live host (``/proc/PID/net/dev``), and each
rate times the interval must match the deltas iproute2 reads in the namespace over the
same interval.  B's table also stands in for "the host": A's side is then B's swapped.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from inspector.collect.counters import container_counters, namespace_counters
from inspector.live.rates import RateMeter, Sample, rates_between
from inspector.live.sampler import sample
from inspector.model.snapshot import Container, HostNetwork, Interface, PeerRef, Snapshot
from tests.netns_helpers import ip, link_stats, sleeper_in, veth_pair

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]

A_IP, B_IP, SILENT_IP = "10.251.77.1", "10.251.77.2", "10.251.77.3"
PINGS = 20
"""Echoes both ways, then as many requests to an address B takes but never answers (its
neighbour entry is B's MAC): A sends more than it receives, so a swap that went wrong shows."""


def ping_argv() -> list[str]:
    if shutil.which("ping"):
        return ["ping"]
    if shutil.which("busybox"):
        return ["busybox", "ping"]
    pytest.skip("needs ping or busybox")


@dataclass
class Pair:
    a: str
    b: str
    veth_a: str
    veth_b: str
    pids: dict[str, int]

    def stats(self, ns: str, dev: str) -> dict[str, int]:
        return link_stats(ns, dev)

    def ifindex(self, ns: str, dev: str) -> int:
        (link,) = json.loads(ip("-n", ns, "-j", "link", "show", "dev", dev))
        return int(link["ifindex"])

    def snapshot(self) -> Snapshot:
        """A and B as containers whose interfaces have no host end (read inside)."""

        def container(ns: str, dev: str) -> Container:
            iface = Interface(dev, self.ifindex(ns, dev), state="up")
            return Container(
                ns, ns, "none", "running", self.pids[ns], "bridge", interfaces=(iface,)
            )

        return Snapshot(
            "2026-01-01T00:00:00Z",
            "test",
            HostNetwork(),
            containers=(container(self.a, self.veth_a), container(self.b, self.veth_b)),
        )


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    tag = "cnrt-" + secrets.token_hex(2)
    p = Pair(f"{tag}-a", f"{tag}-b", tag + "a", tag + "b", {})
    sleepers: list[subprocess.Popen[bytes]] = []
    with veth_pair(tag, A_IP, B_IP) as mac:
        try:
            ip("-n", p.a, "neigh", "replace", SILENT_IP, "lladdr", mac[p.veth_b], "dev", p.veth_a,
               "nud", "permanent")  # fmt: skip
            for ns in (p.a, p.b):
                sleepers.append(sleeper_in(ns))
                p.pids[ns] = sleepers[-1].pid
            yield p
        finally:
            for proc in sleepers:
                proc.kill()
                proc.wait()


def _ping(p: Pair) -> None:
    ping = ["ip", "netns", "exec", p.a, *ping_argv(), "-c", str(PINGS), "-i", "0.05"]
    subprocess.run([*ping, B_IP], check=True, capture_output=True, timeout=60)
    subprocess.run([*ping, "-W", "1", SILENT_IP], capture_output=True, timeout=60)


def _close(measured: float, expected: int) -> bool:
    return expected > 0 and abs(measured - expected) <= 0.1 * expected


def test_rates_match_the_kernels_deltas_over_the_same_interval(pair: Pair) -> None:
    snap = pair.snapshot()
    before_a, before_b = pair.stats(pair.a, pair.veth_a), pair.stats(pair.b, pair.veth_b)
    first = sample(snap, time.monotonic())
    _ping(pair)
    second = sample(snap, time.monotonic())
    after_a, after_b = pair.stats(pair.a, pair.veth_a), pair.stats(pair.b, pair.veth_b)
    meter = RateMeter()
    meter.add(first)
    rates = meter.add(second)
    assert rates is not None
    seconds = rates.interval
    assert seconds == second.at - first.at
    for ns, dev, before, after in (
        (pair.a, pair.veth_a, before_a, after_a),
        (pair.b, pair.veth_b, before_b, after_b),
    ):
        r = rates.interfaces[(ns, dev)]
        for name in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets"):
            assert _close(getattr(r, name) * seconds, after[name] - before[name]), (ns, name)
        assert rates.containers[ns] == r  # one interface: the container's sum is it
    assert after_a["tx_packets"] - before_a["tx_packets"] >= 2 * PINGS
    assert after_a["rx_packets"] - before_a["rx_packets"] < 2 * PINGS  # one way: no answers
    assert rates.interfaces[(pair.a, pair.veth_a)].tx_bytes > 0


def test_a_veths_far_side_is_its_peers_counters_swapped(pair: Pair) -> None:
    """B's table as "the host": A's side of the veth, taken from B's end swapped, moves as
    iproute2 sees A's own end move."""
    snap = pair.snapshot()
    a = snap.containers[0]
    b_index = pair.ifindex(pair.b, pair.veth_b)
    iface = Interface(a.interfaces[0].name, a.interfaces[0].ifindex, state="up",
                      peer=PeerRef(pair.veth_b, b_index))  # fmt: skip
    through_peer = Snapshot(snap.taken_at, snap.hostname, containers=(
        Container(a.id, a.name, a.image, a.state, a.pid, a.network_mode, interfaces=(iface,)),
    ))  # fmt: skip

    def read() -> Sample:
        host = namespace_counters(pair.pids[pair.b])
        at = time.monotonic()
        return Sample(at, container_counters(through_peer, host, {}), {})

    before = pair.stats(pair.a, pair.veth_a)
    first = read()
    _ping(pair)
    second = read()
    after = pair.stats(pair.a, pair.veth_a)
    r = rates_between(first, second).interfaces[(a.name, iface.name)]
    seconds = second.at - first.at
    for name in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets"):
        assert _close(getattr(r, name) * seconds, after[name] - before[name]), name
    assert r.tx_bytes > 1.5 * r.rx_bytes  # A's side sent the unanswered requests
