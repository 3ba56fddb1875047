"""The Prometheus exporter: metrics over the latest live snapshot, built by prometheus_client.

One feed (``inspector.live.runner.Live``) keeps the inventory current; the exporter only keeps the
latest ``LiveUpdate`` it published.  A scrape never starts a collection: it reads the interface
counters (psutil's one read of the host's table, plus ``/proc/PID/net/dev`` where a link
has no host end), each namespace's TCP/UDP counters (two small ``/proc/PID/net`` files)
and the cached doctor verdicts into a ``Moment``.
The exposition's bytes are kept by parts and a moment serves a second's scrapes
(inspector/exporter/exposition.py); ``Exporter.collect`` renders the same whole.

The doctor runs without the ping, on one background thread, and only again when the
snapshot object changed (the feed publishes a new one only when something changed), the
nftables generation moved (one netlink round trip, read at most every
``FINGERPRINT_EVERY_S``), or its verdicts are ``DOCTOR_MAX_AGE_S`` old (legacy iptables
does not move the generation).  A scrape serves the last finished verdicts.

Environment variables and command lines are never exported: the labels are names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from inspector.collect.connections import namespace_owners
from inspector.collect.counters import Counters, InterfaceKey, read_container_counters
from inspector.collect.nftgen import nft_generation
from inspector.collect.snmp import read_health
from inspector.doctor import diagnose, is_unchecked
from inspector.model.safe import safe
from inspector.model.snapshot import Container, Interface, Snapshot, TcpHealth

if TYPE_CHECKING:
    from inspector.doctor import ContainerReport
    from inspector.live.runner import LiveUpdate

FINGERPRINT_EVERY_S = 5.0
DOCTOR_MAX_AGE_S = 300.0

INTERFACE_LABELS = ("container", "runtime", "interface", "host_interface", "bridge", "network")

COUNTER_METRICS: tuple[tuple[str, str, str], ...] = (
    ("receive_bytes", "rx_bytes", "Bytes received by the container's interface."),
    ("transmit_bytes", "tx_bytes", "Bytes sent by the container's interface."),
    ("receive_packets", "rx_packets", "Packets received by the container's interface."),
    ("transmit_packets", "tx_packets", "Packets sent by the container's interface."),
    ("receive_drops", "rx_dropped", "Received packets dropped on the container's interface."),
    ("transmit_drops", "tx_dropped", "Packets to send dropped on the container's interface."),
    ("receive_errors", "rx_errors", "Receive errors on the container's interface."),
    ("transmit_errors", "tx_errors", "Transmit errors on the container's interface."),
)
"""(metric name part, ``Counters`` field, help); each becomes cnet_interface_<part>_total."""

TCP_LABELS = ("container", "runtime")
TCP_METRICS: tuple[tuple[str, str, str], ...] = (
    ("tcp_segments_sent", "out_segs", "TCP segments sent in the namespace."),
    ("tcp_retransmitted_segments", "retrans_segs", "TCP segments sent again."),
    ("tcp_resets_sent", "out_rsts", "TCP resets sent."),
    ("tcp_established_resets", "estab_resets", "Established TCP connections reset."),
    ("tcp_attempt_failures", "attempt_fails", "TCP connection attempts that failed."),
    ("tcp_receive_errors", "in_errs", "TCP segments received in error."),
    ("tcp_listen_overflows", "listen_overflows", "Times a listen queue was full."),
    ("tcp_listen_drops", "listen_drops", "Connection requests dropped by a listener."),
    ("udp_receive_errors", "udp_in_errors", "UDP datagrams received in error."),
    ("udp_receive_buffer_errors", "udp_rcvbuf_errors", "UDP datagrams lost to a full buffer."),
)
"""(metric name part, ``TcpHealth`` field, help); each becomes cnet_<part>_total, one
series per network namespace, named by the container that owns it."""

ReadCounters = Callable[[Snapshot], Mapping[InterfaceKey, Counters]]
ReadHealth = Callable[[int], TcpHealth | None]
Diagnose = Callable[[Snapshot], Sequence["ContainerReport"]]
Fingerprint = Callable[[], object]


def runtime_of(c: Container) -> str:
    """The container's runtime; "docker" until the model says otherwise."""
    return str(getattr(c, "runtime", "docker") or "docker")


def namespace_of(snapshot: Snapshot, c: Container) -> str:
    """Whose network namespace the container uses: its own name, the name of the workload
    at the end of its ``container:`` chain (whose interfaces carry the counters), or
    "host"."""
    if c.network_mode == "host" or c.netns_shared_with == "host":
        return "host"
    return snapshot.namespace_owner(c).name


def network_of(c: Container, i: Interface) -> str:
    """The engine network an interface is on: matched by MAC, then by address."""
    for n in c.networks:
        if n.mac and i.mac and n.mac.lower() == i.mac.lower():
            return n.name
    own = {a.split("/", 1)[0] for a in i.addresses}
    return next((n.name for n in c.networks if n.ip and n.ip in own), "")


def interface_labels(c: Container, i: Interface) -> list[str]:
    peer = i.peer
    labels = [
        c.name,
        runtime_of(c),
        i.name,
        peer.name if peer is not None else "",
        (peer.bridge or "") if peer is not None else "",
        network_of(c, i),
    ]
    return [safe(v) for v in labels]  # a scrape shown on a terminal obeys no name


def all_interface_labels(snapshot: Snapshot) -> dict[InterfaceKey, list[str]]:
    """Every namespace's interfaces once, labelled with the workload that owns the
    namespace, by (container, interface); the workloads sharing it are named by
    cnet_container_info's ``namespace`` label, so a sum over the counters counts each
    byte once.  Host-mode containers have none (the host's links are not theirs).  Pure."""
    return {
        (c.name, i.name): interface_labels(c, i)
        for c in snapshot.containers
        if c.netns_shared_with is None and snapshot.namespace_owner(c) is c
        for i in c.interfaces
    }


def counter_families(
    snapshot: Snapshot,
    counters: Mapping[InterfaceKey, Counters],
    labelled: Mapping[InterfaceKey, list[str]] | None = None,
) -> list[CounterMetricFamily]:
    """The per-interface totals (``labelled``: ``all_interface_labels``, if known).  Pure."""
    if labelled is None:
        labelled = all_interface_labels(snapshot)
    families = [
        (
            field,
            CounterMetricFamily(f"cnet_interface_{part}", doc, labels=INTERFACE_LABELS),
        )
        for part, field, doc in COUNTER_METRICS
    ]
    for key, labels in labelled.items():
        found = counters.get(key)
        if found is None:
            continue
        for field, family in families:
            family.add_metric(labels, float(getattr(found, field)))
    return [f for _, f in families]


def read_tcp(snapshot: Snapshot, read: ReadHealth) -> dict[str, TcpHealth]:
    """Each namespace's TCP/UDP counters (``/proc/PID/net/snmp``, ``netstat``) by the
    name of the workload owning it; a namespace gone since the snapshot is left out."""
    out: dict[str, TcpHealth] = {}
    for c in namespace_owners(snapshot):
        assert c.pid is not None
        health = read(c.pid)
        if health is not None:
            out[c.name] = health
    return out


def tcp_families(snapshot: Snapshot, health: Mapping[str, TcpHealth]) -> list[CounterMetricFamily]:
    """The namespaces' TCP/UDP counters (``health``: ``read_tcp``).  Pure."""
    families = [
        (field, CounterMetricFamily(f"cnet_{part}", doc, labels=TCP_LABELS))
        for part, field, doc in TCP_METRICS
    ]
    for c in namespace_owners(snapshot):
        found = health.get(c.name)
        if found is None:
            continue
        for field, family in families:
            family.add_metric([c.name, runtime_of(c)], float(getattr(found, field)))
    return [f for _, f in families]


def info_family(snapshot: Snapshot) -> InfoMetricFamily:
    """One cnet_container_info per container.  Pure."""
    family = InfoMetricFamily(
        "cnet_container", "A container cnet sees: its runtime, network mode and namespace."
    )
    for c in snapshot.containers:
        family.add_metric(
            [],
            {
                "container": safe(c.name),
                "id": safe(c.id),
                "state": safe(c.state),
                "runtime": safe(runtime_of(c)),
                "network_mode": safe(c.network_mode),
                "namespace": safe(namespace_of(snapshot, c)),
            },
        )
    return family


def doctor_family(reports: Iterable[ContainerReport]) -> GaugeMetricFamily:
    """cnet_doctor_check_failed: 1 for a failing check, 0 for a passing or warning one;
    a skipped check (no IPv6, host mode...) judged nothing and is left out.  Pure."""
    family = GaugeMetricFamily(
        "cnet_doctor_check_failed",
        "1 when the doctor's check fails for the container (checks without the gateway ping).",
        labels=("container", "check"),
    )
    for r in reports:
        for check in r.checks:
            if check.status == "skip":
                continue
            family.add_metric([safe(r.name), check.id], 1.0 if check.status == "fail" else 0.0)
    return family


def skipped_family(reports: Iterable[ContainerReport]) -> GaugeMetricFamily:
    """cnet_doctor_check_skipped: 1 for each check skipped for want of a fact, with the
    reason in the words every other output uses (the TUI, the reports, ``cnet doctor``).
    Pure."""
    family = GaugeMetricFamily(
        "cnet_doctor_check_skipped",
        "1 when the doctor could not judge the check for want of a fact; reason says which.",
        labels=("container", "check", "reason"),
    )
    for r in reports:
        for check in r.checks:
            if is_unchecked(check):
                family.add_metric([r.name, check.id, check.summary], 1.0)
    return family


def _default_fingerprint() -> object:
    return nft_generation()


def _default_diagnose(snapshot: Snapshot) -> Sequence[ContainerReport]:
    return diagnose(snapshot, (), ping=False)


@dataclass(frozen=True)
class Moment:
    """What one exposition shows: the latest snapshot and the numbers read for it."""

    version: tuple[int, int, int]
    """``Exporter.version()`` when it was taken: a new publication or new verdicts make
    it old."""
    snapshot: Snapshot | None
    counters: Mapping[InterfaceKey, Counters]
    health: Mapping[str, TcpHealth]
    reports: tuple[ContainerReport, ...]
    pass_seconds: float | None
    errors: int


@dataclass(frozen=True)
class _DoctorRun:
    snapshot: Snapshot
    fingerprint: object
    finished: float
    reports: tuple[ContainerReport, ...]


class DoctorCache:
    """The doctor's last verdicts, re-run on one background thread when they went stale."""

    def __init__(
        self,
        diagnose: Diagnose = _default_diagnose,
        fingerprint: Fingerprint = _default_fingerprint,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._diagnose = diagnose
        self._fingerprint = fingerprint
        self._clock = clock
        self._lock = threading.Lock()
        self._last: _DoctorRun | None = None
        self._running = False
        self._print: object = None
        self._print_at: float | None = None
        self.runs = 0
        """Doctor runs started: for tests."""
        self.failures = 0
        """Doctor runs that raised: counted into cnet_scrape_errors_total."""
        self.landed = 0
        """Doctor runs that finished with verdicts: new verdicts end a kept exposition."""

    def reports(self, snapshot: Snapshot) -> tuple[ContainerReport, ...]:
        """The last finished verdicts (empty before the first); starts a run if stale."""
        with self._lock:
            last = self._last
            now = self._clock()
            if self._print_at is None or now - self._print_at >= FINGERPRINT_EVERY_S:
                self._print, self._print_at = self._fingerprint(), now
            stale = (
                last is None
                or last.snapshot is not snapshot
                or last.fingerprint != self._print
                or now - last.finished >= DOCTOR_MAX_AGE_S
            )
            if stale and not self._running:
                self._running = True
                self.runs += 1
                fingerprint = self._print
                thread = threading.Thread(
                    target=self._run, args=(snapshot, fingerprint), daemon=True, name="cnet-doctor"
                )
                thread.start()
        return last.reports if last is not None else ()

    def _run(self, snapshot: Snapshot, fingerprint: object) -> None:
        try:
            reports = tuple(self._diagnose(snapshot))
        except Exception:  # one bad run must not stop the next scrape's
            with self._lock:
                self.failures += 1
                self._running = False
            return
        with self._lock:
            self._last = _DoctorRun(snapshot, fingerprint, self._clock(), reports)
            self._running = False
            self.landed += 1


class Exporter(Collector):
    """The custom collector: every scrape turns the latest update into metric families."""

    def __init__(
        self,
        counters: ReadCounters | None = None,
        doctor: DoctorCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        health: ReadHealth | None = None,
    ) -> None:
        self._health = health if health is not None else read_health
        if counters is None:
            counters = read_container_counters
        self._counters = counters
        self._doctor = doctor if doctor is not None else DoctorCache()
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: LiveUpdate | None = None
        self._pass_started: float | None = clock()
        self._pass_seconds: float | None = None
        self._errors = 0
        self.updates = 0
        self._built: tuple[Snapshot, dict[InterfaceKey, list[str]], InfoMetricFamily] | None = None
        self._doctor_built: (
            tuple[tuple[ContainerReport, ...], GaugeMetricFamily, GaugeMetricFamily] | None
        ) = None

    def publish(self, update: LiveUpdate) -> None:
        """The feed's callback: keep the update, time the feed's full passes."""
        with self._lock:
            self._latest = update
            self.updates += 1
            now = self._clock()
            if update.status.reading and self._pass_started is None:
                self._pass_started = now
            elif not update.status.reading and self._pass_started is not None:
                self._pass_seconds = now - self._pass_started
                self._pass_started = None

    def _per_snapshot(
        self, snapshot: Snapshot
    ) -> tuple[dict[InterfaceKey, list[str]], InfoMetricFamily]:
        """What only changes with the snapshot, built once for it (the families are only
        read by the exposition)."""
        built = self._built
        if built is None or built[0] is not snapshot:
            built = self._built = (snapshot, all_interface_labels(snapshot), info_family(snapshot))
        return built[1], built[2]

    def _doctor_families(
        self, reports: tuple[ContainerReport, ...]
    ) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        built = self._doctor_built
        if built is None or built[0] is not reports:
            built = self._doctor_built = (reports, doctor_family(reports), skipped_family(reports))
        return built[1], built[2]

    def version(self) -> tuple[int, int, int]:
        """Moves with every publication of the feed and every doctor run that ended."""
        return (self.updates, self._doctor.landed, self._doctor.failures)

    def labelled(self, snapshot: Snapshot) -> dict[InterfaceKey, list[str]]:
        """``all_interface_labels`` of ``snapshot``, built once for it."""
        return self._per_snapshot(snapshot)[0]

    def moment(self) -> Moment:
        """Read the numbers of the latest update now (the interface and TCP counters, the
        doctor's last verdicts, which this may start again)."""
        version = self.version()
        with self._lock:
            latest, pass_seconds = self._latest, self._pass_seconds
        errors = 0
        snapshot = latest.snapshot if latest is not None else None
        counters: Mapping[InterfaceKey, Counters] = {}
        health: dict[str, TcpHealth] = {}
        reports: tuple[ContainerReport, ...] = ()
        if snapshot is not None:
            try:
                counters = self._counters(snapshot)
            except Exception:  # counters vanish with their namespaces: say so, keep the rest
                errors += 1
            health = read_tcp(snapshot, self._health)
            reports = self._doctor.reports(snapshot)
        with self._lock:
            self._errors += errors
            total = self._errors + self._doctor.failures
        return Moment(version, snapshot, counters, health, reports, pass_seconds, total)

    def families(self, moment: Moment) -> Iterator[Metric]:
        """The metric families of ``moment``, in the exposition's order."""
        snapshot = moment.snapshot
        if snapshot is not None:
            labelled = self.labelled(snapshot)
            yield from counter_families(snapshot, moment.counters, labelled)
            yield from tcp_families(snapshot, moment.health)
        yield from self.inventory_families(moment)
        yield from tail_families(moment)

    def inventory_families(self, moment: Moment) -> list[Metric]:
        """The families that change only with the snapshot or the verdicts: the info
        and the doctor's, built once for them."""
        if moment.snapshot is None:
            return [doctor_family(()), skipped_family(())]
        info = self._per_snapshot(moment.snapshot)[1]
        return [info, *self._doctor_families(moment.reports)]

    def describe(self) -> list[Metric]:
        return []  # nothing to pre-register: registering must not collect

    def collect(self) -> Iterator[Metric]:
        return self.families(self.moment())


def tail_families(moment: Moment) -> list[Metric]:
    """The exporter's own gauges, last in the exposition.  Pure."""
    duration = GaugeMetricFamily(
        "cnet_collect_duration_seconds",
        "How long the live inventory's last full read of the host took.",
    )
    if moment.pass_seconds is not None:
        duration.add_metric([], moment.pass_seconds)
    errors = CounterMetricFamily(
        "cnet_scrape_errors",
        "Scrapes or doctor runs where part of the data could not be read.",
        value=float(moment.errors),
    )
    return [duration, errors]
