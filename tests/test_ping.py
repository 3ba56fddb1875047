"""``cnet ping`` against the real lab: cnet's own packets, from inside the namespaces.

Traffic goes only to lab containers, their gateways and loopback.  Every answer is
checked against an independent source (``docker inspect``) and the reply's source.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from inspector.actions.ping import PingReply, PingSummary, ping_iter
from inspector.cli import main
from inspector.live.runner import Collector
from tests.cli import cnet_unprivileged
from tests.hoststate import host_changes, host_state, mine, settled_host_state
from tests.lab import PREFIX, Lab, sh

REPLY = re.compile(r"^64 bytes from (\S+): icmp_seq=(\d+) time=[\d.]+ ms$", re.M)


@pytest.fixture(scope="module")
def no_ping_tool(lab: Lab) -> tuple[str, str]:
    """Two containers on a lab network with busybox's ping applet deleted in both."""
    src, dst = PREFIX + "ping-src", PREFIX + "ping-dst"
    lab.run(src, "--net", lab.net1)
    lab.run(dst, "--net", lab.net1)
    for name in (src, dst):
        sh("docker", "exec", name, "rm", "-f", "/bin/ping", "/bin/ping6")
        probe = sh("docker", "exec", name, "ls", "/bin/ping", "/bin/ping6", check=False)
        assert probe == ""
    return src, dst


def _ping(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["ping", *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_gateway_answers_with_the_address_docker_names(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = lab.inspect(lab.bridge)["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    before = settled_host_state()
    code, out, err = _ping(capsys, lab.bridge, "-c", "3", "-i", "0.05")
    assert code == 0, err
    assert out.startswith(f"PING {gateway} (gateway of {lab.bridge} on docker0) ")
    replies = REPLY.findall(out)
    assert [seq for _, seq in replies] == ["1", "2", "3"]
    assert {source for source, _ in replies} == {gateway}
    assert "3 packets transmitted, 3 received, 0% packet loss" in out
    assert re.search(r"^rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms$", out, re.M)
    assert host_changes(before, host_state(), mine(lab)) == []


def test_container_by_name_answers_without_any_ping_tool(
    lab: Lab, no_ping_tool: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = no_ping_tool
    address = lab.container_ip(dst, lab.net1)
    code, out, err = _ping(capsys, src, dst, "-c", "2", "-i", "0.05")
    assert code == 0, err
    assert f"container {dst} on {lab.net1}" in out.splitlines()[0]
    assert {source for source, _ in REPLY.findall(out)} == {address}
    # The API: the reply comes from the target and went through its namespace.
    events = list(ping_iter(Collector().collect(), src, dst, count=2, interval=0.05))
    replies = [e for e in events if isinstance(e, PingReply)]
    assert replies and all(r.source == address for r in replies)


def test_multi_network_container_pings_its_second_network(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    net2_gateway = lab.inspect(lab.multi)["NetworkSettings"]["Networks"][lab.net2]["Gateway"]
    code, out, err = _ping(capsys, lab.multi, net2_gateway, "-c", "1")
    assert code == 0, err
    assert REPLY.findall(out) == [(net2_gateway, "1")]


def test_shared_namespace_and_host_target(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    gateway = lab.inspect(lab.bridge)["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    code, out, err = _ping(capsys, lab.shared, "host", "-c", "1")
    assert code == 0, err
    assert f"namespace of {lab.bridge} (shared by {lab.shared})" in out.splitlines()[0]
    assert REPLY.findall(out) == [(gateway, "1")]


def test_host_mode_pings_from_the_host(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _ping(capsys, lab.host, lab.bridge, "-c", "1")
    assert code == 0, err
    assert "namespace of the host" in out.splitlines()[0]
    assert REPLY.findall(out) == [(lab.container_ip(lab.bridge), "1")]
    code, out, err = _ping(capsys, lab.host, "::1", "-c", "1")
    assert code == 0, err
    assert REPLY.findall(out) == [("::1", "1")]


def test_host_mode_default_target_is_refused(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """The host's gateway is another machine: `cnet ping HOSTMODE` names it and stops."""
    routes = json.loads(sh("ip", "-j", "route", "show", "default"))
    code, out, err = _ping(capsys, lab.host, "-c", "1")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "uses the host's network" in err and "name a TARGET" in err
    if routes:
        assert f"{routes[0]['gateway']} on {routes[0]['dev']} is off this machine" in err


def test_none_mode_exits_1_saying_why(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _ping(capsys, lab.none, "-c", "1")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "network mode none" in err
    code, out, err = _ping(capsys, lab.none, lab.bridge, "-c", "1")
    assert code == 1 and err.count("\n") == 1 and "no route to" in err
    # Its loopback still answers: the namespace was entered, not refused by mode.
    code, out, err = _ping(capsys, lab.none, "127.0.0.1", "-c", "1")
    assert code == 0 and REPLY.findall(out) == [("127.0.0.1", "1")]


def test_stopped_exits_1(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _ping(capsys, lab.stopped)
    assert (code, out) == (1, "")
    assert err == f"cnet: container {lab.stopped} is not running (exited): nothing to ping from\n"


def test_no_reply_exits_1_with_statistics(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """An unused address of the lab's own subnet: nobody answers ARP, nothing leaves the host."""
    nobody = re.sub(r"\.\d+$", ".250", lab.container_ip(lab.multi, lab.net1))
    code, out, err = _ping(capsys, lab.multi, nobody, "-c", "2", "-i", "0.05", "-W", "0.2")
    assert code == 1, err
    assert "2 packets transmitted, 0 received" in out and "100% packet loss" in out
    assert "rtt" not in out


@pytest.mark.parametrize(
    "template", ["$(touch {p})", "`touch {p}`", "x;touch {p}", "x && touch {p}"]
)
def test_hostile_target_is_refused_and_nothing_runs(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str
) -> None:
    marker = tmp_path / "created-by-shell"
    code, out, err = _ping(capsys, lab.bridge, template.format(p=marker), "-c", "1")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "TARGET must be an IP address" in err
    assert not marker.exists()


def test_unknown_container_and_bad_numbers_are_usage_errors(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        [PREFIX + "nosuch"],
        [lab.bridge, "-c", "0"],
        [lab.bridge, "-c", "10001"],
        [lab.bridge, "-i", "0.001"],
        [lab.bridge, "-W", "x"],
    ):
        code, out, err = _ping(capsys, *argv)
        assert (code, out) == (2, ""), argv
        assert err.count("\n") == 1, err


def test_worker_thread_streams_and_stops_promptly(lab: Lab) -> None:
    """The TUI's way: a worker thread, replies as they come, a stop Event ends it."""
    snapshot = Collector().collect()
    stop = threading.Event()
    events: list[object] = []
    namespaces: list[str] = []

    def worker() -> None:
        for event in ping_iter(snapshot, lab.bridge, count=None, interval=0.02, stop=stop):
            events.append(event)
        namespaces.append(os.readlink(f"/proc/self/task/{threading.get_native_id()}/ns/net"))

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 5
    while not any(isinstance(e, PingReply) for e in events) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()  # count=None: without the stop it would never end
    summary = events[-1]
    assert isinstance(summary, PingSummary) and summary.stopped and summary.received >= 1
    # The worker thread is back in the host namespace, like the main thread.
    assert namespaces == [os.readlink("/proc/self/ns/net")]


def test_not_root_says_root_is_needed(lab: Lab) -> None:
    proc = cnet_unprivileged("ping", lab.bridge, "-c", "1")
    assert proc.returncode == 1
    assert (
        proc.stderr.strip() == "cnet: raw ICMP sockets and namespaces need root: run cnet as root"
    )
