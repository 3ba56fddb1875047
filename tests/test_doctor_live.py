"""The doctor's live readers on real parts: a scratch network namespace (``cnrl-...``) with
Docker-style DNS rules made by the real iptables inside it, and a process in it holding a
real listening TCP socket and a UDP socket on 127.0.0.11, as Docker's embedded resolver does.
Nothing leaves the namespace; it is deleted afterwards.  Skips without root, ip, iptables
or nsenter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from inspector.doctor.dns import EMBEDDED_DNS
from inspector.doctor.live import read_dns, read_listeners, read_namespace_rules
from inspector.doctor.model import Listener
from inspector.model.snapshot import Container

HOLDER = """
import socket, sys
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", 8080)); tcp.listen()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.11", 51155))
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def namespace_process() -> Iterator[int]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    for tool in ("ip", "iptables", "nsenter"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    ns = f"cnrl-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    proc = None
    try:
        run = ["ip", "netns", "exec", ns]
        subprocess.run([*run, "ip", "link", "set", "lo", "up"], check=True)
        for proto, port in (("udp", 51155), ("tcp", 40383)):
            subprocess.run(
                [*run, "iptables", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.11/32", "-p",
                 proto, "--dport", "53", "-j", "DNAT", "--to-destination",
                 f"127.0.0.11:{port}"],
                check=True,
            )  # fmt: skip
        proc = subprocess.Popen(
            [*run, sys.executable, "-c", HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)


def test_listeners_and_namespace_rules_are_read_from_the_process(namespace_process: int) -> None:
    pid = namespace_process
    listeners = read_listeners(pid)
    assert listeners is not None
    assert Listener("tcp", "0.0.0.0", 8080) in listeners
    assert Listener("udp", EMBEDDED_DNS, 51155) in listeners
    host = read_listeners(None)
    assert host is not None and Listener("tcp", "0.0.0.0", 8080) not in host  # not the host's
    rulesets, problem, _ = read_namespace_rules(pid)
    assert problem is None and rulesets is not None
    dnat = [
        r.target.option("--to-destination").value  # type: ignore[union-attr]
        for t in rulesets.tables
        for c in t.chains
        for r in c.rules
        if r.verdict == "DNAT"
    ]
    assert dnat == ["127.0.0.11:51155", "127.0.0.11:40383"]


def test_read_dns_reads_resolv_conf_through_proc() -> None:
    me = Container("x", "x", "i", "running", os.getpid(), "bridge")
    facts = read_dns(me)
    with open("/etc/resolv.conf", encoding="utf-8") as f:
        assert facts.resolv_conf == f.read()
    gone = read_dns(Container("y", "y", "i", "running", 2**22 + 7, "bridge"))
    assert gone.resolv_conf is None and gone.problem


def test_sockets_are_read_only_where_a_check_looks_at_them(namespace_process: int) -> None:
    """A published port needs the namespace's listeners; a namespace with neither a port
    nor Docker's resolver does not (each /proc/PID/net/tcp read walks the kernel's whole
    socket table)."""
    from inspector.doctor.live import _namespace_facts, _publishing
    from inspector.model.snapshot import PublishedPort, Snapshot

    pid = namespace_process
    web = Container(
        "w",
        "web",
        "i",
        "running",
        pid,
        "bridge",
        ports=(PublishedPort(8080, "tcp", "0.0.0.0", 18080),),
    )
    quiet = Container("q", "quiet", "i", "running", pid, "bridge")
    snapshot = Snapshot("t", "h", containers=(web, quiet))
    publishing = _publishing(snapshot, [web, quiet])
    assert publishing == {"web"}
    listeners, dns = _namespace_facts([web, quiet], publishing)
    assert set(dns) == {"web", "quiet"}
    assert set(listeners) == {"web"}
    assert Listener("tcp", "0.0.0.0", 8080) in listeners["web"]
