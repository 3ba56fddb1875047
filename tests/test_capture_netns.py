"""``cnet capture`` on namespaces of the test's own, checked with tshark, capinfos and dpkt.

Two namespaces ``cnetcap-K-a`` and ``cnetcap-K-b`` joined by a veth (no IPv6, permanent
neighbours: the only traffic is the test's).  B sends N echo requests to A, a burst of
UDP datagrams to a closed port, and a TCP connection to a port with no listener; A's
kernel answers.  cnet captures in A by the workload's name (an ``ip netns`` namespace),
as an operator would run it, and what it wrote is read back by Debian's tools.
"""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import ROOT, assert_one_line_error, cnet
from tests.netns_helpers import ip, veth_pair
from tests.test_tui import sync, wait_for

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and packet sockets need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
    pytest.mark.skipif(
        shutil.which("tshark") is None or shutil.which("capinfos") is None,
        reason="needs Debian's tshark and capinfos (scripts/engine installs them)",
    ),
]

LAB = os.environ.get("CNET_LAB_ID", "0")
TAG = f"cnetcap-{LAB}"
NS_A, NS_B = f"{TAG}-a", f"{TAG}-b"
VETH_A = f"{TAG}a"
A_IP, B_IP = f"10.250.{int(LAB) % 250}.1", f"10.250.{int(LAB) % 250}.2"
PINGS, UDP_BURST = 5, 20
CLOSED_PORT, UDP_PORT = 81, 9999
# Exactly the test's packets: echo requests and replies (not the port-unreachable
# errors A sends back for the UDP burst), the burst, and the refused connection.
FILTER = f"icmp[icmptype] == icmp-echo or icmp[icmptype] == icmp-echoreply or udp port {UDP_PORT} or tcp port {CLOSED_PORT}"
EXPECTED = 2 * PINGS + UDP_BURST + 2

TRAFFIC = """
import socket, struct, sys, time
a, pings, burst, closed, udp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for seq in range(1, pings + 1):
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + b"cnet" * 14
    icmp.sendto(body[:2] + struct.pack("!H", checksum(body)) + body[4:], (a, 0))
    time.sleep(0.01)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(burst):
    u.sendto(b"x" * 32, (a, udp))
t = socket.socket()
t.settimeout(5)
try:
    t.connect((a, closed))
except ConnectionRefusedError:
    print("refused")
"""


@pytest.fixture
def pair() -> Iterator[dict[str, str]]:
    with veth_pair(TAG, A_IP, B_IP) as macs:
        yield macs


def send_traffic() -> None:
    proc = subprocess.run(
        [
            *("ip", "netns", "exec", NS_B, sys.executable, "-c", TRAFFIC, A_IP),
            *(str(PINGS), str(UDP_BURST), str(CLOSED_PORT), str(UDP_PORT)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == "refused", proc.stderr


def start_capture(*args: str, stdout: int | None = None) -> subprocess.Popen[bytes]:
    """``cnet capture ARGS``, returned once it says it is capturing (handles open)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "capture", *args],
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            line = proc.stderr.readline().decode()
            assert line.startswith("cnet: capturing on"), line + proc.stderr.read().decode()
            return proc
        assert proc.poll() is None, proc.stderr.read().decode()
    proc.kill()
    raise AssertionError("cnet capture never started")


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    """Its exit code, its stdout (when piped here) and the rest of its stderr (killed,
    failing the test, if it does not end by itself)."""
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError("cnet capture did not end: " + err.decode()) from None
    return proc.returncode, (out or b"").decode(), err.decode()


def tshark(path: Path | str, *args: str) -> list[str]:
    proc = subprocess.run(
        ["tshark", "-r", str(path), *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def fields(path: Path | str, display: str, *names: str) -> list[list[str]]:
    args = ["-Y", display, "-T", "fields"] if display else ["-T", "fields"]
    for n in names:
        args += ["-e", n]
    return [line.split("\t") for line in tshark(path, *args)]


def test_a_workload_to_pcapng_read_back_by_tshark_capinfos_and_dpkt(
    pair: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "a.pcapng"
    proc = start_capture(NS_A, "-w", str(out), "-c", str(EXPECTED), "-f", FILTER)
    send_traffic()
    code, _, err = finish(proc)
    assert code == 0, err
    assert f"{EXPECTED} packets captured" in err

    info = subprocess.run(
        ["capinfos", "-c", "-T", "-M", str(out)], capture_output=True, text=True, timeout=60
    )
    assert info.returncode == 0, info.stderr
    assert info.stdout.splitlines()[-1].split("\t")[-1] == str(EXPECTED)

    # One interface block per interface of the workload, named WORKLOAD/IFACE.
    names = {row[0] for row in fields(out, "", "frame.interface_name")}
    assert names == {f"{NS_A}/{VETH_A}"}
    described = subprocess.run(
        ["capinfos", "-I", str(out)], capture_output=True, text=True, timeout=60
    ).stdout
    assert f"{NS_A}/lo" in described and f"{NS_A}/{VETH_A}" in described

    requests = fields(out, "icmp.type == 8", "ip.src", "frame.packet_flags_direction")
    replies = fields(out, "icmp.type == 0", "ip.src", "frame.packet_flags_direction")
    assert len(requests) == len(replies) == PINGS
    assert all(r == [B_IP, "0x00000001"] for r in requests)  # arrived at A: inbound
    assert all(r == [A_IP, "0x00000002"] for r in replies)  # A's answers: outbound
    assert len(fields(out, f"udp.dstport == {UDP_PORT}", "udp.length")) == UDP_BURST
    assert fields(out, "icmp.type == 3", "ip.src") == []  # the filter kept them out
    syn = fields(out, "tcp.flags.syn == 1", "tcp.dstport")
    rst = fields(out, "tcp.flags.reset == 1", "ip.src", "tcp.srcport")
    assert syn == [[str(CLOSED_PORT)]]
    assert rst == [[A_IP, str(CLOSED_PORT)]]

    import dpkt

    with out.open("rb") as fh:
        frames = [dpkt.ethernet.Ethernet(buf) for _, buf in dpkt.pcapng.Reader(fh)]
    assert len(frames) == EXPECTED
    tcp = [f.data.data for f in frames if isinstance(f.data.data, dpkt.tcp.TCP)]
    assert [bool(t.flags & dpkt.tcp.TH_RST) for t in tcp] == [False, True]


def test_lines_name_the_interface_direction_and_the_reset(pair: dict[str, str]) -> None:
    proc = start_capture(NS_A, "-i", VETH_A, "-c", "2", "-f", f"tcp port {CLOSED_PORT}")
    send_traffic()
    code, out, err = finish(proc)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2, (lines, err)
    assert f"{NS_A}/{VETH_A} In IP {B_IP}." in lines[0] and "TCP [S]" in lines[0]
    assert f"{NS_A}/{VETH_A} Out IP {A_IP}.{CLOSED_PORT} >" in lines[1]
    assert "TCP [R.]" in lines[1]
    assert "2 packets captured, 2 received by filter, 0 dropped by kernel" in err


def test_bad_filter_unknown_item_and_interface_are_one_line() -> None:
    line = assert_one_line_error(cnet("capture", "lo", "-f", "tcp port"), 2)
    assert "bad filter 'tcp port'" in line
    line = assert_one_line_error(cnet("capture", f"{TAG}-no-such-thing", "-c", "1"), 2)
    assert "no workload, host interface or engine network" in line
    line = assert_one_line_error(cnet("capture", "lo", "--snaplen", "10"), 2)
    assert "snaplen" in line


def test_an_unknown_interface_of_a_workload_is_one_line(pair: dict[str, str]) -> None:
    line = assert_one_line_error(cnet("capture", NS_A, "-i", "eth9", "-c", "1"), 2)
    assert f"{NS_A} has no interface 'eth9'" in line and VETH_A in line


def test_an_interface_deleted_mid_capture_ends_it_with_one_line_and_a_valid_file(
    pair: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "gone.pcapng"
    proc = start_capture(NS_A, "-i", VETH_A, "-w", str(out), "--duration", "60")
    send_traffic()
    time.sleep(0.5)  # the packets reach the file before the link goes (not a timing check)
    ip("-n", NS_A, "link", "del", VETH_A)
    code, _, err = finish(proc)
    assert code == 1, err
    problem = [line for line in err.splitlines() if "the capture ended" in line]
    assert problem == [f"cnet: {NS_A}/{VETH_A} went down (or was deleted): the capture ended"]
    assert "Traceback" not in err
    rows = fields(out, "", "frame.interface_name")
    assert len(rows) >= EXPECTED  # everything sent before the deletion, and read back whole


def test_stdout_streams_pcapng_through_a_pipe_into_tshark(pair: dict[str, str]) -> None:
    """``cnet capture X -w - | tshark -r -``, the pipe made as a shell makes it."""
    read_end, write_end = os.pipe()
    reader = subprocess.Popen(
        ["tshark", "-r", "-", "-T", "fields", "-e", "frame.interface_name", "-e", "ip.src"],
        stdin=read_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(read_end)
    try:
        proc = start_capture(NS_A, "-w", "-", "-c", str(2 * PINGS), "-f", "icmp", stdout=write_end)
    finally:
        os.close(write_end)
    try:
        send_traffic()
        code, _, err = finish(proc)
        got, tshark_err = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert code == 0, err
    assert reader.returncode == 0, tshark_err
    rows = [line.split("\t") for line in got.decode().splitlines()]
    assert len(rows) == 2 * PINGS
    assert {r[0] for r in rows} == {f"{NS_A}/{VETH_A}"}
    assert sorted(r[1] for r in rows) == sorted([A_IP] * PINGS + [B_IP] * PINGS)


def test_ctrl_c_ends_with_the_counts_and_a_complete_file(
    pair: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "int.pcapng"
    proc = start_capture(NS_A, "-w", str(out), "-f", "icmp")
    send_traffic()
    time.sleep(0.5)  # let the packets in before the stop (not a timing check)
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc)
    assert code == 0, err
    assert "dropped by kernel" in err
    assert len(fields(out, "icmp.type == 8", "icmp.seq")) == PINGS


# -- the TUI on a real namespace ---------------------------------------------------------


@sync
async def test_the_tui_capture_screen_shows_the_ping_lines(pair: dict[str, str]) -> None:
    """``c`` on the workload, filter ``icmp``, Enter: B's pings and A's replies stream in,
    read from A's namespace; Esc stops and the handles are closed."""
    from inspector.live.runner import collect_snapshot
    from inspector.tui.app import make_app
    from inspector.tui.backends import live_capture
    from inspector.tui.capture_screen import CaptureScreen

    snapshot = await asyncio.to_thread(collect_snapshot)  # pyroute2 is not for a running loop
    assert snapshot.container(NS_A) is not None
    opened: list[Any] = []

    def capture(snap: Any, item: str, expression: str) -> Any:
        source = live_capture(snap, item, expression)
        opened.append(source)
        return source

    app = make_app(snapshot, capture=capture)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = CaptureScreen(snapshot, NS_A, app.backends)
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.is_mounted and screen.filter_field.has_focus)
        await pilot.press(*"icmp", "enter")
        await wait_for(pilot, lambda: screen.labels != (), 30)
        await asyncio.to_thread(send_traffic)
        log = screen.log_view

        def shown(what: str) -> int:
            return sum(what in line for line in log.lines)

        await wait_for(pilot, lambda: shown("ICMP echo reply") == PINGS, 30)
        assert shown(f"{NS_A}/{VETH_A} In IP {B_IP} > {A_IP}: ICMP echo request") == PINGS
        assert shown(f"{NS_A}/{VETH_A} Out IP {A_IP} > {B_IP}: ICMP echo reply") == PINGS
        assert shown("TCP") == 0  # the filter
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.running, 30)
        assert any("packets captured" in line for line in log.lines)
        assert len(opened) == 1 and opened[0]._handles == []  # closed
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CaptureScreen))


# -- through ssh -------------------------------------------------------------------------


def test_a_remote_capture_streams_pcapng_through_ssh(pair: dict[str, str], tmp_path: Path) -> None:
    """``cnet --host ssh://... capture A -w -`` through the loopback sshd of the remote
    tests: the pcapng passes ssh and cnet's relay byte for byte (tshark reads it)."""
    from tests.test_remote import SSHD, loopback_sshd

    if not (os.path.exists(SSHD) and shutil.which("ssh")):
        pytest.skip("needs Debian's openssh-server and openssh-client")
    out = tmp_path / "remote.pcapng"
    (tmp_path / "sshd").mkdir()
    with loopback_sshd(tmp_path / "sshd") as server, out.open("wb") as fh:
        args = [*server.args(), "--host", server.url, "capture", NS_A, "-w", "-"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", *args, "-c", str(2 * PINGS), "-f", "icmp"],
            stdout=fh,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            wait_capturing(out)
            send_traffic()
            code, _, err = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 0, err
    assert f"{2 * PINGS} packets captured" in err
    rows = fields(out, "", "frame.interface_name", "icmp.type")
    assert rows == [[f"{NS_A}/{VETH_A}", t] for t in ("8", "0") * PINGS]


def wait_capturing(out: Path) -> None:
    """Until the remote capture has written its interface blocks (its handles are open)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.stat().st_size > 0:
            time.sleep(0.2)  # the header is written just after the handles open
            return
        time.sleep(0.05)
    raise AssertionError("the remote capture never started")
