"""``inspector.actions.ping`` without the engine: resolving targets on recorded data, matching
icmplib's replies, the send/receive loop on a fake socket, and ping's words."""

from __future__ import annotations

import errno
import os
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace

import pytest
from icmplib import ICMPReply, ICMPRequest, ICMPSocketError  # type: ignore[import-untyped]

import inspector.actions.ping
import inspector.live.runner
from inspector.actions.ping import (
    PingError,
    PingPlan,
    PingProblem,
    PingReply,
    PingSummary,
    PingTimeout,
    _Pending,
    check_parameters,
    container_gateway,
    format_event,
    format_summary,
    match_reply,
    plan_ping,
    run_ping,
)
from inspector.cli import main
from inspector.model.snapshot import Container, Snapshot
from inspector.tui.ping_screen import default_target


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
    # Explicit targets are the user's choice, off this machine or not.
    assert plan_ping(recorded, host.name, "192.0.2.1").target == "192.0.2.1"


def test_host_mode_has_no_default_target_off_this_machine(recorded: Snapshot) -> None:
    """The recorded host's default route is via 192.0.2.1, its upstream router."""
    host = role(recorded, "host")
    upstream = next(r for r in recorded.host.routes if r.dst == "default")
    assert upstream.gateway == "192.0.2.1"
    for target in (None, ""):
        with pytest.raises(PingError) as info:
            plan_ping(recorded, host.name, target)
        message = str(info.value)
        assert info.value.code == 1 and "\n" not in message
        assert f"{host.name} uses the host's network" in message
        assert "192.0.2.1 on eth0 is off this machine" in message
        assert "name a TARGET" in message
    # The TUI's target field starts empty: `p` would otherwise fill in the router.
    assert container_gateway(recorded, host) is None
    assert default_target(recorded, host.name) == ""
    # Still refused, with a reason, when the host has no default route at all.
    bare = replace(recorded, host=replace(recorded.host, routes=()))
    with pytest.raises(PingError, match=r"uses the host's network: name a TARGET"):
        plan_ping(bare, host.name)


def test_cli_refuses_host_mode_default_before_any_packet(
    recorded: Snapshot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    host = role(recorded, "host")

    def no_packets(*_: object, **__: object) -> None:
        raise AssertionError("run_ping must not be reached")

    monkeypatch.setattr(inspector.live.runner, "collect_snapshot", lambda: recorded)
    monkeypatch.setattr(inspector.actions.ping, "run_ping", no_packets)
    assert main(["ping", host.name]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "192.0.2.1 on eth0 is off this machine" in err


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


class FakeSocket:
    """icmplib's socket as ``run_ping`` uses it, with no network: ``answer`` says what
    comes back for each request, ``fail`` which sends fail (and with what errno)."""

    def __init__(
        self,
        answer: Callable[[ICMPRequest], list[ICMPReply]],
        fail: Callable[[ICMPRequest], int | None] = lambda _: None,
    ) -> None:
        self.answer, self.fail = answer, fail
        self._ready, self._wake = socket.socketpair()  # select() on .sock sees the queue
        self.queue: deque[ICMPReply] = deque()
        self.sent: list[ICMPRequest] = []
        self.closed = False

    @property
    def sock(self) -> socket.socket:
        return self._ready

    def send(self, request: ICMPRequest) -> None:
        code = self.fail(request)
        if code is not None:
            try:
                raise OSError(code, os.strerror(code))
            except OSError as exc:  # icmplib re-raises as text, chained implicitly like this
                raise ICMPSocketError(str(exc))  # noqa: B904
        request._time = 1000.0 + len(self.sent)  # icmplib stamps a request as it sends it
        self.sent.append(request)
        for reply in self.answer(request):
            self.queue.append(reply)
            self._wake.send(b".")

    def receive(self, request: object = None, timeout: float = 2) -> ICMPReply:
        assert request is None  # several may be in flight: run_ping matches them itself
        self._ready.recv(1)
        return self.queue.popleft()

    def close(self) -> None:
        self.closed = True
        self._ready.close()
        self._wake.close()


def reply_to(
    request: ICMPRequest,
    source: str | None = None,
    *,
    kind: int | None = None,
    code: int = 0,
    ident: int | None = None,
    after_s: float = 0.0005,
) -> ICMPReply:
    """What icmplib's receive() returns for ``request``: an echo reply unless ``kind``."""
    family = 6 if ":" in request.destination else 4
    return ICMPReply(
        source=source or request.destination.split("%")[0],
        family=family,
        id=request.id if ident is None else ident,
        sequence=request.sequence,
        type=(129 if family == 6 else 0) if kind is None else kind,
        code=code,
        bytes_received=64,
        time=request.time + after_s,
    )


def fake_run(
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeSocket,
    plan: PingPlan | None = None,
    **kwargs: object,
) -> list[object]:
    monkeypatch.setattr(inspector.actions.ping, "_open_socket", lambda _plan: fake)
    monkeypatch.setattr(inspector.actions.ping, "_new_ident", lambda: 4242)
    plan = plan or PingPlan("c", "ns", 99, "10.0.0.1", "", socket.AF_INET)
    options: dict[str, object] = {"count": 3, "interval": 0.01, "timeout": 1.0, **kwargs}
    return list(run_ping(plan, **options))  # type: ignore[arg-type]


def test_replies_to_other_pingers_are_never_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(request: ICMPRequest) -> list[ICMPReply]:
        return [
            reply_to(request, ident=4243),  # another pinger, same sequence
            reply_to(request, "10.0.0.9"),  # our id, but not from the target
            reply_to(request, "10.0.0.2", kind=8),  # our own request, seen on loopback
            reply_to(request, kind=5, code=1),  # a redirect: not about our echo
            reply_to(request, after_s=0.0005 * request.sequence),
        ]

    fake = FakeSocket(answer)
    events = fake_run(monkeypatch, fake)
    assert events[:-1] == [PingReply(s, "10.0.0.1", 64, pytest.approx(0.5 * s)) for s in (1, 2, 3)]
    summary = events[-1]
    assert isinstance(summary, PingSummary)
    assert (summary.transmitted, summary.received, summary.errors) == (3, 3, 0)
    assert {(r.id, r.destination, r.payload_size) for r in fake.sent} == {(4242, "10.0.0.1", 56)}
    assert fake.closed


def test_unreachable_and_time_exceeded_are_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(request: ICMPRequest) -> list[ICMPReply]:
        if request.sequence == 1:
            return [reply_to(request, "10.0.0.254", kind=3, code=1)]
        if request.sequence == 2:
            return [reply_to(request, "10.0.0.254", kind=11, code=0)]
        return [reply_to(request)]

    events = fake_run(monkeypatch, FakeSocket(answer))
    assert events[:3] == [
        PingProblem(1, "10.0.0.254", "Destination host unreachable"),
        PingProblem(2, "10.0.0.254", "Time to live exceeded"),
        PingReply(3, "10.0.0.1", 64, pytest.approx(0.5)),
    ]
    assert format_event(events[0]) == "From 10.0.0.254 icmp_seq=1 Destination host unreachable"
    summary = events[-1]
    assert isinstance(summary, PingSummary) and (summary.received, summary.errors) == (1, 2)


def test_ipv6_link_local_scope_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(request: ICMPRequest) -> list[ICMPReply]:
        neighbour = reply_to(request, "fe80::1%eth0", kind=135)  # neighbour discovery
        if request.sequence == 1:
            return [neighbour, reply_to(request, "fe80::1%eth0")]
        if request.sequence == 2:
            return [reply_to(request, "fe80::ff%eth0", kind=1, code=3)]
        return [reply_to(request, "fe80::ff%eth0", kind=3, code=0)]

    fake = FakeSocket(answer)
    plan = PingPlan("c", "ns", 99, "fe80::1", "", socket.AF_INET6, scope_id=7)
    events = fake_run(monkeypatch, fake, plan)
    # The zone is the ifindex inside the namespace, not a name the host would resolve.
    assert {r.destination for r in fake.sent} == {"fe80::1%7"}
    assert events[:3] == [
        PingReply(1, "fe80::1", 64, pytest.approx(0.5)),
        PingProblem(2, "fe80::ff", "Address unreachable"),
        PingProblem(3, "fe80::ff", "Hop limit exceeded"),
    ]


def test_sequence_numbers_wrap_on_the_wire() -> None:
    request = ICMPRequest("10.0.0.1", 4242, 65537)
    request._time = 5.0
    pending = {request.sequence: _Pending(65537, request, 0.0)}
    assert request.sequence == 1
    assert match_reply(reply_to(request), 4242, "10.0.0.1", pending) == PingReply(
        65537, "10.0.0.1", 64, pytest.approx(0.5)
    )
    assert pending == {}
    assert match_reply(reply_to(request), 4242, "10.0.0.1", pending) is None  # a duplicate


def test_silence_times_out_each_request(monkeypatch: pytest.MonkeyPatch) -> None:
    events = fake_run(monkeypatch, FakeSocket(lambda _: []), count=2, timeout=0.01)
    assert events[:-1] == [PingTimeout(1), PingTimeout(2)]
    summary = events[-1]
    assert isinstance(summary, PingSummary) and (summary.transmitted, summary.received) == (2, 0)
    assert "100% packet loss" in format_summary(summary) and "rtt" not in format_summary(summary)


def test_send_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first request: a PingError naming the namespace (a none-like namespace).
    unreachable = FakeSocket(lambda r: [reply_to(r)], lambda _: errno.ENETUNREACH)
    with pytest.raises(PingError) as info:
        fake_run(monkeypatch, unreachable)
    assert str(info.value) == "network is unreachable: no route to 10.0.0.1 in ns"
    assert unreachable.closed
    # A later one: a problem, and the ping goes on.
    later = FakeSocket(lambda r: [reply_to(r)], lambda r: errno.EPERM if r.sequence == 2 else None)
    events = fake_run(monkeypatch, later)
    assert events[1] == PingProblem(
        2,
        None,
        "sending to 10.0.0.1 was refused (Operation not permitted; "
        "a firewall rule or a broadcast address)",
    )
    summary = events[-1]
    assert isinstance(summary, PingSummary)
    assert (summary.transmitted, summary.received, summary.errors) == (3, 2, 1)


def test_stop_ends_an_endless_ping(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    fake = FakeSocket(lambda r: [reply_to(r)])
    monkeypatch.setattr(inspector.actions.ping, "_open_socket", lambda _plan: fake)
    plan = PingPlan("c", "ns", 99, "10.0.0.1", "", socket.AF_INET)
    events: list[object] = []
    for event in run_ping(plan, count=None, interval=0.01, stop=stop):
        events.append(event)
        if len(events) == 2:
            stop.set()
    summary = events[-1]
    assert isinstance(summary, PingSummary) and summary.stopped
    assert summary.received == 2 and fake.closed


def test_words_mirror_ping() -> None:
    assert (
        format_event(PingReply(1, "172.17.0.1", 64, 0.0841))
        == "64 bytes from 172.17.0.1: icmp_seq=1 time=0.084 ms"
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


@pytest.mark.parametrize(
    ("problem", "said"),
    [
        (None, "cnet has not read its namespace yet"),
        ("the engine did not answer its inspect within 2 s", "did not answer its inspect"),
    ],
)
def test_a_running_container_whose_namespace_is_unread_says_why(
    recorded: Snapshot, problem: str | None, said: str
) -> None:
    """Not "not running (running)": the container runs, cnet just has no pid for it yet."""
    bridge = role(recorded, "bridge")
    unread = replace(bridge, pid=None, problem=problem)
    snapshot = replace(
        recorded, containers=tuple(unread if c is bridge else c for c in recorded.containers)
    )
    with pytest.raises(PingError, match=said) as caught:
        plan_ping(snapshot, bridge.name)
    assert "not running" not in str(caught.value)
