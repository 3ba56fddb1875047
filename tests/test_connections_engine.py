"""Connections of a real container: its listener against ``ss`` (through ``nsenter``), and the
DNAT flow of its published port against ``conntrack -L`` / ``/proc/net/nf_conntrack``.

Made here and removed afterwards (prefix ``cnetcn-``, subnet of lab id 6 unless
``CNET_LAB_ID`` says otherwise): a bridge network, a busybox ``httpd`` published on the
bridge's own gateway address (a host address: Docker's userland proxy answers loopback
itself, so only a host address other than 127/8 goes through the DNAT rule), and a quiet
container.  The only traffic is one HTTP request from this host to that published port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.collect.conntrack import FIRST, Flow, read_flows
from inspector.collect.snmp import health_from
from inspector.collect.sockets import read_sockets
from tests.cli import assert_one_line_error, cnet, cnet_unprivileged
from tests.lab import IMAGE, free_port, sh

OCTET = 200 + 3 * int(os.environ.get("CNET_LAB_ID", "6") or "6")
SUBNET = f"172.30.{OCTET}.0/24"
GATEWAY = f"172.30.{OCTET}.1"
NET, BRIDGE, WEB, QUIET = "cnetcn-net", "cnetcn-br", "cnetcn-web", "cnetcn-quiet"


@dataclass
class Web:
    pid: int
    quiet_pid: int
    ip: str
    port: int


def address(container: str) -> str:
    """The container's address on the test network, as the engine reports it."""
    fmt = f'{{{{(index .NetworkSettings.Networks "{NET}").IPAddress}}}}'
    return sh("docker", "inspect", "-f", fmt, container).strip()


def _rm(*args: str) -> None:
    subprocess.run(["docker", *args], capture_output=True, timeout=60)


@pytest.fixture
def web(engine: None) -> Iterator[Web]:
    for c in (WEB, QUIET):  # one at a time (moby#46661)
        _rm("rm", "-f", c)
    _rm("network", "rm", NET)
    port = free_port()
    try:
        sh(
            "docker", "network", "create", "--subnet", SUBNET,
            "-o", f"com.docker.network.bridge.name={BRIDGE}", NET,
        )  # fmt: skip
        sh(
            "docker", "run", "-d", "--name", WEB, "--network", NET,
            "-p", f"{GATEWAY}:{port}:80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/etc",
        )  # fmt: skip
        sh("docker", "run", "-d", "--name", QUIET, "--network", NET, IMAGE, "sleep", "600")

        def pid(c: str) -> int:
            return int(sh("docker", "inspect", "-f", "{{.State.Pid}}", c))

        yield Web(pid(WEB), pid(QUIET), address(WEB), port)
    finally:
        for c in (WEB, QUIET):
            _rm("rm", "-f", c)
        _rm("network", "rm", NET)


def ss_in(pid: int) -> set[tuple[str, str, int, int]]:
    out = sh("nsenter", f"--net=/proc/{pid}/ns/net", "ss", "-tulnpeH")
    found = set()
    for line in out.splitlines():
        f = line.split()
        addr, port = f[4].rsplit(":", 1)
        addr = addr.strip("[]")
        addr = "::" if addr == "*" else addr  # ss: a dual-stack "::"
        inode = int(re.search(r"ino:(\d+)", line)[1])  # type: ignore[index]
        found.add((f[0], addr, int(port), inode))
    return found


def test_container_listener_matches_ss(web: Web) -> None:
    for pid in (web.pid, web.quiet_pid):
        read = read_sockets(pid)
        assert read.problem is None
        assert {(s.protocol, s.local, s.local_port, s.inode) for s in read.listeners} == ss_in(pid)
    (httpd,) = [s for s in read_sockets(web.pid).listeners if s.local_port == 80]
    assert (httpd.process, httpd.pids) == ("httpd", (web.pid,))
    # the quiet one has only Docker's embedded resolver (dockerd's, no process inside)
    assert all(s.local == "127.0.0.11" for s in read_sockets(web.quiet_pid).listeners)


def kernel_flows() -> str:
    if shutil.which("conntrack"):
        return subprocess.run(
            ["conntrack", "-L"], capture_output=True, text=True, timeout=30
        ).stdout
    with open("/proc/net/nf_conntrack", encoding="ascii") as f:
        return f.read()


def test_published_port_flow_matches_conntrack(web: Web) -> None:
    if not shutil.which("conntrack") and not os.path.exists("/proc/net/nf_conntrack"):
        pytest.skip("neither conntrack (Debian package) nor /proc/net/nf_conntrack here")
    with socket.create_connection((GATEWAY, web.port), timeout=5) as s:
        s.sendall(b"GET /passwd HTTP/1.0\r\n\r\n")
        s.recv(100)
        client_port = s.getsockname()[1]
        read = read_flows([web.ip])
    assert read.problem is None
    (flow,) = [f for f in read.flows if f.original.sport == client_port]
    assert flow.dnat and flow.protocol == "tcp"
    assert (flow.original.dst, flow.original.dport) == (GATEWAY, web.port)
    assert (flow.reply.src, flow.reply.sport) == (web.ip, 80)
    assert flow.text().endswith(f"DNAT -> {web.ip}:80")
    # the kernel's own listing has the same entry: both tuples, field for field
    want = (
        f"src={GATEWAY} dst={GATEWAY} sport={client_port} dport={web.port} "
        f"src={web.ip} dst={GATEWAY} sport=80 dport={client_port}"
    )
    assert any(want in line for line in kernel_flows().splitlines())
    if not read.accounting:
        assert flow.bytes is None  # cnet never counts what the kernel did not
    # the quiet container has no flow at all
    assert read_flows([address(QUIET)]).flows == ()


def test_many_flows_come_first_a_screenful_then_all_as_conntrack_lists_them(web: Web) -> None:
    """Past a screenful, ``progress`` hears of the first ``FIRST`` flows once they are
    decoded; the whole read is then every flow the kernel lists for the address."""
    if not shutil.which("conntrack"):
        pytest.skip("conntrack (Debian package) lists the flows to compare with")
    for _ in range(FIRST + 50):  # one datagram each from its own port, to a lab container
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"cnet", (web.ip, 9))
    firsts: list[tuple[Flow, ...]] = []
    read = read_flows([web.ip], progress=lambda part: firsts.append(part.flows))
    listed = subprocess.run(
        ["conntrack", "-L", "-p", "udp", "-d", web.ip], capture_output=True, text=True, timeout=30
    ).stdout
    kernel = {
        int(m.group(1))
        for m in re.finditer(rf"dst={re.escape(web.ip)} sport=(\d+) dport=9 ", listed)
    }
    ours = {f.original.sport for f in read.flows if f.protocol == "udp" and f.original.dport == 9}
    # a port the kernel hands out again to the next socket is one flow: a few fewer
    assert len(kernel) > FIRST and ours == kernel
    (first,) = firsts
    assert len(first) == FIRST and set(first) <= set(read.flows)


def test_cnet_snapshot_records_listeners_and_with_flows_the_dnat(web: Web) -> None:
    """``cnet snapshot --flows`` end to end: the listener as ss sees it, the counters as
    the namespace's own /proc file, the published port's flow as conntrack lists it."""
    with socket.create_connection((GATEWAY, web.port), timeout=5) as s:
        s.sendall(b"GET /passwd HTTP/1.0\r\n\r\n")
        s.recv(100)
        client_port = s.getsockname()[1]
        proc = cnet("snapshot", "--flows")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (ns,) = [n for n in data["connections"]["namespaces"] if n["container"] == WEB]
    got = {(x["protocol"], x["address"], x["port"]) for x in ns["listeners"]}
    assert got == {(p, a, port) for p, a, port, _ in ss_in(web.pid)}
    assert {"protocol": "tcp", "address": "::", "port": 80, "process": "httpd"} in ns["listeners"]
    snmp = Path(f"/proc/{web.pid}/net/snmp").read_text()
    assert ns["tcp_health"]["out_segs"] <= health_from(snmp, "").out_segs  # monotonic
    (flow,) = [f for f in ns["flows"] if f"{GATEWAY}:{client_port} ->" in f["original"]]
    assert flow["nat"] == "DNAT"
    assert flow["reply"] == f"{web.ip}:80 -> {GATEWAY}:{client_port}"
    assert f"src={web.ip} dst={GATEWAY} sport=80 dport={client_port}" in kernel_flows()
    (quiet,) = [n for n in data["connections"]["namespaces"] if n["container"] == QUIET]
    assert quiet["flows"] == []
    without = json.loads(cnet("snapshot").stdout)
    assert all(n["flows"] is None for n in without["connections"]["namespaces"])


def test_snapshot_flows_on_a_saved_file_is_a_usage_error() -> None:
    proc = cnet(
        "snapshot", "--flows", "--from", str(Path(__file__).parent / "data" / "lab-snapshot.json")
    )
    assert "--flows reads the live host" in assert_one_line_error(proc, 2)


def test_without_root_each_namespace_says_so_in_one_line(web: Web) -> None:
    """Namespaces stay closed to an unprivileged cnet: each says why, the snapshot still
    comes out, with the flows' problem named too (no traceback)."""
    proc = cnet_unprivileged("snapshot", "--flows")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    (ns,) = [n for n in data["connections"]["namespaces"] if n["container"] == WEB]
    assert ns["listeners"] == [] and ns["flows"] in (None, [])
    assert ns["problem"] and "\n" not in ns["problem"]


def test_cnet_diff_names_a_listener_that_appeared(web: Web, tmp_path: Path) -> None:
    """A snapshot, then ``nc -l`` started inside: ``cnet diff OLD`` against the live host
    names it (and ss in the namespace agrees that it listens)."""
    old = tmp_path / "old.json"
    proc = cnet("snapshot", "-o", str(old))
    assert proc.returncode == 0, proc.stderr
    sh("docker", "exec", "-d", WEB, "nc", "-l", "-p", "9999")
    deadline = time.monotonic() + 10  # until it has bound: a condition, not a duration
    while not any(port == 9999 for _, _, port, _ in ss_in(web.pid)):
        assert time.monotonic() < deadline, "nc never listened"
        time.sleep(0.05)
    proc = cnet("diff", str(old), "--json")
    assert proc.returncode == 1, proc.stderr
    changes = [  # other people's containers on this shared engine change too
        c
        for c in json.loads(proc.stdout)["changes"]
        if c["section"] == "listeners" and c["subject"].startswith("cnetcn-")
    ]
    assert [(c["change"], c["subject"]) for c in changes] == [("added", WEB)]
    assert changes[0]["detail"].startswith("tcp ") and ":9999 (nc)" in changes[0]["detail"]
