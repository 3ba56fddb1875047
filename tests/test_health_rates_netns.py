"""The detail's TCP health rates on a real namespace, checked against ``nstat``.

A namespace of this test's own (prefix ``cnetcn2-``, removed afterwards), a sleep inside
it for a pid; between two reads the test makes three resets (connects to a closed port on
its loopback).  What the rates say happened in the step (rate x interval) must be what
``nstat`` counts between its own two reads around the same traffic, counter by counter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from inspector.collect.snmp import COUNTERS, nstat_name, read_health
from inspector.live.health_rates import HealthMeter
from tests.netns_helpers import ip, sleeper_in

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
    pytest.mark.skipif(shutil.which("nstat") is None, reason="needs iproute2's nstat"),
]

NS = "cnetcn2-health"
RESETS = """
import socket
for _ in range(3):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 1))  # nothing listens: the kernel answers with a reset
    except ConnectionRefusedError:
        pass
    s.close()
"""


@pytest.fixture
def namespace() -> Iterator[int]:
    """The pid of a sleep in ``NS``."""
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    ip("netns", "add", NS)
    proc = None
    try:
        ip("-n", NS, "link", "set", "lo", "up")
        proc = sleeper_in(NS)
        yield proc.pid
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def nstat() -> dict[str, int]:
    out = subprocess.run(
        ["ip", "netns", "exec", NS, "nstat", "-asz", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {k: int(v) for k, v in json.loads(out)["kernel"].items()}


def test_rates_match_nstat_over_a_step(namespace: int) -> None:
    meter = HealthMeter()
    before = read_health(namespace)
    assert before is not None
    kernel_before = nstat()
    meter.add(0.0, before)
    subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", RESETS], check=True)
    after = read_health(namespace)
    assert after is not None
    kernel_after = nstat()
    rates = meter.add(2.0, after)
    assert rates is not None
    for name in COUNTERS:
        key = nstat_name(name)
        moved = kernel_after[key] - kernel_before[key]
        assert rates.rate(name) * rates.interval == pytest.approx(moved), name
    assert rates.rate("out_rsts") * 2.0 >= 3  # the resets were seen, as rates
    assert rates.rate("attempt_fails") * 2.0 >= 3
