"""``cnet snapshot --rates`` through real network namespaces, no Docker: checked against
``ip -s -j link``.

Made here and removed afterwards (prefix ``cnrr-``): a namespace H that stands in for
the host (cnet runs in it with ``ip netns exec``, so its links are "the host's" and the
real host's network is never touched) and a namespace A joined to it by a veth, IPv4 only
with fixed neighbours, so the only traffic on the veth is the ping A sends to H while cnet
runs.  The rates cnet records must be more than nothing and no more than the kernel's own
counters moved over the whole run allow.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli import ROOT
from tests.netns_helpers import link_stats, sleeper_in, veth_pair
from tests.test_rates_netns import ping_argv

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]

H_IP, A_IP = "10.251.78.1", "10.251.78.2"
BYTES = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")


@dataclass
class Nets:
    h: str
    a: str
    veth_h: str
    veth_a: str

    def stats(self, ns: str, dev: str) -> dict[str, int]:
        return link_stats(ns, dev)


@pytest.fixture(scope="module")
def nets() -> Iterator[Nets]:
    tag = "cnrr-" + secrets.token_hex(2)
    # veth_pair's A stands for the host here (H), its B for the workload (A)
    nets = Nets(f"{tag}-a", f"{tag}-b", tag + "a", tag + "b")
    with veth_pair(tag, H_IP, A_IP):
        sleeper = sleeper_in(nets.a)  # A is a workload with a pid, as a container is
        try:
            yield nets
        finally:
            sleeper.kill()
            sleeper.wait()


def cnet_in(ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``cnet ARGS`` run inside ``ns``: its links are the host's to cnet; no engine."""
    return subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/cnrr.sock"},
    )


def test_snapshot_rates_records_the_traffic_the_kernel_counted(nets: Nets) -> None:
    before_h, before_a = nets.stats(nets.h, nets.veth_h), nets.stats(nets.a, nets.veth_a)
    ping = subprocess.Popen(
        ["ip", "netns", "exec", nets.a, *ping_argv(), "-q", "-i", "0.05", H_IP],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc = cnet_in(nets.h, "snapshot", "--rates", "1")
    finally:
        ping.terminate()
        ping.wait(timeout=30)
    after_h, after_a = nets.stats(nets.h, nets.veth_h), nets.stats(nets.a, nets.veth_a)
    assert proc.returncode == 0, proc.stderr
    rates: dict[str, Any] = json.loads(proc.stdout)["rates"]
    assert rates is not None
    assert 1.0 <= rates["interval"] < 30
    host = {r["name"]: r["rate"] for r in rates["host"]}
    # The host end receives A's echo requests and sends H's replies.
    _within(host[nets.veth_h], before_h, after_h)
    inside = {(r["container"], r["interface"]): r["rate"] for r in rates["interfaces"]}
    mine = inside[(nets.a, nets.veth_a)]  # A's end, from A's side: what H received, A sent
    _within(mine, before_a, after_a)
    assert mine["tx_bytes"] == host[nets.veth_h]["rx_bytes"]
    assert {c["container"]: c["rate"] for c in rates["containers"]}[nets.a] == mine


def _within(rate: dict[str, float], before: dict[str, int], after: dict[str, int]) -> None:
    """More than nothing, and no more than the whole run's deltas over half a second (the
    interval is at least a second: this is generous, not a timing test)."""
    for name in BYTES:
        delta = after[name] - before[name]
        assert 0 < rate[name] <= delta / 0.5, (name, rate[name], delta)


def test_the_report_of_a_measured_snapshot_says_over_what_interval(nets: Nets) -> None:
    proc = cnet_in(nets.h, "snapshot", "--rates", "0.5", "-f", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert "- Rates over 0.5 s in bytes a second" in proc.stdout
    assert f"| {nets.veth_h} | veth | up |" in proc.stdout
