"""``run_ping`` through real network namespaces, no Docker.

Made here and removed afterwards (prefix ``cnpg-``): a sender A, a router B and a far
side C, joined by veths, plus L with only ``lo``.  A plan points at a namespace by the
pid of a ``sleep`` started in it, as a container's does.  Every packet stays inside
these namespaces; each answer is checked against the kernel's own counters in the peer
(``ip -s link``, ``/proc/net/snmp``, an nft counter), read with iproute2 and nft.

    A cnpg-*a 10.255.77.1/30 ==== 10.255.77.2/30 cnpg-*b B cnpg-*b2 10.255.77.5/30
                                                              fd77::1/64
                                                                ||
    L (lo only)                           C cnpg-*c 10.255.77.6/30 fd77::2/64

B answers 10.255.78.0/24 with "prohibited" and 10.255.80.0/24 with "unreachable";
B and C route 10.255.79.0/24 to each other, a loop where the TTL runs out.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import site
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import inspector.actions.ping
from inspector.actions.ping import (
    PingError,
    PingPlan,
    PingProblem,
    PingReply,
    PingSummary,
    format_event,
    run_ping,
)
from tests.cli import ROOT, _interpreter_for_nobody
from tests.netns_helpers import sleeper_in

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and raw sockets need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]

A_IP, B_IP, B2_IP, C_IP = "10.255.77.1", "10.255.77.2", "10.255.77.5", "10.255.77.6"
B_IP6, C_IP6 = "fd77::1", "fd77::2"


def ip(*args: str) -> str:
    """iproute2, never through a shell."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def in_ns(ns: str, *argv: str) -> str:
    return ip("netns", "exec", ns, *argv)


def sysctl(ns: str, *settings: str) -> None:
    in_ns(ns, "sysctl", "-qw", *settings)


@dataclass
class Lab:
    a: str
    b: str
    c: str
    lo: str
    veth_a: str
    veth_b: str
    veth_b2: str
    veth_c: str
    pids: dict[str, int]

    def plan(self, ns: str, target: str, family: int = socket.AF_INET, scope: int = 0) -> PingPlan:
        return PingPlan(ns, ns, self.pids[ns], target, "", family, scope_id=scope)

    def rx_packets(self, ns: str, dev: str) -> int:
        (link,) = json.loads(ip("-n", ns, "-j", "-s", "link", "show", "dev", dev))
        return int(link["stats64"]["rx"]["packets"])

    def icmp(self, ns: str) -> dict[str, int]:
        """The namespace's ICMP and ICMPv6 counters, as its kernel keeps them."""
        counters: dict[str, int] = {}
        lines = [line.split() for line in in_ns(ns, "cat", "/proc/net/snmp").splitlines()]
        for names, values in itertools.pairwise(lines):
            if names[0] == values[0] == "Icmp:" and not values[1].isalpha():
                counters.update(zip(names[1:], map(int, values[1:]), strict=True))
        for line in in_ns(ns, "cat", "/proc/net/snmp6").splitlines():
            name, value = line.split()
            counters[name] = int(value)
        return counters

    def ifindex(self, ns: str, dev: str) -> int:
        (link,) = json.loads(ip("-n", ns, "-j", "link", "show", "dev", dev))
        return int(link["ifindex"])

    def link_local(self, ns: str, dev: str) -> str:
        (link,) = json.loads(ip("-n", ns, "-j", "-6", "addr", "show", "dev", dev, "scope", "link"))
        return str(next(a["local"] for a in link["addr_info"] if "local" in a))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    tag = "cnpg-" + secrets.token_hex(2)
    names = {k: f"{tag}-{k}" for k in ("a", "b", "c", "lo")}
    lab = Lab(
        names["a"],
        names["b"],
        names["c"],
        names["lo"],
        veth_a=tag + "a",
        veth_b=tag + "b",
        veth_b2=tag + "b2",
        veth_c=tag + "c",
        pids={},
    )
    made: list[str] = []
    sleepers: list[subprocess.Popen[bytes]] = []
    try:
        for ns in names.values():
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        a, b, c = lab.a, lab.b, lab.c
        ip("link", "add", lab.veth_a, "netns", a, "type", "veth", "peer", lab.veth_b, "netns", b)
        ip("link", "add", lab.veth_b2, "netns", b, "type", "veth", "peer", lab.veth_c, "netns", c)
        # A-B carries IPv4 only, with fixed neighbours: nothing but our echoes on it.
        sysctl(a, f"net.ipv6.conf.{lab.veth_a}.disable_ipv6=1")
        sysctl(b, f"net.ipv6.conf.{lab.veth_b}.disable_ipv6=1")
        ip("-n", a, "addr", "add", f"{A_IP}/30", "dev", lab.veth_a)
        ip("-n", b, "addr", "add", f"{B_IP}/30", "dev", lab.veth_b)
        ip("-n", b, "addr", "add", f"{B2_IP}/30", "dev", lab.veth_b2)
        ip("-n", c, "addr", "add", f"{C_IP}/30", "dev", lab.veth_c)
        sysctl(b, f"net.ipv6.conf.{lab.veth_b2}.accept_dad=0")  # link-local usable at once
        sysctl(c, f"net.ipv6.conf.{lab.veth_c}.accept_dad=0")
        ip("-n", b, "-6", "addr", "add", f"{B_IP6}/64", "dev", lab.veth_b2, "nodad")
        ip("-n", c, "-6", "addr", "add", f"{C_IP6}/64", "dev", lab.veth_c, "nodad")
        for ns, dev in ((a, lab.veth_a), (b, lab.veth_b), (b, lab.veth_b2), (c, lab.veth_c)):
            ip("-n", ns, "link", "set", dev, "up")
        mac = {
            dev: json.loads(ip("-n", ns, "-j", "link", "show", "dev", dev))[0]["address"]
            for ns, dev in ((a, lab.veth_a), (b, lab.veth_b))
        }
        ip("-n", a, "neigh", "replace", B_IP, "lladdr", mac[lab.veth_b], "dev", lab.veth_a,
           "nud", "permanent")  # fmt: skip
        ip("-n", b, "neigh", "replace", A_IP, "lladdr", mac[lab.veth_a], "dev", lab.veth_b,
           "nud", "permanent")  # fmt: skip
        # B and C route; every error is sent (no rate limit), and no redirects muddle it.
        for ns in (b, c):
            sysctl(
                ns,
                "net.ipv4.ip_forward=1",
                "net.ipv4.icmp_ratelimit=0",
                "net.ipv6.icmp.ratelimit=0",
                "net.ipv4.conf.all.send_redirects=0",
            )
        for dev in (lab.veth_b, lab.veth_b2):
            sysctl(b, f"net.ipv4.conf.{dev}.send_redirects=0")
        sysctl(c, f"net.ipv4.conf.{lab.veth_c}.send_redirects=0")
        for net in ("10.255.78.0/24", "10.255.79.0/24", "10.255.80.0/24"):
            ip("-n", a, "route", "add", net, "via", B_IP)
        ip("-n", b, "route", "add", "prohibit", "10.255.78.0/24")
        ip("-n", b, "route", "add", "unreachable", "10.255.80.0/24")
        ip("-n", b, "route", "add", "10.255.79.0/24", "via", C_IP)
        ip("-n", c, "route", "add", "10.255.79.0/24", "via", B2_IP)
        ip("-n", c, "route", "add", "10.255.77.0/30", "via", B2_IP)
        for ns in (a, c, lab.lo):
            sleepers.append(sleeper_in(ns))
            lab.pids[ns] = sleepers[-1].pid
        yield lab
    finally:
        for proc in sleepers:
            proc.kill()
            proc.wait()
        for ns in made:  # the veths go with their namespaces
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        assert not any(n.startswith(tag) for n in os.listdir("/run/netns"))


def _in_worker(plan: PingPlan, **options: object) -> tuple[list[object], str]:
    """Run the ping on a worker thread, as the TUI does: its events and its namespace after."""
    events: list[object] = []
    after: list[str] = []
    problem: list[BaseException] = []

    def work() -> None:
        try:
            events.extend(run_ping(plan, **options))  # type: ignore[arg-type]
        except BaseException as exc:
            problem.append(exc)
        after.append(os.readlink(f"/proc/self/task/{threading.get_native_id()}/ns/net"))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if problem:
        raise problem[0]
    return events, after[0]


def test_echo_reaches_the_peer_and_its_replies_are_counted(lab: Lab) -> None:
    rx_before, icmp_before = lab.rx_packets(lab.b, lab.veth_b), lab.icmp(lab.b)
    events, namespace_after = _in_worker(lab.plan(lab.a, B_IP), count=3, interval=0.01)
    replies = [e for e in events if isinstance(e, PingReply)]
    assert [(r.seq, r.source, r.size) for r in replies] == [(s, B_IP, 64) for s in (1, 2, 3)]
    summary = events[-1]
    assert isinstance(summary, PingSummary)
    assert (summary.transmitted, summary.received, summary.errors) == (3, 3, 0)
    # B's kernel saw exactly our three requests, on that veth, and answered each.
    icmp_after = lab.icmp(lab.b)
    assert lab.rx_packets(lab.b, lab.veth_b) - rx_before == 3
    assert icmp_after["InEchos"] - icmp_before["InEchos"] == 3
    assert icmp_after["OutEchoReps"] - icmp_before["OutEchoReps"] == 3
    # The worker thread came back to the namespace it started in.
    assert namespace_after == os.readlink("/proc/self/ns/net")


def test_replies_to_another_session_are_never_counted(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sessions in A at once; B drops the second's requests (an nft rule in B).

    Both raw sockets see every reply B sends; the second must count none of them.
    """
    if shutil.which("nft") is None:
        pytest.skip("needs nft to drop one session's requests in B")
    answered, dropped = 0x1111, 0x2222
    ids = iter([answered, dropped])
    monkeypatch.setattr(inspector.actions.ping, "_new_ident", lambda: next(ids))
    in_ns(lab.b, "nft", "add", "table", "inet", "cnpg")
    in_ns(lab.b, "nft", "add", "chain", "inet", "cnpg", "in",
          "{ type filter hook input priority 0 ; }")  # fmt: skip
    in_ns(lab.b, "nft", "add", "rule", "inet", "cnpg", "in",
          "icmp", "type", "echo-request", "icmp", "id", str(dropped), "counter", "drop")  # fmt: skip
    try:
        before = lab.icmp(lab.b)
        first = run_ping(lab.plan(lab.a, B_IP), count=20, interval=0.01, timeout=0.5)
        second = run_ping(lab.plan(lab.a, B_IP), count=20, interval=0.01, timeout=0.5)
        start = threading.Barrier(2)
        results: dict[str, list[object]] = {}

        def consume(name: str, events: Iterator[object]) -> None:
            start.wait()
            results[name] = list(events)

        threads = [
            threading.Thread(target=consume, args=("first", first)),
            threading.Thread(target=consume, args=("second", second)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ruleset = json.loads(in_ns(lab.b, "nft", "-j", "list", "table", "inet", "cnpg"))
    finally:
        in_ns(lab.b, "nft", "delete", "table", "inet", "cnpg")
    counter = next(i["rule"] for i in ruleset["nftables"] if "rule" in i)["expr"]
    drops = next(e["counter"]["packets"] for e in counter if "counter" in e)
    one, two = results["first"][-1], results["second"][-1]
    assert isinstance(one, PingSummary) and isinstance(two, PingSummary)
    assert (one.transmitted, one.received) == (20, 20)
    assert (two.transmitted, two.received) == (20, 0)
    assert not any(isinstance(e, PingReply) for e in results["second"])
    assert drops == 20  # B's own count of the second session's requests
    assert lab.icmp(lab.b)["OutEchoReps"] - before["OutEchoReps"] == 20


@pytest.mark.parametrize(
    ("target", "words"),
    [("10.255.78.9", "Packet filtered"), ("10.255.80.9", "Destination host unreachable")],
)
def test_unreachable_is_a_problem_from_the_router(lab: Lab, target: str, words: str) -> None:
    before = lab.icmp(lab.b)["OutDestUnreachs"]
    events, _ = _in_worker(lab.plan(lab.a, target), count=2, interval=0.01)
    assert events[:-1] == [PingProblem(1, B_IP, words), PingProblem(2, B_IP, words)]
    assert format_event(events[0]) == f"From {B_IP} icmp_seq=1 {words}"
    summary = events[-1]
    assert isinstance(summary, PingSummary) and (summary.received, summary.errors) == (0, 2)
    assert lab.icmp(lab.b)["OutDestUnreachs"] - before == 2  # B's word for it


def test_time_exceeded_in_a_routing_loop(lab: Lab) -> None:
    before = {ns: lab.icmp(ns)["OutTimeExcds"] for ns in (lab.b, lab.c)}
    events, _ = _in_worker(lab.plan(lab.a, "10.255.79.9"), count=1)
    (problem, summary) = events
    assert isinstance(problem, PingProblem) and problem.message == "Time to live exceeded"
    sent = {ns: lab.icmp(ns)["OutTimeExcds"] - before[ns] for ns in (lab.b, lab.c)}
    assert sorted(sent.values()) == [0, 1]  # one router of the loop said so, and named itself
    assert problem.source == (B2_IP if sent[lab.b] else C_IP)
    assert isinstance(summary, PingSummary) and summary.errors == 1


def test_ipv6_global_and_link_local(lab: Lab) -> None:
    before = lab.icmp(lab.b)["Icmp6InEchos"]
    events, _ = _in_worker(lab.plan(lab.c, B_IP6, socket.AF_INET6), count=2, interval=0.01)
    assert [(e.seq, e.source) for e in events if isinstance(e, PingReply)] == [
        (1, B_IP6),
        (2, B_IP6),
    ]
    # fe80::...%<ifindex in C>: C's index of its own veth, which the host does not know.
    peer = lab.link_local(lab.b, lab.veth_b2)
    scope = lab.ifindex(lab.c, lab.veth_c)
    plan = lab.plan(lab.c, peer, socket.AF_INET6, scope)
    events, _ = _in_worker(plan, count=2, interval=0.01)
    assert [(e.seq, e.source) for e in events if isinstance(e, PingReply)] == [(1, peer), (2, peer)]
    assert lab.icmp(lab.b)["Icmp6InEchos"] - before == 4


def test_stop_is_noticed_while_waiting(lab: Lab) -> None:
    """A minute between requests: the stop set from another thread ends the wait early."""
    stop = threading.Event()
    replied = threading.Event()
    events: list[object] = []

    def work() -> None:
        for event in run_ping(lab.plan(lab.a, B_IP), count=None, interval=60, stop=stop):
            events.append(event)
            replied.set()

    thread = threading.Thread(target=work, daemon=True)  # a broken stop must not hold pytest
    thread.start()
    replied.wait(20)
    stop.set()
    thread.join(20)  # far less than the 60 s to the next request
    assert not thread.is_alive()
    summary = events[-1]
    assert isinstance(summary, PingSummary) and summary.stopped
    assert (summary.transmitted, summary.received) == (1, 1)


def test_loopback_only_namespace_says_unreachable(lab: Lab) -> None:
    plan = lab.plan(lab.lo, B_IP)
    with pytest.raises(PingError) as info:
        _in_worker(plan, count=1)
    assert str(info.value) == f"network is unreachable: no route to {B_IP} in {lab.lo}"
    # The namespace was entered: its own loopback answers.
    events, _ = _in_worker(lab.plan(lab.lo, "127.0.0.1"), count=1)
    assert [e.source for e in events if isinstance(e, PingReply)] == ["127.0.0.1"]


def test_a_gone_process_is_said_in_one_line(lab: Lab) -> None:
    proc = sleeper_in(lab.lo)
    proc.kill()
    proc.wait()
    plan = PingPlan("gone", lab.lo, proc.pid, "127.0.0.1", "", socket.AF_INET)
    with pytest.raises(PingError, match=r"^container gone is not running any more"):
        run_ping(plan, count=1)


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_not_root_is_told_so_in_one_line(lab: Lab) -> None:
    """As uid 65534: the namespace cannot be opened, nor a raw socket in the host's own."""
    python = _interpreter_for_nobody()
    if python is None:
        pytest.skip("no Python interpreter here that an unprivileged user may execute")
    script = (
        "import socket, sys\n"
        "from inspector.actions.ping import PingError, PingPlan, run_ping\n"
        "for pid in (int(sys.argv[1]), None):\n"
        "    try:\n"
        "        run_ping(PingPlan('c', 'ns', pid, '127.0.0.1', '', socket.AF_INET), count=1)\n"
        "    except PingError as exc:\n"
        "        print(exc.code, exc)\n"
    )
    path = os.pathsep.join([str(ROOT), *site.getsitepackages()])
    proc = subprocess.run(
        [python, "-c", script, str(lab.pids[lab.a])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"PATH": os.environ["PATH"], "PYTHONPATH": path},
        preexec_fn=_as_nobody,
    )
    assert proc.stderr == ""
    message = "1 raw ICMP sockets and namespaces need root: run cnet as root"
    assert proc.stdout.splitlines() == [message, message]
