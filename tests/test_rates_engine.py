"""Rates on the real lab (engine test): a container pinging its gateway shows a rate.

The gateway (the bridge's address) is on this machine: nothing leaves it.  The sampler
thread must publish a non-zero rate for the container within 3 s of the ping starting,
and the rates over an interval must be within 10% of the deltas ``ip -s -j link`` reads
inside the container over the same interval.
"""

from __future__ import annotations

import queue
import subprocess
import time

from inspector.live.rates import RateMeter, Rates
from inspector.live.runner import collect_snapshot
from inspector.live.sampler import LiveRates, sample
from tests.lab import LAB_ENV, Lab, sh
from tests.netns_helpers import stats_of

FIELDS = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")


def _stats(lab: Lab, name: str, dev: str = "eth0") -> dict[str, int]:
    return stats_of(
        sh("nsenter", "-t", str(lab.pid(name)), "-n", "ip", "-s", "-j", "link", "show", dev)
    )


def _ping(lab: Lab, gateway: str) -> subprocess.Popen[bytes]:
    argv = ["docker", "exec", lab.bridge, "ping", "-c", "30", "-i", "0.1", gateway]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=LAB_ENV)


def test_a_container_pinging_its_gateway_shows_a_rate_within_3_s(lab: Lab) -> None:
    snap = collect_snapshot()
    c = snap.container(lab.bridge)
    assert c is not None
    gateway = next(n.gateway for n in c.networks if n.gateway)
    got: queue.SimpleQueue[Rates] = queue.SimpleQueue()
    sampler = LiveRates()
    sampler.follow(snap)
    sampler.start(got.put)
    proc = _ping(lab, gateway)
    try:
        deadline = time.monotonic() + 3.0
        moving = False
        while not moving and time.monotonic() < deadline:
            try:
                rates = got.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            r = rates.containers.get(c.name)
            moving = r is not None and r.tx_packets > 0 and r.rx_packets > 0
        assert moving, "no rate for the pinging container within 3 s"
    finally:
        sampler.stop()
        proc.wait(timeout=30)


def test_rates_are_within_10_percent_of_ip_s_link_deltas(lab: Lab) -> None:
    snap = collect_snapshot()
    c = snap.container(lab.bridge)
    assert c is not None
    gateway = next(n.gateway for n in c.networks if n.gateway)
    meter = RateMeter()
    before = _stats(lab, lab.bridge)
    meter.add(sample(snap, time.monotonic()))
    proc = _ping(lab, gateway)
    proc.wait(timeout=30)
    second = sample(snap, time.monotonic())
    after = _stats(lab, lab.bridge)
    rates = meter.add(second)
    assert rates is not None
    r = rates.interfaces[(c.name, "eth0")]
    seconds = rates.interval
    for name in FIELDS:
        delta = after[name] - before[name]
        assert delta > 0, name
        assert abs(getattr(r, name) * seconds - delta) <= 0.1 * delta, name
    assert rates.containers[c.name].tx_packets > 0
