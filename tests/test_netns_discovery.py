"""Discovery, attribution, the join and routes through real namespaces, no engine.

Made here and removed afterwards (prefix ``cnns-``): a bridge in the host, a namespace A
on it by a veth, a namespace B joined to A by a veth of their own (no host end), routes of
every type in B, and a namespace only a process holds (``unshare -n``).  Docker is kept
out of it (``DOCKER_HOST`` points nowhere).  Every result is compared with the kernel's
own answers: ``ip -j -d link``/``addr``/``route`` inside the namespace, ``lsns``, ``stat``.

    host: cnns-br<s> 10.253.N.1/24 -- cnns-<s>h ==== eth0 10.253.N.2/24  A  toB 10.252.N.1/29
                                                                            ||
                                              B  toA 10.252.N.2/29, blackhole, multipath, ...
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from inspector.collect import discover, podman
from inspector.live.runner import Collector, Live, LiveUpdate
from inspector.model.snapshot import Container, PeerRef, Snapshot

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]


def run(*args: str) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def ip_json(ns: str | None, *args: str) -> Any:
    where = ["-n", ns] if ns else []
    return json.loads(run("ip", *where, "-j", *args) or "[]")


@dataclass
class Scratch:
    suffix: str
    n: int
    bridge: str
    host_end: str
    a: str
    b: str
    sleeper: subprocess.Popen[bytes]

    def inode(self, ns: str) -> int:
        return os.stat(f"/run/netns/{ns}").st_ino


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    s = secrets.token_hex(2)
    n = 100 + int(s, 16) % 100
    bridge, host_end, a, b = f"cnns-br{s}", f"cnns-{s}h", f"cnns-{s}a", f"cnns-{s}b"
    made: list[list[str]] = []
    sleeper = subprocess.Popen(["unshare", "-n", "sleep", "600"])
    try:
        for ns in (a, b):
            run("ip", "netns", "add", ns)
            made.append(["ip", "netns", "del", ns])
        run("ip", "link", "add", bridge, "type", "bridge")
        made.append(["ip", "link", "del", bridge])
        script = [
            f"ip addr add 10.253.{n}.1/24 dev {bridge}",
            f"ip link set {bridge} up",
            f"ip link add {host_end} type veth peer name eth0 netns {a}",
            f"ip link set {host_end} master {bridge} up",
            f"ip -n {a} link set lo up",
            f"ip -n {a} link set eth0 up",
            f"ip -n {a} addr add 10.253.{n}.2/24 dev eth0",
            f"ip -n {a} route add default via 10.253.{n}.1",
            f"ip -n {a} link add toB type veth peer name toA netns {b}",
            f"ip -n {a} link set toB up",
            f"ip -n {a} addr add 10.252.{n}.1/29 dev toB",
            f"ip -n {b} link set lo up",
            f"ip -n {b} link set toA up",
            f"ip -n {b} addr add 10.252.{n}.2/29 dev toA",
            f"ip -n {b} -6 addr add fd53:{n}::2/64 dev toA nodad",
            f"ip -n {b} route add blackhole 10.251.{n}.0/24",
            f"ip -n {b} route add unreachable 10.251.{n + 1}.0/24",
            f"ip -n {b} route add prohibit 10.251.{n + 2}.0/24",
            f"ip -n {b} route add throw 10.251.{n + 3}.0/24",
            f"ip -n {b} route add 10.250.{n}.0/24 nexthop via 10.252.{n}.1 dev toA weight 1"
            f" nexthop via 10.252.{n}.3 dev toA weight 2",
            f"ip -n {b} -6 route add fd54:{n}::/64 nexthop via fd53:{n}::1 dev toA weight 3"
            f" nexthop via fd53:{n}::3 dev toA weight 1",
            f"ip -n {b} -6 route add blackhole fd55:{n}::/64",
            f"ip -n {b} route add 10.249.{n}.0/24 via 10.252.{n}.1 proto zebra",
            f"ip -n {b} route add 10.248.{n}.0/24 via 10.252.{n}.1 table 100",
            f"ip -n {b} route add local 10.247.{n}.0/24 dev lo",
            f"ip -n {b} route add default via 10.252.{n}.1",
        ]
        for line in script:
            run(*line.split())
        yield Scratch(s, n, bridge, host_end, a, b, sleeper)
    finally:
        sleeper.kill()
        sleeper.wait()
        for cmd in reversed(made):
            subprocess.run(cmd, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def snapshot(scratch: Scratch) -> Snapshot:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_HOST", "unix:///nonexistent/cnns.sock")
        collector = Collector()
        try:
            return collector.collect()
        finally:
            collector.close()


def workload(s: Snapshot, name: str) -> Container:
    c = s.container(name)
    assert c is not None, f"{name} not in {[c.name for c in s.containers]}"
    return c


def test_every_namespace_is_found_once_as_lsns_and_the_mounts_say(scratch: Scratch) -> None:
    listed = json.loads(run("lsns", "-t", "net", "-J"))["namespaces"]
    found = discover.discover()
    inodes = [f.identity[1] for f in found]
    assert len(inodes) == len(set(inodes))
    by_inode = {f.identity[1]: f for f in found}
    # Other work on the host may start or end processes between the two reads: compare the
    # namespaces this test holds and the host's, which stay.
    mine = {
        os.stat(f"/proc/{scratch.sleeper.pid}/ns/net").st_ino,
        os.stat("/proc/self/ns/net").st_ino,
    }
    for n in listed:
        if n["ns"] in mine:  # lsns's pid is the lowest in the namespace, as discovery's
            assert by_inode[n["ns"]].pid == n["pid"]
    assert mine <= {n["ns"] for n in listed} and mine <= set(inodes)
    for ns in (scratch.a, scratch.b):  # only a bind mount keeps these
        f = by_inode[scratch.inode(ns)]
        assert f.pid is None and f.paths == (f"/run/netns/{ns}",)


def test_each_workload_says_what_made_it(scratch: Scratch, snapshot: Snapshot) -> None:
    a = workload(snapshot, scratch.a)
    assert (a.runtime, a.id, a.pid, a.netns) == (
        "netns",
        f"netns:{scratch.a}",
        None,
        f"net:[{scratch.inode(scratch.a)}]",
    )
    unshared = os.stat(f"/proc/{scratch.sleeper.pid}/ns/net").st_ino
    held = [c for c in snapshot.containers if c.netns == f"net:[{unshared}]"]
    assert len(held) == 1
    assert held[0].pid == scratch.sleeper.pid
    if held[0].runtime == "process":  # unless the test runs inside a systemd unit
        assert held[0].name == f"process sleep (pid {scratch.sleeper.pid})"
    assert "600" not in held[0].name  # never the command line
    assert [i.name for i in held[0].interfaces] == ["lo"]


def _links(ns: str) -> dict[str, tuple[Any, ...]]:
    return {
        link["ifname"]: (
            link["ifindex"],
            link.get("link_index"),
            link.get("link_netnsid"),
            (link.get("linkinfo") or {}).get("info_kind"),
            link["mtu"],
        )
        for link in ip_json(ns, "-d", "link")
    }


def test_interfaces_are_what_iproute2_says_inside(scratch: Scratch, snapshot: Snapshot) -> None:
    for ns in (scratch.a, scratch.b):
        c = workload(snapshot, ns)
        mine = {i.name: (i.ifindex, i.iflink, i.link_netnsid, i.kind, i.mtu) for i in c.interfaces}
        assert mine == _links(ns)
        addresses = {
            a["ifname"]: {f"{x['local']}/{x['prefixlen']}" for x in a["addr_info"]}
            for a in ip_json(ns, "addr")
        }
        assert {i.name: set(i.addresses) for i in c.interfaces} == addresses


def test_the_host_end_and_the_bridge_port_name_the_namespace(
    scratch: Scratch, snapshot: Snapshot
) -> None:
    eth0 = next(i for i in workload(snapshot, scratch.a).interfaces if i.name == "eth0")
    host_end = snapshot.host_interface(scratch.host_end)
    assert host_end is not None
    assert eth0.peer == PeerRef(scratch.host_end, host_end.ifindex, scratch.bridge, None)
    assert host_end.peer == PeerRef("eth0", eth0.ifindex, None, scratch.a)
    assert (host_end.container, host_end.container_interface) == (scratch.a, "eth0")
    bridge = snapshot.bridge(scratch.bridge)
    assert bridge is not None
    [port] = bridge.ports
    assert (port.name, port.container, port.container_interface, port.note) == (
        scratch.host_end,
        scratch.a,
        "eth0",
        None,
    )


def test_a_veth_between_two_namespaces_is_joined(scratch: Scratch, snapshot: Snapshot) -> None:
    to_b = next(i for i in workload(snapshot, scratch.a).interfaces if i.name == "toB")
    to_a = next(i for i in workload(snapshot, scratch.b).interfaces if i.name == "toA")
    assert to_b.peer == PeerRef("toA", to_a.ifindex, None, scratch.b)
    assert to_a.peer == PeerRef("toB", to_b.ifindex, None, scratch.a)
    # as iproute2 sees it: each end's link index is the other's ifindex
    assert _links(scratch.a)["toB"][1] == to_a.ifindex


def _cidr(dst: str, family: int) -> str:
    if dst == "default" or "/" in dst:
        return dst
    return f"{dst}/{32 if family == 4 else 128}"


def _iproute2_routes(ns: str) -> set[tuple[Any, ...]]:
    out = set()
    for family in (4, 6):
        for r in ip_json(ns, f"-{family}", "route", "show", "table", "all"):
            table = r.get("table", "main")
            protocol = r.get("protocol", "boot")
            if table == "local" and protocol == "kernel":
                continue  # what the kernel derives from addresses: left out, as documented
            hops = tuple(
                (h.get("gateway"), h.get("dev"), h.get("weight", 1)) for h in r.get("nexthops", ())
            )
            out.add(
                (
                    _cidr(r["dst"], family),
                    r.get("type", "unicast"),
                    table,
                    protocol,
                    r.get("gateway"),
                    r.get("dev"),
                    hops,
                )
            )
    return out


def test_routes_of_every_type_and_table_are_what_iproute2_says(
    scratch: Scratch, snapshot: Snapshot
) -> None:
    b = workload(snapshot, scratch.b)
    mine = {
        (
            r.dst,
            r.type,
            r.table,
            r.protocol,
            r.gateway,
            r.dev,
            tuple((h.gateway, h.dev, h.weight) for h in r.nexthops),
        )
        for r in b.routes
    }
    assert mine == _iproute2_routes(scratch.b)
    types = {r.type for r in b.routes}
    assert {"blackhole", "unreachable", "prohibit", "throw", "local", "unicast"} <= types
    multipath = next(r for r in b.routes if r.dst == f"10.250.{scratch.n}.0/24")
    assert [(h.gateway, h.weight) for h in multipath.nexthops] == [
        (f"10.252.{scratch.n}.1", 1),
        (f"10.252.{scratch.n}.3", 2),
    ]
    assert next(r for r in b.routes if r.dst == f"10.249.{scratch.n}.0/24").protocol == "zebra"


def test_loopback_only_is_decided_from_interfaces(scratch: Scratch, snapshot: Snapshot) -> None:
    from inspector.model.paths import container_summary, loopback_only

    a = workload(snapshot, scratch.a)
    assert not loopback_only(a)
    assert "loopback only" not in container_summary(snapshot, a)


def _wait(updates: queue.Queue[LiveUpdate], ok: Any, what: str) -> Snapshot:
    """The first published snapshot for which ``ok`` holds; a bound, not a timing claim."""
    while True:
        try:
            update = updates.get(timeout=30)
        except queue.Empty:
            raise AssertionError(f"no snapshot with {what} within 30 s") from None
        if ok(update.snapshot):
            return update.snapshot


@contextmanager
def live_without_docker(reconcile: float) -> Iterator[tuple[Live, queue.Queue[LiveUpdate]]]:
    """A running ``Live`` that sees no engine and no Podman events (another Podman user's
    would make it look again), and the queue of what it publishes."""
    updates: queue.Queue[LiveUpdate] = queue.Queue()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_HOST", "unix:///nonexistent/cnns.sock")
        mp.setattr(podman, "available", lambda: None)
        live = Live(reconcile=reconcile)
        live.start(updates.put)
        try:
            yield live, updates
        finally:
            live.stop()


def test_live_finds_a_namespace_plumbed_after_it_started(scratch: Scratch) -> None:
    """The host veth that appears, pointing into a namespace cnet does not know, is what
    makes the live runner look for namespaces again (tests/test_live_items.py shows that
    an address change does not)."""
    c = f"cnns-{scratch.suffix}c"
    with live_without_docker(reconcile=0) as (live, updates):
        _wait(updates, lambda s: s.container(scratch.a) is not None, scratch.a)
        before = live.discoveries
        run("ip", "netns", "add", c)
        try:
            run(*f"ip link add cnns-{scratch.suffix}k type veth peer name eth0 netns {c}".split())
            run(*f"ip link set cnns-{scratch.suffix}k master {scratch.bridge} up".split())
            run("ip", "-n", c, "link", "set", "eth0", "up")

            def joined(s: Snapshot) -> bool:
                w = s.container(c)
                eth0 = next((i for i in w.interfaces if i.name == "eth0"), None) if w else None
                return eth0 is not None and eth0.peer is not None

            def ported(s: Snapshot) -> bool:
                # the host end's master comes in an event of its own, maybe a picture later
                bridge = s.bridge(scratch.bridge)
                return (
                    joined(s)
                    and bridge is not None
                    and any(p.name == f"cnns-{scratch.suffix}k" for p in bridge.ports)
                )

            s = _wait(updates, ported, f"{c} joined to its host end, a port of the bridge")
            assert live.discoveries > before
            bridge = s.bridge(scratch.bridge)
            assert bridge is not None
            (port,) = [p for p in bridge.ports if p.name == f"cnns-{scratch.suffix}k"]
            assert port.container == c
        finally:
            subprocess.run(["ip", "netns", "del", c], capture_output=True, timeout=30)


def test_a_reconciliation_sees_a_change_no_event_announces(scratch: Scratch) -> None:
    """An address added inside a namespace reaches no host event: only the safety net's
    re-reads find it, a batch of namespaces per pass (``RECONCILE_BATCH``), in turn."""
    address = f"10.246.{scratch.n}.9"
    with live_without_docker(reconcile=0.5) as (_live, updates):
        _wait(updates, lambda s: s.container(scratch.b) is not None, scratch.b)
        run("ip", "-n", scratch.b, "addr", "add", f"{address}/32", "dev", "lo")
        try:
            listed = [
                a["local"]
                for link in ip_json(scratch.b, "addr", "show", "dev", "lo")
                for a in link["addr_info"]
            ]
            assert address in listed  # iproute2's word that it is there

            def seen(s: Snapshot) -> bool:
                w = s.container(scratch.b)
                lo = next((i for i in w.interfaces if i.name == "lo"), None) if w else None
                return lo is not None and f"{address}/32" in lo.addresses

            _wait(updates, seen, f"{address} on {scratch.b}'s lo")
        finally:
            run("ip", "-n", scratch.b, "addr", "del", f"{address}/32", "dev", "lo")


def test_the_doctor_takes_a_veth_to_another_namespace_as_such(
    scratch: Scratch, snapshot: Snapshot
) -> None:
    """B's only link is a veth to A: no host end, no bridge, no uplink on its way.  The
    doctor passes it (it used to fail it as "host end not found") and compares its MTU
    with the other end's; with that end down it says so and brings up that end."""
    from dataclasses import replace

    from inspector.doctor import run_checks

    (to_b,) = ip_json(scratch.a, "link", "show", "dev", "toB")  # iproute2's word
    (to_a,) = ip_json(scratch.b, "link", "show", "dev", "toA")
    assert to_a["link_index"] == to_b["ifindex"]
    report = run_checks(snapshot, scratch.b)
    veth = report.check("veth")
    assert veth.status == "pass", veth
    assert f"toA is a veth to toB in {scratch.a}" in veth.summary
    assert report.check("bridge").status == "skip"
    mtu = report.check("mtu")
    assert (
        mtu.status == "pass" and ("toB in " + scratch.a + " mtu", str(to_b["mtu"])) in mtu.evidence
    )

    a = workload(snapshot, scratch.a)
    down = replace(
        a,
        interfaces=tuple(replace(i, state="down") if i.name == "toB" else i for i in a.interfaces),
    )
    broken = replace(
        snapshot, containers=tuple(down if c.name == a.name else c for c in snapshot.containers)
    )
    veth = run_checks(broken, scratch.b).check("veth")
    assert veth.status == "fail"
    assert veth.summary == f"the other end of toA, toB in {scratch.a}, is down"
    assert veth.fix == f"ip -n {scratch.a} link set toB up"
