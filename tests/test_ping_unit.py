"""``inspector.ping`` without the engine: resolving targets on recorded data, packets, words."""

from __future__ import annotations

import os
import socket
import struct
import threading
from dataclasses import replace

import pytest

from inspector.model import Container, Snapshot
from inspector.ping import (
    PingError,
    PingPlan,
    PingReply,
    PingSummary,
    PingTimeout,
    _parse_v4,
    _parse_v6,
    check_parameters,
    checksum,
    echo_request,
    format_event,
    format_summary,
    plan_ping,
    run_ping,
)


def role(snapshot: Snapshot, suffix: str) -> Container:
    """The recorded lab's container for a role (its prefix changes when re-recorded)."""
    return next(c for c in snapshot.containers if c.name.endswith("-" + suffix))


def test_default_target_is_the_gateway_of_the_default_route(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    plan = plan_ping(recorded, bridge.name)
    assert plan.target == bridge.networks[0].gateway  # Docker's word agrees with the route
    assert plan.pid == bridge.pid
    assert plan.family == socket.AF_INET
    assert "docker0" in plan.target_label


def test_multi_network_container_uses_its_default_route(recorded: Snapshot) -> None:
    multi = role(recorded, "multi")
    default = next(r for r in multi.routes if r.dst == "default")
    assert plan_ping(recorded, multi.name).target == default.gateway


def test_shared_namespace_pings_from_the_owner(recorded: Snapshot) -> None:
    owner, shared = role(recorded, "bridge"), role(recorded, "shared")
    plan = plan_ping(recorded, shared.name)
    assert plan.pid == owner.pid
    assert plan.target == owner.networks[0].gateway
    assert f"{owner.name} (shared by {shared.name})" in plan.header


def test_host_mode_pings_from_the_host(recorded: Snapshot) -> None:
    host = role(recorded, "host")
    plan = plan_ping(recorded, host.name, "127.0.0.1")
    assert plan.pid is None
    assert "the host" in plan.namespace
    assert plan_ping(recorded, host.name, "host").target == "127.0.0.1"


def test_host_target_is_the_bridge_address(recorded: Snapshot) -> None:
    docker0 = recorded.bridge("docker0")
    assert docker0 is not None
    assert (
        plan_ping(recorded, role(recorded, "bridge").name, "host").target
        == (docker0.addresses[0].split("/")[0])
    )
    multi = role(recorded, "multi")
    assert plan_ping(recorded, multi.name, "host").target == multi.networks[0].gateway


def test_container_target_prefers_a_shared_network(recorded: Snapshot) -> None:
    bridge, multi = role(recorded, "bridge"), role(recorded, "multi")
    assert plan_ping(recorded, multi.name, multi.name).target == multi.ips[0]
    # No network in common: the target's first address, and the label says so.
    plan = plan_ping(recorded, bridge.name, multi.name)
    assert plan.target == multi.ips[0]
    assert "no network in common" in plan.target_label
    # A shared second network wins over the first address.
    on_net2 = replace(bridge, networks=(replace(multi.networks[1], ip="192.0.2.9"),))
    variant = replace(
        recorded,
        containers=tuple(on_net2 if c is bridge else c for c in recorded.containers),
    )
    assert plan_ping(variant, bridge.name, multi.name).target == multi.ips[1]


def test_container_target_by_id_prefix(recorded: Snapshot) -> None:
    multi = role(recorded, "multi")
    assert plan_ping(recorded, role(recorded, "bridge").name, multi.id[:12]).target == multi.ips[0]


def test_address_literals(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    assert plan_ping(recorded, bridge.name, "10.213.1.2").target == "10.213.1.2"
    v6 = plan_ping(recorded, bridge.name, "2001:db8::0:1")
    assert v6.target == "2001:db8::1" and v6.family == socket.AF_INET6
    scoped = plan_ping(recorded, bridge.name, "fe80::1%eth0")
    eth0 = next(i for i in bridge.interfaces if i.name == "eth0")
    assert scoped.target == "fe80::1" and scoped.scope_id == eth0.ifindex  # ifindex inside


@pytest.mark.parametrize(
    ("source", "target", "code", "words"),
    [
        ("none", None, 1, "network mode none"),
        ("none", "10.0.0.1", 1, "no route to 10.0.0.1"),
        ("stopped", None, 1, "not running"),
        (None, None, 2, "no such container"),
        ("bridge", "$(touch /tmp/x)", 2, "must be an IP address"),
        ("bridge", "a;b", 2, "must be an IP address"),
        ("bridge", "`id`", 2, "must be an IP address"),
        ("bridge", "-c", 2, "must be an IP address"),
        ("bridge", "nosuch", 2, "neither an address nor a known container"),
        ("bridge", "fe80::1", 2, "needs its interface"),
        ("bridge", "fe80::1%eth7", 2, "no interface 'eth7'"),
        ("bridge", "0.0.0.0", 2, "not an address one can ping"),
        ("bridge", "224.0.0.1", 2, "not an address one can ping"),
        ("bridge", "@host", 2, "uses the host's network"),
        ("bridge", "@none", 1, "has no address"),
        ("bridge", "@stopped", 1, "not running"),
    ],
)
def test_refusals_are_one_line(
    recorded: Snapshot, source: str | None, target: str | None, code: int, words: str
) -> None:
    name = role(recorded, source).name if source else "nosuch"
    if target and target.startswith("@"):
        target = role(recorded, target[1:]).name
    with pytest.raises(PingError) as info:
        plan_ping(recorded, name, target)
    assert info.value.code == code
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_none_mode_may_ping_its_loopback(recorded: Snapshot) -> None:
    assert plan_ping(recorded, role(recorded, "none").name, "127.0.0.1").target == "127.0.0.1"


@pytest.mark.parametrize(
    ("count", "interval", "timeout"),
    [
        (0, 1.0, 1.0),
        (10_001, 1.0, 1.0),
        (1, 0.001, 1.0),
        (1, 61.0, 1.0),
        (1, 1.0, 0.0),
        (1, float("nan"), 1.0),
        (1, 1.0, float("inf")),
    ],
)
def test_parameters_are_bounded(count: int, interval: float, timeout: float) -> None:
    with pytest.raises(PingError) as info:
        check_parameters(count, interval, timeout)
    assert info.value.code == 2


def test_checksum_and_echo_request() -> None:
    # RFC 1071's example words.
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    packet = echo_request(socket.AF_INET, 0x1234, 70000, b"abc")
    assert checksum(packet) == 0  # a packet with its checksum in place sums to zero
    kind, code, _, ident, seq = struct.unpack("!BBHHH", packet[:8])
    assert (kind, code, ident, seq) == (8, 0, 0x1234, 70000 & 0xFFFF)
    v6 = echo_request(socket.AF_INET6, 1, 1, b"")
    assert v6[0] == 128 and v6[2:4] == b"\0\0"  # the kernel writes the ICMPv6 checksum


def _ipv4(src: str, dst: str, icmp: bytes, ttl: int = 64) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(icmp),
        0,
        0,
        ttl,
        1,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    return header + icmp


def _icmp(kind: int, ident: int, seq: int, payload: bytes) -> bytes:
    return struct.pack("!BBHHH", kind, 0, 0, ident, seq) + payload


def test_replies_match_by_id_seq_token_and_source() -> None:
    token = b"T" * 8
    good = _ipv4("10.0.0.1", "10.0.0.2", _icmp(0, 7, 3, token + b"x" * 48), ttl=63)
    parsed = _parse_v4(good, "10.0.0.1", 7, token, "10.0.0.1")
    assert parsed is not None and (parsed.kind, parsed.seq, parsed.ttl, parsed.size) == (
        "reply",
        3,
        63,
        64,
    )
    assert _parse_v4(good, "10.0.0.1", 8, token, "10.0.0.1") is None  # other pinger's id
    assert _parse_v4(good, "10.0.0.1", 7, b"U" * 8, "10.0.0.1") is None  # other session
    assert _parse_v4(good, "10.0.0.9", 7, token, "10.0.0.1") is None  # not the target
    request = _ipv4("10.0.0.2", "10.0.0.1", _icmp(8, 7, 3, token))
    assert _parse_v4(request, "10.0.0.2", 7, token, "10.0.0.1") is None  # our own request


def test_icmp_errors_about_our_requests_are_reported() -> None:
    token = b"T" * 8
    original = _ipv4("10.0.0.2", "10.0.0.99", _icmp(8, 7, 5, token))
    unreachable = _ipv4("10.0.0.1", "10.0.0.2", struct.pack("!BBHI", 3, 1, 0, 0) + original)
    parsed = _parse_v4(unreachable, "10.0.0.1", 7, token, "10.0.0.99")
    assert parsed is not None
    assert (parsed.kind, parsed.seq, parsed.message) == ("error", 5, "Destination Host Unreachable")
    assert _parse_v4(unreachable, "10.0.0.1", 7, token, "10.0.0.98") is None


def test_ipv6_reply_and_error() -> None:
    token = b"T" * 8
    reply = _icmp(129, 7, 2, token)
    parsed = _parse_v6(reply, 64, "2001:db8::1", 7, token, "2001:db8::1")
    assert parsed is not None and (parsed.kind, parsed.seq, parsed.ttl) == ("reply", 2, 64)
    inner = (
        struct.pack("!IHBB", 0x60000000, 16, 58, 64)
        + socket.inet_pton(socket.AF_INET6, "2001:db8::2")
        + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
        + _icmp(128, 7, 4, token)
    )
    error = struct.pack("!BBHI", 1, 3, 0, 0) + inner
    parsed = _parse_v6(error, 64, "2001:db8::ff", 7, token, "2001:db8::1")
    assert parsed is not None and (parsed.kind, parsed.seq, parsed.message) == (
        "error",
        4,
        "Address unreachable",
    )


def test_words_mirror_ping() -> None:
    assert (
        format_event(PingReply(1, "172.17.0.1", 64, 64, 0.0841))
        == "64 bytes from 172.17.0.1: icmp_seq=1 ttl=64 time=0.084 ms"
    )
    assert format_event(PingTimeout(2)) == ""
    summary = PingSummary("172.17.0.1", 3, 2, 0, 2002.4, (0.1, 0.2))
    assert format_summary(summary).splitlines() == [
        "--- 172.17.0.1 ping statistics ---",
        "3 packets transmitted, 2 received, 33.3333% packet loss, time 2002ms",
        "rtt min/avg/max/mdev = 0.100/0.150/0.200/0.050 ms",
    ]
    none = PingSummary("10.0.0.1", 2, 0, 1, 1000.0)
    assert format_summary(none).splitlines()[1:] == [
        "2 packets transmitted, 0 received, +1 errors, 100% packet loss, time 1000ms"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root")
def test_loopback_from_the_host_streams_and_stops() -> None:
    """A real raw socket on the host's loopback: replies stream, and stop ends it early."""
    plan = PingPlan("x", "the host", None, "127.0.0.1", "", socket.AF_INET)
    events = list(run_ping(plan, count=3, interval=0.01, timeout=1.0))
    replies = [e for e in events if isinstance(e, PingReply)]
    assert [r.seq for r in replies] == [1, 2, 3]
    assert all(r.source == "127.0.0.1" and r.rtt_ms < 100 for r in replies)
    summary = events[-1]
    assert isinstance(summary, PingSummary) and summary.received == 3

    stop = threading.Event()
    stopped: list[object] = []
    for event in run_ping(plan, count=None, interval=0.01, timeout=1.0, stop=stop):
        stopped.append(event)
        if len(stopped) == 2:
            stop.set()
    last = stopped[-1]
    assert isinstance(last, PingSummary) and last.stopped and last.transmitted >= 2
