"""Recorded and scripted stand-ins for the TUI's feed and action backends (ping, capture,
rules, doctor).

Shared by the Pilot tests, the SVG snapshot tests and ``scripts/screenshots`` (no tests
of its own): nothing here touches the host.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path

from inspector.actions.capture import CaptureCounts, Packet
from inspector.actions.capture_plan import CaptureError, CapturePlan, Tap
from inspector.actions.ping import PingError, PingPlan, PingReply, PingSummary, PingTimeout
from inspector.collect.counters import Counters
from inspector.doctor import Check, ContainerReport, Status, run_checks
from inspector.live.rates import RateMeter, Rates
from inspector.live.runner import LiveStatus, LiveUpdate
from inspector.live.sampler import sample_of
from inspector.model.snapshot import Container, Snapshot
from inspector.rules import Rulesets, parse_iptables_save
from inspector.tui.backends import PingSession

DATA = Path(__file__).parent / "data"


def uplink_at_1500(snapshot: Snapshot) -> Snapshot:
    """The recorded host with its uplink at the containers' MTU.

    The lab was recorded on a host whose uplink eth0 has MTU 1400, below the containers'
    1500, which the doctor rightly warns about; tests of a healthy lab take it as 1500.
    """
    host = replace(
        snapshot.host,
        interfaces=tuple(
            replace(i, mtu=1500) if i.name == "eth0" else i for i in snapshot.host.interfaces
        ),
    )
    return replace(snapshot, host=host)


def bridged_container(snapshot: Snapshot) -> Container:
    """The container on docker0 with a published port (the lab's ``bridge``)."""
    return next(
        c
        for c in snapshot.containers
        if c.ports and any(i.peer is not None and i.peer.bridge == "docker0" for i in c.interfaces)
    )


def multi_container(snapshot: Snapshot) -> Container:
    """The container on two networks (the lab's ``multi``)."""
    return next(
        c for c in snapshot.containers if sum(1 for i in c.interfaces if i.peer is not None) >= 2
    )


# What lab1 was called in the recording (``tests/test_rules.py`` has its snapshot).
LAB1_BRIDGED_IP, LAB1_PORT = "172.17.0.4", 35341
LAB1_MULTI = (("cnetlab1-br1", "172.30.203"), ("br-a0201286ae81", "172.30.204"))


def recorded_rules_text(snapshot: Snapshot, *, drop: bool = True) -> str:
    """The real lab1 ``iptables-save -c`` (with its DOCKER-USER DROP when ``drop``), with
    lab1's addresses, port, bridges and subnets rewritten to ``snapshot``'s (the same lab,
    recorded at another time)."""
    c = bridged_container(snapshot)
    port = next(p.host_port for p in c.ports if p.host_port is not None)
    name = "iptables-lab1-drop.txt" if drop else "iptables-lab1.txt"
    text = (DATA / name).read_text()
    # 172.17.0.2 is another container in that recording: move it out of the way first.
    text = text.replace("172.17.0.2", "172.17.0.99").replace(LAB1_BRIDGED_IP, c.ips[0])
    text = text.replace(f"--dport {LAB1_PORT} ", f"--dport {port} ")
    multi = multi_container(snapshot)
    for (bridge, prefix), iface in zip(
        LAB1_MULTI, [i for i in multi.interfaces if i.peer is not None], strict=False
    ):
        assert iface.peer is not None and iface.peer.bridge and iface.addresses
        text = text.replace(bridge, iface.peer.bridge)
        text = text.replace(prefix + ".", iface.addresses[0].rsplit(".", 1)[0] + ".")
    return text


def recorded_rules(snapshot: Snapshot, *, drop: bool = True) -> Rulesets:
    return Rulesets(tables=parse_iptables_save(recorded_rules_text(snapshot, drop=drop)))


def isolation_path(snapshot: Snapshot) -> tuple[str, ...]:
    """The rules a ping from ``multi`` to ``bridge``'s address goes through on its way to
    Docker's network isolation (what the engine test sees for real)."""
    br1 = next(i.peer.bridge for i in multi_container(snapshot).interfaces if i.peer)
    return (
        "-A FORWARD -j DOCKER-USER",
        "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
        f"-A DOCKER-ISOLATION-STAGE-1 -i {br1} ! -o {br1} -j DOCKER-ISOLATION-STAGE-2",
        "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
        "-A DOCKER-USER -j RETURN",
    )


def bump(text: str, rule: str, packets: int, size: int) -> str:
    """``text`` with ``rule``'s counters moved by ``packets`` and ``size`` bytes."""
    found = re.search(r"^\[(\d+):(\d+)\] " + re.escape(rule) + "$", text, re.M)
    assert found is not None, rule
    moved = f"[{int(found[1]) + packets}:{int(found[2]) + size}] {rule}"
    return text[: found.start()] + moved + text[found.end() :]


class CounterReader:
    """``read_rules`` for a ping panel: each run reads before its first packet (the
    recorded rules) and after its last (the same with the counters of ``moved`` up by
    ``packets`` pings of 84 bytes)."""

    def __init__(self, snapshot: Snapshot, moved: Sequence[str], packets: int = 3) -> None:
        text = recorded_rules_text(snapshot, drop=False)
        after = text
        for rule in moved:
            after = bump(after, rule, packets, 84 * packets)
        self.before = Rulesets(tables=parse_iptables_save(text))
        self.after = Rulesets(tables=parse_iptables_save(after))
        self.reads = 0
        self.threads: set[int] = set()
        self._per_worker: dict[int, int] = {}  # a run reads twice from its worker
        self._lock = threading.Lock()

    def __call__(self) -> Rulesets:
        from textual.worker import get_current_worker

        run = id(get_current_worker())
        with self._lock:
            self.threads.add(threading.get_ident())
            self.reads += 1
            self._per_worker[run] = self._per_worker.get(run, 0) + 1
            return self.before if self._per_worker[run] % 2 else self.after


class FakePinger:
    """A scripted pinger: ``replies`` replies at once (then silence until stopped), or, when
    ``gated``, one reply per ``permits.release()``.  Records every call and stop Event."""

    def __init__(
        self,
        replies: int = 3,
        *,
        gated: bool = False,
        timeouts: int = 0,
        error: str | None = None,
    ) -> None:
        self.replies = replies
        self.timeouts = timeouts
        self.error = error
        self.permits: threading.Semaphore | None = threading.Semaphore(0) if gated else None
        self.calls: list[tuple[str, str | None]] = []
        self.stops: list[threading.Event] = []
        self.threads: set[int] = set()
        self.ended = threading.Event()

    def __call__(
        self, snapshot: Snapshot, container: str, target: str | None, stop: threading.Event
    ) -> PingSession:
        self.threads.add(threading.get_ident())
        self.calls.append((container, target))
        self.stops.append(stop)
        if self.error is not None:
            raise PingError(self.error)
        address = target or "172.17.0.1"
        label = "" if target else "gateway of " + container
        plan = PingPlan(container, container, 4242, address, label, socket.AF_INET)
        return PingSession(plan, self._events(plan, stop))

    def _events(self, plan: PingPlan, stop: threading.Event) -> object:
        rtts: list[float] = []
        seq = 0
        try:
            while True:
                if self.permits is not None:
                    while not stop.is_set() and not self.permits.acquire(timeout=0.02):
                        pass
                elif seq >= self.replies + self.timeouts:
                    stop.wait(30)
                if stop.is_set():
                    break
                seq += 1
                if seq > self.replies and self.permits is None:
                    yield PingTimeout(seq)
                    continue
                rtt = 0.042 * seq
                rtts.append(rtt)
                yield PingReply(seq, plan.target, 64, rtt)
            yield PingSummary(plan.target, seq, len(rtts), 0, 1000.0 * seq, tuple(rtts), True)
        finally:
            self.ended.set()


class CannedDoctor:
    """A doctor: the snapshot-only checks, with ``broken`` failing at its veth and
    ``warned`` warning on MTU; with ``ping`` the gateway check says ``gateway``."""

    def __init__(
        self,
        broken: str | None = None,
        warned: str | None = None,
        *,
        gateway: Status = "pass",
        delay: threading.Event | None = None,
    ) -> None:
        self.broken = broken
        self.warned = warned
        self.gateway = gateway
        self.delay = delay
        self.calls: list[tuple[tuple[str, ...], bool]] = []
        self.threads: set[int] = set()

    def __call__(
        self, snapshot: Snapshot, names: Sequence[str], ping: bool
    ) -> list[ContainerReport]:
        self.threads.add(threading.get_ident())
        self.calls.append((tuple(names), ping))
        if self.delay is not None:
            self.delay.wait(10)
        chosen = list(names) or [c.name for c in snapshot.containers]
        return [self._report(snapshot, name, ping) for name in chosen]

    def _report(self, snapshot: Snapshot, name: str, ping: bool) -> ContainerReport:
        # Only ``warned`` warns here: the recorded uplink's 1400 would warn for all.
        report = run_checks(uplink_at_1500(snapshot), name)
        if not report.running or report.first_failure is not None:
            return report
        checks = list(report.checks)
        for n, check in enumerate(checks):
            if name == self.broken and check.id == "veth":
                checks[n] = Check(
                    "veth",
                    "fail",
                    "vethdead0 is down",
                    (("veth", "vethdead0"), ("state", "down"), ("should be on", "docker0")),
                    "ip link set vethdead0 up",
                )
            elif name == self.warned and check.id == "mtu":
                checks[n] = Check(
                    "mtu", "warn", "eth0 mtu 1400, docker0 mtu 1500", (("eth0", "1400"),)
                )
            elif ping and check.id == "gateway":
                checks[n] = Check("gateway", self.gateway, f"gateway ping: {self.gateway}")
        return ContainerReport(report.name, report.state, tuple(checks), report.note)


class ScriptedFeed:
    """A feed that publishes the given snapshots: the first on start, the next on each
    refresh (``r``), or any one when the test calls ``push`` (from any thread)."""

    def __init__(self, *snapshots: Snapshot, status: LiveStatus | None = None) -> None:
        self.snapshots = list(snapshots)
        self.status = status or LiveStatus(
            reading=False, kernel_events=True, engine_events=True, changed_at=0.0, reconcile=30
        )
        self.refreshes = 0
        self.stopped = False
        self._publish: Callable[[LiveUpdate], None] | None = None

    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        self._publish = publish
        if self.snapshots:
            self.push(self.snapshots[0])

    def push(self, snapshot: Snapshot, status: LiveStatus | None = None) -> None:
        assert self._publish is not None, "not started"
        self._publish(LiveUpdate(snapshot, status or self.status))

    def refresh(self) -> None:
        self.refreshes += 1
        self.push(self.snapshots[min(self.refreshes, len(self.snapshots) - 1)])

    def stop(self) -> None:
        self.stopped = True


class ScriptedRates:
    """A rates feed that publishes what the test gives it (``push``, from any thread);
    records the snapshots it was told to follow."""

    def __init__(self) -> None:
        self.followed: list[Snapshot] = []
        self.watched: list[frozenset[str]] = []
        self.stopped = False
        self._publish: Callable[[Rates], None] | None = None
        self.started = threading.Event()

    def start(self, publish: Callable[[Rates], None]) -> None:
        self._publish = publish
        self.started.set()

    def follow(self, snapshot: Snapshot) -> None:
        self.followed.append(snapshot)

    def watch(self, names: Collection[str]) -> None:
        self.watched.append(frozenset(names))

    def push(self, rates: Rates) -> None:
        assert self._publish is not None, "not started"
        self._publish(rates)

    def stop(self) -> None:
        self.stopped = True


def scripted_rates(
    snapshot: Snapshot, seconds: int, per_second: Callable[[int, str], int]
) -> list[Rates]:
    """What a ``RateMeter`` makes of ``seconds + 1`` samples of ``snapshot`` in which every
    running container's veths move ``per_second(second, container)`` bytes each way
    (10 packets each way), and every host end the same, swapped."""
    meter = RateMeter()
    totals: dict[str, int] = {}
    out: list[Rates] = []
    for t in range(seconds + 1):
        host: dict[str, Counters] = {}
        for c in snapshot.containers:
            if c.running:
                totals[c.name] = totals.get(c.name, 0) + (per_second(t, c.name) if t else 0)
            for i in c.interfaces:
                if i.peer is not None and c.running:
                    n = totals[c.name]
                    host[i.peer.name] = Counters(n, n, 10 * t, 10 * t)
        rates = meter.add(sample_of(snapshot, 1000.0 + t, host, {}))
        if rates is not None:
            out.append(rates)
    return out


def frames(tap: int = 0, count: int = 3) -> list[Packet]:
    """``count`` pings to a gateway and back on the plan's ``tap``, then a TCP connection
    refused, as Ethernet frames built with dpkt, a millisecond apart from a fixed time."""
    import dpkt

    mine, gateway = bytes.fromhex("02420aa00002"), bytes.fromhex("02420aa00001")
    me, gw = socket.inet_aton("172.17.0.2"), socket.inet_aton("172.17.0.1")

    def frame(out: bool, segment: dpkt.Packet, proto: int) -> bytes:
        src, dst = (me, gw) if out else (gw, me)
        ip = dpkt.ip.IP(src=src, dst=dst, p=proto, ttl=64, data=segment)
        ip.len = len(bytes(ip))
        eth = dpkt.ethernet.Ethernet(
            src=mine if out else gateway, dst=gateway if out else mine, data=ip
        )
        return bytes(eth)

    out: list[Packet] = []
    start = 1_796_605_200_000_000  # a fixed instant, shown in the pictures
    for seq in range(1, count + 1):
        for outbound, kind in ((True, 8), (False, 0)):
            echo = dpkt.icmp.ICMP.Echo(id=7, seq=seq, data=b"x" * 56)
            data = frame(outbound, dpkt.icmp.ICMP(type=kind, data=echo), 1)
            out.append(Packet(start + 1000 * len(out), tap, outbound, data, len(data)))
    syn = dpkt.tcp.TCP(sport=40000, dport=81, flags=dpkt.tcp.TH_SYN, seq=1000)
    rst = dpkt.tcp.TCP(
        sport=81, dport=40000, flags=dpkt.tcp.TH_RST | dpkt.tcp.TH_ACK, seq=0, ack=1001
    )
    for outbound, segment in ((True, syn), (False, rst)):
        data = frame(outbound, segment, 6)
        out.append(Packet(start + 1000 * len(out), tap, outbound, data, len(data)))
    return out


class FakeCaptureSource:
    """Hands out its packets at the first read, then nothing until closed."""

    def __init__(self, plan: CapturePlan, packets: Sequence[Packet]) -> None:
        self.plan = plan
        self.linktypes = [1] * len(plan.taps)
        self.problem: str | None = None
        self._packets = list(packets)
        self.closed = threading.Event()

    def read(self, timeout: float) -> list[Packet]:
        if self._packets:
            out, self._packets = self._packets, []
            return out
        self.closed.wait(timeout)
        return []

    def drain(self) -> list[Packet]:
        return []

    def counts(self) -> CaptureCounts:
        return CaptureCounts(received=len(self.plan.taps) * 8, dropped=0)

    def close(self) -> None:
        self.closed.set()


class FakeCapturer:
    """A capturer on recorded frames (``frames``): records each call and its source."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, str]] = []
        self.sources: list[FakeCaptureSource] = []

    def __call__(self, snapshot: Snapshot, item: str, expression: str) -> FakeCaptureSource:
        self.calls.append((item, expression))
        if self.error is not None:
            raise CaptureError(self.error)
        c = snapshot.container(item)
        names = [i.name for i in c.interfaces] if c is not None else [item]
        taps = tuple(Tap(item, n, None, n == "lo") for n in names)
        first = next((n for n, t in enumerate(taps) if not t.loopback), 0)
        source = FakeCaptureSource(CapturePlan(item, item, taps), frames(first))
        self.sources.append(source)
        return source
