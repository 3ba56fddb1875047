"""The kernel's drop reasons during cnet's probes, through real namespaces and real faults.

Made here and removed afterwards (prefix ``cnetdr-``): a namespace H that plays the host
(a bridge holding A's gateway, forwarding on, a veth to C), a workload A behind the
bridge, and a far side C.  cnet runs with H as its own network namespace
(``nsenter --net``), so every fault (an nft table, rp_filter, a route, an MTU, STP) lives
in a namespace of the test's and the host's network is never touched.  Docker is kept
out (``DOCKER_HOST`` points nowhere).

    A cnetdr<s>a 10.247.N0.2/24 ==== cnetdr<s>p [bridge cnetdr<s>br 10.247.N0.1/24]  H
                                     H cnetdr<s>q 10.247.N1.1/30 ==== cnetdr<s>c 10.247.N1.2/30  C

Each fault is checked against the kernel's own account, read with iproute2, nft and
nstat inside H: the rule's counter, ``TcpExtIPReversePathFilter``, ``IpExtInNoRoutes``,
``IpFragFails``, the port's STP state.  Every command's tracefs instance is gone
afterwards, also after a SIGKILL and the next run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cli import ROOT
from tests.netns_helpers import ip, sleeper_in

TRACEFS = "/sys/kernel/tracing"
LAB = int(os.environ.get("CNET_LAB_ID", "0")) % 25

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="namespaces, raw sockets and tracefs need root"),
    pytest.mark.skipif(
        shutil.which("nft") is None or shutil.which("nstat") is None,
        reason="needs nft and iproute2's nstat",
    ),
]


@dataclass
class Lab:
    h: str
    a: str
    c: str
    bridge: str
    port: str
    to_c: str
    gateway: str
    a_ip: str
    c_ip: str
    nowhere: str
    table: str

    def cnet(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """cnet with H as its network namespace (its "host") and no Docker."""
        env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/cnetdr.sock"}
        argv = ["nsenter", f"--net=/run/netns/{self.h}", sys.executable, "-m", "inspector"]
        return subprocess.run(
            [*argv, "--mount-tracefs", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=ROOT,
        )

    def nstat(self, name: str) -> int:
        out = ip("netns", "exec", self.h, "nstat", "-asz", name)
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == name:
                return int(parts[1])
        raise AssertionError(f"nstat has no {name}: {out}")

    def sysctl(self, ns: str, *settings: str) -> None:
        ip("netns", "exec", ns, "sysctl", "-qw", *settings)


def _instances() -> set[str]:
    return {n for n in os.listdir(f"{TRACEFS}/instances") if n.startswith("cnet-probe-")}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    s = secrets.token_hex(2)
    tag = f"cnetdr-{s}"
    n = 200 + LAB * 2
    lab = Lab(
        h=f"{tag}-h",
        a=f"{tag}-a",
        c=f"{tag}-c",
        bridge=f"cnetdr{s}br",
        port=f"cnetdr{s}p",
        to_c=f"cnetdr{s}q",
        gateway=f"10.247.{n}.1",
        a_ip=f"10.247.{n}.2",
        c_ip=f"10.247.{n + 1}.2",
        nowhere="10.246.0.1",
        table=f"cnetdr_{s}",
    )
    made: list[str] = []
    sleepers: list[subprocess.Popen[bytes]] = []
    try:
        for ns in (lab.h, lab.a, lab.c):
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
            lab.sysctl(
                ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"
            )
        lab.sysctl(lab.h, "net.ipv4.ip_forward=1")
        ip("-n", lab.h, "link", "add", lab.bridge, "type", "bridge")
        ip("-n", lab.h, "addr", "add", f"{lab.gateway}/24", "dev", lab.bridge)
        ip("-n", lab.h, "link", "set", lab.bridge, "up")
        ip("link", "add", f"cnetdr{s}a", "netns", lab.a, "type", "veth", "peer", lab.port,
           "netns", lab.h)  # fmt: skip
        ip("-n", lab.h, "link", "set", lab.port, "master", lab.bridge, "up")
        ip("-n", lab.a, "addr", "add", f"{lab.a_ip}/24", "dev", f"cnetdr{s}a")
        ip("-n", lab.a, "link", "set", f"cnetdr{s}a", "up")
        ip("-n", lab.a, "route", "add", "default", "via", lab.gateway)
        ip("link", "add", f"cnetdr{s}c", "netns", lab.c, "type", "veth", "peer", lab.to_c,
           "netns", lab.h)  # fmt: skip
        ip("-n", lab.h, "addr", "add", f"10.247.{n + 1}.1/30", "dev", lab.to_c)
        ip("-n", lab.h, "link", "set", lab.to_c, "up")
        ip("-n", lab.c, "addr", "add", f"{lab.c_ip}/30", "dev", f"cnetdr{s}c")
        ip("-n", lab.c, "link", "set", f"cnetdr{s}c", "up")
        ip("-n", lab.c, "route", "add", "default", "via", f"10.247.{n + 1}.1")
        sleepers = [sleeper_in(lab.a), sleeper_in(lab.c)]
        yield lab
    finally:
        for proc in sleepers:
            proc.kill()
            proc.wait()
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False)


def ping(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    before = _instances()
    proc = lab.cnet("ping", lab.a, *args, "-c", "3", "-i", "0.1", "-W", "0.5")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert _instances() <= before, "the probe's tracefs instance was left behind"
    return proc


def doctor(lab: Lab) -> dict[str, Any]:
    proc = lab.cnet("doctor", lab.a, "--json")
    assert "Traceback" not in proc.stderr, proc.stderr
    (report,) = json.loads(proc.stdout)["containers"]
    return {c["id"]: c for c in report["checks"]}


def drops_of(stdout: str) -> str:
    """The part of cnet ping's output after 'during the probe the kernel dropped'."""
    _, found, tail = stdout.partition("during the probe the kernel dropped")
    assert found, stdout
    return tail


@contextmanager
def nft_drop(lab: Lab) -> Iterator[str]:
    rule = f'iifname "{lab.bridge}" icmp type echo-request counter drop'
    script = (
        f"add table inet {lab.table}\n"
        f"add chain inet {lab.table} inp {{ type filter hook input priority 0; }}\n"
        f"add rule inet {lab.table} inp {rule}\n"
    )
    subprocess.run(["ip", "netns", "exec", lab.h, "nft", "-f", "-"], input=script, text=True,
                   check=True)  # fmt: skip
    try:
        yield rule
    finally:
        ip("netns", "exec", lab.h, "nft", "delete", "table", "inet", lab.table)


def nft_counter(lab: Lab) -> int:
    out = json.loads(ip("netns", "exec", lab.h, "nft", "-j", "list", "table", "inet", lab.table))
    for item in out["nftables"]:
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                return int(expr["counter"]["packets"])
    raise AssertionError(out)


def test_a_drop_rule_is_named_beside_the_kernels_reason(lab: Lab) -> None:
    with nft_drop(lab) as rule:
        before = nft_counter(lab)
        proc = ping(lab, "--rules")
        moved = nft_counter(lab) - before
        report = doctor(lab)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert moved == 3  # the kernel's own counter: every request met the rule
    dropped = drops_of(proc.stdout)
    line = next(x for x in dropped.splitlines() if "NETFILTER_DROP" in x)
    assert re.search(r"NETFILTER_DROP x3 in nft_do_chain", line), line
    assert f"rule inet {lab.table}" in line and rule in line and f"(+{moved} packets)" in line
    gateway = report["gateway"]
    assert gateway["status"] == "fail"
    assert "NETFILTER_DROP" in gateway["summary"], gateway


def test_rp_filter_with_an_asymmetric_route(lab: Lab) -> None:
    # H's route back to A leaves through C's link: the reverse-path check fails on the bridge.
    lab.sysctl(lab.h, "net.ipv4.conf.all.rp_filter=1", f"net.ipv4.conf.{lab.bridge}.rp_filter=1")
    ip("-n", lab.h, "route", "add", f"{lab.a_ip}/32", "via", lab.c_ip, "dev", lab.to_c)
    try:
        before = lab.nstat("TcpExtIPReversePathFilter")
        proc = ping(lab)
        counted = lab.nstat("TcpExtIPReversePathFilter") - before
        report = doctor(lab)
    finally:
        ip("-n", lab.h, "route", "del", f"{lab.a_ip}/32")
        lab.sysctl(
            lab.h, "net.ipv4.conf.all.rp_filter=0", f"net.ipv4.conf.{lab.bridge}.rp_filter=0"
        )
    assert counted >= 3  # the kernel counted reverse-path drops in H
    dropped = drops_of(proc.stdout)
    assert re.search(
        rf"IP_RPFILTER x\d+ in \w+: reverse-path filter on {lab.bridge} \(rp_filter=1\)", dropped
    ), dropped
    gateway = report["gateway"]
    assert gateway["status"] == "fail" and "IP_RPFILTER" in gateway["summary"], gateway
    assert "rp_filter" in (gateway["fix"] or ""), gateway


def test_a_route_to_nowhere(lab: Lab) -> None:
    before = lab.nstat("IpExtInNoRoutes")
    proc = ping(lab, lab.nowhere)
    counted = lab.nstat("IpExtInNoRoutes") - before
    assert proc.returncode == 1
    assert counted >= 3  # H had no route for them
    assert re.search(r"IP_INNOROUTES x\d+ in \w+: no route", drops_of(proc.stdout)), proc.stdout


def test_an_mtu_smaller_than_a_df_ping(lab: Lab) -> None:
    # After H's "fragmentation needed", A learns the path MTU and fragments the next
    # requests itself: the kernel drops the first one, and the rest may get through.
    ip("-n", lab.a, "route", "flush", "cache")
    ip("-n", lab.h, "link", "set", lab.to_c, "mtu", "1280")
    try:
        before = lab.nstat("IpFragFails")
        proc = ping(lab, lab.c_ip, "-s", "1400")
        counted = lab.nstat("IpFragFails") - before
    finally:
        ip("-n", lab.h, "link", "set", lab.to_c, "mtu", "1500")
        ip("-n", lab.a, "route", "flush", "cache")
    assert counted >= 1  # H refused to fragment what carried DF
    assert re.search(
        rf"PKT_TOO_BIG x{counted} in \w+: a packet marked DF", drops_of(proc.stdout)
    ), proc.stdout
    small = ping(lab, lab.c_ip)  # one that fits: no drop of that kind
    assert small.returncode == 0, small.stdout
    assert "PKT_TOO_BIG" not in small.stdout


def port_state(lab: Lab) -> str:
    (link,) = json.loads(
        subprocess.run(
            ["bridge", "-n", lab.h, "-j", "link", "show", "dev", lab.port],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return str(link["state"])


def test_a_bridge_port_that_is_not_forwarding(lab: Lab) -> None:
    # Kernel STP with the longest forward delay: a port that comes up listens for 30 s.
    ip("-n", lab.h, "link", "set", lab.bridge, "type", "bridge", "forward_delay", "3000",
       "stp_state", "1")  # fmt: skip
    ip("-n", lab.h, "link", "set", lab.port, "down")
    ip("-n", lab.h, "link", "set", lab.port, "up")
    try:
        for _ in range(200):  # the port comes up with its carrier: a bounded wait
            state = port_state(lab)
            if state != "disabled":
                break
            time.sleep(0.02)
        proc = ping(lab)
        # The ping's ARP resolution runs on for 3 s; the doctor's packets would wait in it
        # and fail as NEIGH_FAILED without an ARP request of their own meeting the port.
        ip("-n", lab.a, "neigh", "flush", "all")
        report = doctor(lab)
        state_after = port_state(lab)
    finally:
        ip("-n", lab.h, "link", "set", lab.bridge, "type", "bridge", "stp_state", "0")
        ip("-n", lab.h, "link", "set", lab.port, "down")
        ip("-n", lab.h, "link", "set", lab.port, "up")
    assert state in ("listening", "blocking") and state_after == state
    assert proc.returncode == 1
    assert re.search(
        rf"BRIDGE_INGRESS_STP_STATE x\d+ in br_handle_frame: a bridge port on {lab.bridge}",
        drops_of(proc.stdout),
    ), proc.stdout
    gateway = report["gateway"]
    assert gateway["status"] == "fail" and "BRIDGE_INGRESS_STP_STATE" in gateway["summary"]
    for _ in range(200):  # up again, without STP: disabled until its carrier comes back
        state = port_state(lab)
        if state != "disabled":
            break
        time.sleep(0.02)
    assert state == "forwarding"


def test_a_working_ping_reports_no_drop_of_its_own(lab: Lab) -> None:
    proc = ping(lab)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "during the probe the kernel dropped" in proc.stdout
    report = doctor(lab)
    assert report["gateway"]["status"] == "pass"


def test_a_killed_probe_leaves_an_instance_the_next_run_removes(lab: Lab) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/cnetdr.sock"}
    argv = ["nsenter", f"--net=/run/netns/{lab.h}", sys.executable, "-m", "inspector"]
    before = _instances()
    proc = subprocess.Popen(
        [*argv, "ping", lab.a, "-c", "600", "-i", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        mine: set[str] = set()
        for _ in range(600):  # a bounded wait for its instance, no assertion on time
            mine = {n for n in _instances() - before if n.startswith("cnet-probe-")}
            if mine:
                break
            time.sleep(0.05)
        assert mine, "the ping made no tracefs instance"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert mine <= _instances()  # SIGKILL left it behind
    again = ping(lab)
    assert again.returncode == 0
    assert not mine & _instances()  # the next run removed it


@contextmanager
def frames_to(lab: Lab, dev: str, mac: str) -> Iterator[list[int]]:
    """Count the frames for ``mac`` arriving on H's ``dev``, with tcpdump (no promiscuous
    mode); the count is filled in when the block ends."""
    counted: list[int] = []
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.h, "tcpdump", "-p", "-n", "-l", "-i", dev, "ether", "dst", mac],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # "listening on ...": it captures from here on
            if "listening on" in line:
                break
        yield counted
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    counted.append(len([line for line in out.splitlines() if "ICMP echo reply" in line]))


def test_a_frame_for_another_host_and_the_interface_counter(lab: Lab) -> None:
    # C answers through H with a wrong MAC for H: H's link to C gets frames for another host.
    gateway_c = lab.c_ip.rsplit(".", 1)[0] + ".1"
    c_dev = f"cnetdr{lab.bridge[6:10]}c"
    wrong = "02:00:00:00:00:99"
    ip("-n", lab.c, "neigh", "replace", gateway_c, "lladdr", wrong, "dev", c_dev,
       "nud", "permanent")  # fmt: skip
    try:
        with frames_to(lab, lab.to_c, wrong) as arrived:
            proc = ping(lab, lab.c_ip)
    finally:
        ip("-n", lab.c, "neigh", "del", gateway_c, "dev", c_dev)
    assert arrived == [3]  # tcpdump saw the three replies, addressed to another host
    assert proc.returncode == 1
    dropped = drops_of(proc.stdout)
    assert re.search(r"OTHERHOST x3 in \w+: a packet for another host's MAC", dropped), dropped
    assert f"{lab.to_c} rx_otherhost_dropped +3" in dropped


def arp_res_failed(lab: Lab) -> int:
    """The ARP table's failed resolutions (``ip -s ntable``; the table is the kernel's one)."""
    out = ip("-n", lab.a, "-s", "ntable", "show", "name", "arp_cache")
    return int(re.findall(r"res_failed (\d+)", out)[0])


def test_a_gateway_nobody_holds_fails_its_neighbour(lab: Lab) -> None:
    # A's default route via an address on its link that nothing holds; A gives up on ARP
    # after one probe of 100 ms, within the ping's timeout.
    absent = lab.gateway.rsplit(".", 1)[0] + ".9"
    a_dev = f"cnetdr{lab.bridge[6:10]}a"
    lab.sysctl(
        lab.a,
        f"net.ipv4.neigh.{a_dev}.mcast_solicit=1",
        f"net.ipv4.neigh.{a_dev}.app_solicit=0",
        f"net.ipv4.neigh.{a_dev}.retrans_time_ms=100",
    )
    ip("-n", lab.a, "route", "replace", "default", "via", absent)
    try:
        before = arp_res_failed(lab)
        proc = ping(lab)
        failed = arp_res_failed(lab) - before
        report = doctor(lab)
    finally:
        ip("-n", lab.a, "route", "replace", "default", "via", lab.gateway)
        ip("-n", lab.a, "neigh", "flush", "dev", a_dev)
    assert failed >= 1  # the kernel's ARP table gave up on a resolution meanwhile
    assert re.search(
        r"NEIGH_FAILED x\d+ in \w+: the neighbour never answered", drops_of(proc.stdout)
    )
    gateway = report["gateway"]
    assert gateway["status"] == "fail" and "NEIGH_FAILED" in gateway["summary"], gateway
    assert "see the bridge check" in gateway["summary"]
