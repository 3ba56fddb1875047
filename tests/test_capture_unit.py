"""The pure parts of capture: the plan from a snapshot, the packet lines, the pcapng
writer (read back by dpkt and by tshark), the sampling meter, the ring."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dpkt
import pytest
from textual.content import Content

from inspector.actions.capture import Packet, PacketRing, check_filter
from inspector.actions.capture_plan import CaptureError, namespace_path, plan_capture
from inspector.model.snapshot import Snapshot
from inspector.render.packet import packet_line, shown
from inspector.render.pcapng import PcapngWriter
from inspector.tui.app import make_app
from inspector.tui.capture_screen import LINES_PER_SECOND, CaptureScreen, Meter, status_text
from tests.cli import ROOT
from tests.test_tui import sync, wait_for
from tests.tui_fakes import FakeCapturer, frames


def test_a_workload_is_every_interface_of_its_namespace_lo_included(recorded: Snapshot) -> None:
    c = next(c for c in recorded.containers if c.name.endswith("multi"))
    plan = plan_capture(recorded, c.name)
    assert [t.iface for t in plan.taps] == [i.name for i in c.interfaces]
    assert {t.netns for t in plan.taps} == {f"/proc/{c.pid}/ns/net"}
    assert [t.loopback for t in plan.taps] == [i.name == "lo" for i in c.interfaces]
    assert [t.label for t in plan_capture(recorded, c.name, ["eth1"]).taps] == [f"{c.name}/eth1"]


def test_a_shared_namespace_is_entered_by_its_owner(recorded: Snapshot) -> None:
    shared = next(c for c in recorded.containers if c.name.endswith("shared"))
    owner = recorded.container(shared.netns_shared_with or "")
    assert owner is not None
    plan = plan_capture(recorded, shared.name)
    assert {t.netns for t in plan.taps} == {f"/proc/{owner.pid}/ns/net"}
    assert owner.name in plan.what


def test_host_interfaces_bridges_and_networks(recorded: Snapshot) -> None:
    assert [(t.workload, t.iface, t.netns) for t in plan_capture(recorded, "docker0").taps] == [
        ("host", "docker0", None)
    ]
    multi = next(c for c in recorded.containers if c.name.endswith("multi"))
    network = multi.networks[0]
    (tap,) = plan_capture(recorded, network.name).taps
    peer = next(i.peer for i in multi.interfaces if i.peer is not None and i.peer.bridge)
    assert peer is not None
    assert tap.iface == peer.bridge and tap.netns is None
    listed = [{"Name": "elsewhere", "Driver": "bridge", "Id": "0123456789abcdef", "Options": {}}]
    bare = replace(recorded, host=replace(recorded.host, interfaces=()))
    assert plan_capture(bare, "elsewhere", networks=listed).taps[0].iface == "br-0123456789ab"


@pytest.mark.parametrize(
    ("item", "interfaces", "code", "words"),
    [
        ("cnetlab-nosuch", (), 2, "no workload, host interface or engine network"),
        ("cnetlab-multi", ("eth7",), 2, "has no interface 'eth7'"),
        ("cnetlab-stopped", (), 1, "is not running"),
        ("cnetlab-host", (), 2, "uses the host's network: name its interfaces with -i"),
        ("docker0", ("eth0",), 2, "-i picks interfaces of a workload"),
    ],
)
def test_what_cannot_be_captured_is_one_line(
    recorded: Snapshot, item: str, interfaces: tuple[str, ...], code: int, words: str
) -> None:
    with pytest.raises(CaptureError) as caught:
        plan_capture(recorded, item, interfaces)
    assert caught.value.code == code
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_namespace_paths_of_workloads_without_a_process(recorded: Snapshot) -> None:
    c = recorded.containers[0]
    named = replace(c, pid=None, id="netns:cnetcap-x", runtime="netns")
    assert namespace_path(named) == "/run/netns/cnetcap-x"
    assert namespace_path(replace(named, id="netns:/var/run/netns/y")) == "/var/run/netns/y"
    assert namespace_path(replace(named, id="docker-sandbox:abc")) == "/var/run/docker/netns/abc"
    assert namespace_path(replace(named, id="netns:net:[4026532285]")) is None


def test_a_bad_filter_is_a_usage_error_before_anything_opens() -> None:
    check_filter("icmp or (tcp and port 80)")
    check_filter("")
    for bad in ("tcp port", "host 300.1.1.1", "icmp\0"):
        with pytest.raises(CaptureError) as caught:
            check_filter(bad)
        assert caught.value.code == 2


def test_lines_read_like_tcpdump() -> None:
    packets = frames(0, count=1)
    lines = [packet_line(p.ts_us, "web/eth0", p.outbound, p.data, p.length, 1) for p in packets]
    body = [line.split(" ", 1)[1] for line in lines]
    assert body == [
        "web/eth0 Out IP 172.17.0.2 > 172.17.0.1: ICMP echo request, id 7, seq 1, length 64",
        "web/eth0 In IP 172.17.0.1 > 172.17.0.2: ICMP echo reply, id 7, seq 1, length 64",
        "web/eth0 Out IP 172.17.0.2.40000 > 172.17.0.1.81: TCP [S], seq 1000, length 0",
        "web/eth0 In IP 172.17.0.1.81 > 172.17.0.2.40000: TCP [R.], seq 0, length 0",
    ]
    assert packet_line(0, "x/lo", None, b"\x00" * 6, 6, 1).endswith("length 6")
    assert "\x1b" not in packet_line(0, "evil\x1b[31m/eth0", None, b"", 0, 1)
    assert shown("a\x1bb\n") == "a\\x1bb\\n"


def test_udp_arp_and_ipv6_lines() -> None:
    udp = dpkt.udp.UDP(sport=5353, dport=9999, data=b"hello")
    udp.ulen = 13
    ip = dpkt.ip.IP(src=b"\x0a\0\0\x01", dst=b"\x0a\0\0\x02", p=17, data=udp)
    eth = bytes(dpkt.ethernet.Ethernet(data=ip))
    assert "IP 10.0.0.1.5353 > 10.0.0.2.9999: UDP, length 5" in packet_line(0, "a", 0, eth, 60, 1)
    arp = dpkt.arp.ARP(op=1, spa=b"\x0a\0\0\x01", tpa=b"\x0a\0\0\x02")
    line = packet_line(0, "a", True, bytes(dpkt.ethernet.Ethernet(type=0x0806, data=arp)), 42, 1)
    assert "ARP, Request who-has 10.0.0.2 tell 10.0.0.1" in line
    icmp6 = dpkt.icmp6.ICMP6(type=133, data=b"\0" * 4)
    ip6 = dpkt.ip6.IP6(
        src=b"\xfe\x80" + b"\0" * 13 + b"\x01", dst=b"\xff\x02" + b"\0" * 13 + b"\x02"
    )
    ip6.nxt, ip6.data, ip6.plen = 58, icmp6, len(bytes(icmp6))
    line = packet_line(0, "a", True, bytes(dpkt.ethernet.Ethernet(type=0x86DD, data=ip6)), 70, 1)
    assert "IP6 fe80::1 > ff02::2: ICMP6 router solicitation" in line


def write(packets: list[Packet], names: list[str]) -> bytes:
    buffer = io.BytesIO()
    writer = PcapngWriter(buffer, names, [1] * len(names), 262_144)
    writer.write((p.ts_us, p.tap, p.outbound, p.data, p.length) for p in packets)
    assert writer.packets == len(packets)
    return buffer.getvalue()


def test_pcapng_read_back_by_dpkt() -> None:
    packets = frames(1)
    data = write(packets, ["web/lo", "web/eth0"])
    reader = dpkt.pcapng.Reader(io.BytesIO(data))
    got = list(reader)
    assert [buf for _, buf in got] == [p.data for p in packets]
    assert [round(ts * 1e6) for ts, _ in got] == [p.ts_us for p in packets]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs Debian's tshark")
def test_pcapng_read_back_by_tshark(tmp_path: Path) -> None:
    packets = frames(1)
    lo = Packet(packets[0].ts_us - 1, 0, None, packets[0].data[:61], packets[0].length)
    path = tmp_path / "x.pcapng"
    path.write_bytes(write([lo, *packets], ["web/lo", "web/eth0"]))
    proc = subprocess.run(
        [
            *("tshark", "-r", str(path), "-T", "fields", "-e", "frame.interface_name"),
            *("-e", "frame.packet_flags_direction", "-e", "frame.len", "-e", "frame.cap_len"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert rows[0][0] == "web/lo" and rows[0][1] == ""  # no direction on lo
    assert rows[0][3] == "61" and rows[0][2] == str(packets[0].length)  # cut by snaplen
    directions = ["0x00000002" if p.outbound else "0x00000001" for p in packets]
    assert [r[:2] for r in rows[1:]] == [["web/eth0", d] for d in directions]


def test_the_meter_samples_to_a_bounded_number_of_lines() -> None:
    meter = Meter()
    rate, step = meter.add(100, 0.0)
    assert (rate, step) == (100.0, 1)
    for n in range(1, 11):
        rate, step = meter.add(1_200, n / 10)  # 12,000 pkt/s over the last second
    assert rate == 12_000.0
    assert step == 12_000 // LINES_PER_SECOND
    assert "12,000 pkt/s, showing 1 in 24" in status_text(meter.total, rate, step, 3, "capturing")
    assert "pkt/s" not in status_text(meter.total, rate, step, 3, "stopped")
    rate, step = meter.add(0, 3.0)
    assert (rate, step) == (0.0, 1)


def test_the_ring_keeps_the_last_packets() -> None:
    ring = PacketRing(3)
    ring.extend(Packet(n, 0, True, b"", 0) for n in range(10))
    assert [p.ts_us for p in ring.packets()] == [7, 8, 9]
    assert len(ring) == 3
    big = PacketRing(100, max_bytes=250)
    big.extend(Packet(n, 0, True, b"x" * 100, 100) for n in range(5))
    assert [p.ts_us for p in big.packets()] == [3, 4]  # 200 bytes kept, not 500


@pytest.mark.parametrize("remote", [False, True])
def test_pcapng_is_never_written_to_a_terminal(remote: bool) -> None:
    """``-w -`` on a terminal is one line and exit 2, locally and before ssh is started."""
    host = ["--host", "ssh://cnetcap-nowhere.invalid"] if remote else []
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "inspector", *host, "capture", "lo", "-w", "-", "-c", "1"],
            stdout=follower,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "cnet: -w - writes pcapng: pipe it"
        + (" (| wireshark -k -i -)" if remote else " (| tshark -r -)")
        + " or redirect it"
    ]


@sync
async def test_a_hostile_item_name_is_shown_as_text(recorded: Snapshot) -> None:
    """Markup and control characters in a name reach the screen as the text they are."""
    evil = "[bold red]x\x1b[2J"
    app = make_app(recorded, capture=FakeCapturer())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = CaptureScreen(recorded, evil, app.backends)
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.is_mounted and screen.filter_field.has_focus)
        title = screen.query_one("#capture-box").border_title  # kept as markup, escaped
        assert Content.from_markup(str(title)).plain == "Capture on [bold red]x\\x1b[2J"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("ICMP echo reply" in x for x in screen.log_view.lines))
        assert screen.log_view.lines[0] == "capturing on [bold red]x\\x1b[2J/[bold red]x\\x1b[2J"
