"""Sockets (sock_diag) and TCP/UDP health of real ``ip netns`` namespaces, no Docker.

Made here and removed afterwards (prefix ``cnetcn-``): one namespace with a TCP and a UDP
listener (a python process inside it), one with nothing listening.  cnet's sockets are
checked against ``ss -tulnpe`` run in the namespace, its counters against ``nstat -az``
run there after a reset (a connect to a closed port) and a listen overflow (a listener
with a backlog of 1 that never accepts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from inspector.collect.snmp import COUNTERS, nstat_name, read_health
from inspector.collect.sockets import read_sockets
from tests.netns_helpers import ip, sleeper_in

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
    pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss"),
]

LISTENER = """
import socket, sys, time
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 18181)); t.listen(7)
t6 = socket.socket(socket.AF_INET6); t6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
t6.bind(("::1", 18182)); t6.listen(3)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 15353))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(("127.0.0.1", 15354))
client = socket.create_connection(("127.0.0.1", 18181)); served, _ = t.accept()
print("ready", flush=True)
time.sleep(600)
"""

STORM = """
import socket, sys
closed = socket.socket()
try:
    closed.connect(("127.0.0.1", 1))  # nothing listens: the kernel answers with a reset
except ConnectionRefusedError:
    pass
server = socket.socket(); server.bind(("127.0.0.1", 18183)); server.listen(1)
clients = []
for _ in range(8):  # more than the backlog, never accepted: the queue overflows
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", 18183))
    except BlockingIOError:
        pass
    clients.append(c)
import select, time
select.select([], [], [], 1.5)
for c in clients:
    c.close()
server.close()
"""


@pytest.fixture
def namespaces() -> Iterator[dict[str, int]]:
    """``cnetcn-l`` (listeners, pid of the python holding them) and ``cnetcn-q`` (quiet,
    pid of a sleep)."""
    made: list[str] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for ns in ("cnetcn-l", "cnetcn-q"):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        listener = subprocess.Popen(
            ["ip", "netns", "exec", "cnetcn-l", sys.executable, "-c", LISTENER],
            stdout=subprocess.PIPE,
        )
        procs.append(listener)
        assert listener.stdout is not None
        assert listener.stdout.readline().strip() == b"ready"
        quiet = sleeper_in("cnetcn-q")
        procs.append(quiet)
        yield {"cnetcn-l": listener.pid, "cnetcn-q": quiet.pid}
    finally:
        for p in procs:
            p.kill()
            p.wait()
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


SS_LINE = re.compile(
    r"^(?P<proto>tcp|udp)\s+(?P<state>\S+)\s+\d+\s+\d+\s+(?P<local>\S+):(?P<port>\d+)\s+\S+\s+(?P<rest>.*)$"
)


def ss_listeners(ns: str) -> set[tuple[str, str, int, int, tuple[int, ...]]]:
    """(protocol, address, port, inode, pids) of each listening socket, as ``ss`` sees them."""
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "ss", "-tulnpeH"], capture_output=True, text=True, check=True
    ).stdout
    found = set()
    for line in out.splitlines():
        m = SS_LINE.match(line.strip())
        assert m, line
        addr = m["local"].strip("[]").split("%")[0]
        if addr == "*":
            addr = "::"  # ss prints a dual-stack "::" as "*"
        inode = int(re.search(r"ino:(\d+)", m["rest"])[1])  # type: ignore[index]
        pids = tuple(sorted({int(p) for p in re.findall(r"pid=(\d+)", m["rest"])}))
        found.add((m["proto"], addr, int(m["port"]), inode, pids))
    return found


def test_sockets_match_ss(namespaces: dict[str, int]) -> None:
    for ns, pid in namespaces.items():
        read = read_sockets(pid)
        assert read.problem is None
        mine = {(s.protocol, s.local, s.local_port, s.inode, s.pids) for s in read.listeners}
        assert mine == ss_listeners(ns)
    listening = read_sockets(namespaces["cnetcn-l"]).listeners
    # the connected UDP socket is no listener; the python holding them is named
    assert {(s.protocol, s.local_port) for s in listening} == {
        ("tcp", 18181),
        ("tcp", 18182),
        ("udp", 15353),
    }
    assert all(s.process.startswith("python") for s in listening)
    assert {s.backlog for s in listening if s.local_port == 18181} == {7}
    assert read_sockets(namespaces["cnetcn-q"]).sockets == ()


def test_established_connections_match_ss(namespaces: dict[str, int]) -> None:
    out = subprocess.run(
        ["ip", "netns", "exec", "cnetcn-l", "ss", "-tnpeH", "state", "established"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    want = set()
    for line in out.splitlines():
        fields = line.split()  # Recv-Q Send-Q Local Peer users:... ino:N
        local, peer = fields[2].rsplit(":", 1), fields[3].rsplit(":", 1)
        inode = int(re.search(r"ino:(\d+)", line)[1])  # type: ignore[index]
        want.add((local[0], int(local[1]), peer[0], int(peer[1]), inode))
    read = read_sockets(namespaces["cnetcn-l"], established=True)
    got = {
        (s.local, s.local_port, s.remote, s.remote_port, s.inode)
        for s in read.sockets
        if s.state == "ESTAB"
    }
    assert got == want and len(got) == 2  # both ends of the one connection
    assert all(s.state != "ESTAB" for s in read_sockets(namespaces["cnetcn-l"]).sockets)


def test_gone_namespace_is_one_line() -> None:
    proc = subprocess.Popen(["sleep", "0"])
    proc.wait()
    read = read_sockets(proc.pid)
    assert read.sockets == ()
    assert read.problem is not None and "gone" in read.problem
    assert read_health(proc.pid) is None


def nstat(ns: str) -> dict[str, int]:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "nstat", "-asz", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {k: int(v) for k, v in json.loads(out)["kernel"].items()}


@pytest.mark.skipif(shutil.which("nstat") is None, reason="needs iproute2's nstat")
def test_health_matches_nstat_after_reset_and_overflow(namespaces: dict[str, int]) -> None:
    ns, pid = "cnetcn-q", namespaces["cnetcn-q"]
    before = read_health(pid)
    assert before is not None
    subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", STORM], check=True, timeout=30)
    after = read_health(pid)
    assert after is not None
    kernel = nstat(ns)
    for name in COUNTERS:
        assert getattr(after, name) == kernel[nstat_name(name)], name
    assert after.out_rsts > before.out_rsts
    assert after.attempt_fails > before.attempt_fails
    assert after.listen_overflows > before.listen_overflows
    assert after.listen_drops > before.listen_drops
