"""``cnet capture`` on a Docker container and on its engine network (the bridge).

One container of the test's own (``cnetcap-K-web``) on a network of its own with a
bridge of its own name; the host pings it, sends it a UDP burst and connects to a port
nothing listens on.  Two captures run side by side: the workload by name (inside its
namespace: eth0 and lo) and the network by name (the host's bridge).  Docker's own
inspect gives the addresses; tshark reads the files back.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab import IMAGE, engine_problem, sh
from tests.test_capture_netns import fields, finish, start_capture

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(
        shutil.which("tshark") is None, reason="needs Debian's tshark (scripts/engine)"
    ),
]

LAB = os.environ.get("CNET_LAB_ID", "0")
WEB, NET, BRIDGE = f"cnetcap-{LAB}-web", f"cnetcap-{LAB}-net", f"cnetcap{LAB}br"
SUBNET = f"10.251.{int(LAB) % 250}.0/24"
GATEWAY = f"10.251.{int(LAB) % 250}.1"
BRIDGE_OPTION = "com.docker.network.bridge.name"
PINGS, BURST, CLOSED = 4, 10, 81
FILTER = f"icmp[icmptype] == icmp-echo or icmp[icmptype] == icmp-echoreply or udp port 9999 or tcp port {CLOSED}"
EXPECTED = 2 * PINGS + BURST + 2


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """The container's address (Docker's inspect); it and its network are removed after,
    also on failure."""
    problem = engine_problem()
    if problem is not None:
        pytest.skip(f"engine tests skipped: {problem}")
    sh("docker", "rm", "-f", WEB, check=False)
    sh("docker", "network", "rm", NET, check=False)
    try:
        sh(
            "docker",
            "network",
            "create",
            "--subnet",
            SUBNET,
            "-o",
            f"{BRIDGE_OPTION}={BRIDGE}",
            NET,
        )
        sh("docker", "run", "-d", "--name", WEB, "--network", NET, IMAGE, "sleep", "86400")
        inspected = json.loads(sh("docker", "inspect", WEB))[0]
        yield str(inspected["NetworkSettings"]["Networks"][NET]["IPAddress"])
    finally:
        sh("docker", "rm", "-f", WEB, check=False)
        sh("docker", "network", "rm", NET, check=False)


def checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def send_traffic(address: str) -> None:
    """From the host: echo requests, a UDP burst, a refused connection (all to ``web``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as icmp:
        for seq in range(1, PINGS + 1):
            body = struct.pack("!BBHHH", 8, 0, 0, 0x4343, seq) + b"cnet" * 14
            icmp.sendto(body[:2] + struct.pack("!H", checksum(body)) + body[4:], (address, 0))
            time.sleep(0.01)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _ in range(BURST):
            udp.sendto(b"x" * 32, (address, 9999))
    with socket.socket() as tcp, pytest.raises(ConnectionRefusedError):
        tcp.settimeout(10)
        tcp.connect((address, CLOSED))


def test_the_container_and_its_network_captured_side_by_side(web: str, tmp_path: Path) -> None:
    inside, bridge = tmp_path / "web.pcapng", tmp_path / "net.pcapng"
    procs = [
        start_capture(WEB, "-w", str(inside), "-c", str(EXPECTED), "-f", FILTER),
        start_capture(NET, "-w", str(bridge), "-c", str(EXPECTED), "-f", FILTER),
    ]
    try:
        send_traffic(web)
        results = [finish(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for code, _, err in results:
        assert code == 0, err
        assert f"{EXPECTED} packets captured" in err

    rows = fields(inside, "", "frame.interface_name", "frame.packet_flags_direction", "ip.src")
    assert {r[0] for r in rows} == {f"{WEB}/eth0"}
    described = subprocess.run(
        ["capinfos", "-I", str(inside)], capture_output=True, text=True, timeout=60
    ).stdout
    assert f"{WEB}/lo" in described
    requests = fields(inside, "icmp.type == 8", "frame.packet_flags_direction", "ip.src")
    replies = fields(inside, "icmp.type == 0", "frame.packet_flags_direction", "ip.src")
    assert requests == [["0x00000001", GATEWAY]] * PINGS  # arrived in the container
    assert replies == [["0x00000002", web]] * PINGS
    assert fields(inside, "tcp.flags.reset == 1", "ip.src") == [[web]]

    rows = fields(bridge, "", "frame.interface_name")
    assert {r[0] for r in rows} == {f"host/{BRIDGE}"}
    assert len(fields(bridge, f"udp.dstport == 9999 && ip.dst == {web}", "ip.dst")) == BURST
    assert fields(bridge, "tcp.flags.reset == 1", "ip.src") == [[web]]
