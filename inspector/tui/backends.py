"""Where the TUI's actions get their data: ping, capture, the firewall rules, the doctor,
Docker's network list.

Plain callables, injected through ``make_app`` so tests (and the screenshots) run them
on recorded data; the live ones here only wrap ``inspector.actions`` (ping, capture),
``inspector.rules``, ``inspector.doctor`` and ``inspector.collect.connections``.  Every one
of them is called from a thread worker, never on the UI thread, and none changes the host.
No Textual here; the Docker reader is imported
when first called, so the TUI on a saved snapshot loads no collector.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from inspector.actions.capture import Capture
from inspector.actions.capture_plan import plan_capture
from inspector.actions.ping import plan_ping, run_ping
from inspector.doctor import diagnose
from inspector.doctor.offline import offline_reports
from inspector.model.queries import namespace_owner
from inspector.model.snapshot import Snapshot
from inspector.rules import read_rulesets

if TYPE_CHECKING:
    from inspector.actions.capture import CaptureCounts, Packet
    from inspector.actions.capture_plan import CapturePlan
    from inspector.actions.ping import PingEvent, PingPlan
    from inspector.collect.connections import Connections
    from inspector.collect.tracefs import DropProbe
    from inspector.doctor import ContainerReport
    from inspector.model.snapshot import TcpHealth
    from inspector.rules import Rulesets

PING_INTERVAL_S = 1.0
PING_TIMEOUT_S = 1.0


class PingSession(NamedTuple):
    """A resolved ping (for the header) and its events, the last one a ``PingSummary``."""

    plan: PingPlan
    events: Iterator[PingEvent]


Pinger = Callable[[Snapshot, str, "str | None", threading.Event], PingSession]
"""``(snapshot, container, target or None for the gateway, stop) -> PingSession``; raises
``PingError`` (one line) when it cannot start.  Runs until ``stop`` is set."""


class CaptureSource(Protocol):
    """What the capture screen reads (``inspector.actions.capture.Capture``; a fake in
    the tests and screenshots)."""

    plan: CapturePlan
    linktypes: list[int]
    problem: str | None

    def read(self, timeout: float) -> list[Packet]: ...

    def drain(self) -> list[Packet]: ...

    def counts(self) -> CaptureCounts: ...

    def close(self) -> None: ...


Capturer = Callable[[Snapshot, str, str], CaptureSource]
"""``(snapshot, item, filter) -> CaptureSource`` with its handles open; raises
``CaptureError`` (one line) when it cannot start.  The caller closes it."""

RulesReader = Callable[[], "Rulesets"]
"""Read the host's rulesets now; raises ``RulesUnavailable`` (one line)."""

NetworksReader = Callable[[], "Sequence[Mapping[str, Any]]"]
"""Docker's network list now (``inspector.collect.engine.read_networks``): empty when
Docker cannot be asked."""

ConnectionsProgress = Callable[["Connections"], None]
ConnectionsReader = Callable[[Snapshot, str, ConnectionsProgress | None], "Connections"]
"""``(snapshot, container, progress) -> its sockets, flows and TCP health now`` (each part
says in its ``problem`` what could not be read); KeyError for a container the snapshot
lacks.  ``progress``, from the reading thread, hears of a first part of many flows."""
HealthReader = Callable[[Snapshot, str], "TcpHealth | None"]
"""``(snapshot, container) -> the TCP/UDP counters of its namespace now`` (None: not
readable); KeyError for a container the snapshot lacks."""
DropsStarter = Callable[[], "tuple[DropProbe | None, str | None]"]
"""Start a drop-reason probe for a ping (``collect.tracefs.start_probe``): the probe, or
None and the one line that says why not."""

Doctor = Callable[[Snapshot, Sequence[str], bool], "Sequence[ContainerReport]"]
"""``(snapshot, names or () for all, ping the gateways?) -> one report per container``."""


@dataclass(frozen=True)
class Backends:
    """What the actions call.  ``ping``/``read_rules`` None: the action is shown greyed
    (a saved snapshot has no live host behind it).  ``live``: the doctor's facts
    (ip_forward, rules, pings) come from this host."""

    ping: Pinger | None
    read_rules: RulesReader | None
    doctor: Doctor
    live: bool
    read_networks: NetworksReader | None = None
    """None: the networks view shows what the snapshot's containers say."""
    capture: Capturer | None = None
    """None: greyed (a saved snapshot, or a remote host's workloads)."""
    read_connections: ConnectionsReader | None = None
    """None: the Connections view needs the live host (shown greyed)."""
    drops: DropsStarter | None = None
    """None: a ping names no drop reasons (a saved snapshot, or a recorded pinger)."""
    read_health: HealthReader | None = None
    """None: the detail shows no TCP health rates (a saved snapshot)."""


def live_ping(
    snapshot: Snapshot, container: str, target: str | None, stop: threading.Event
) -> PingSession:
    """Ping from the container's namespace once a second until ``stop``, like ``ping``."""
    plan = plan_ping(snapshot, container, target or None)
    events = run_ping(plan, count=None, interval=PING_INTERVAL_S, timeout=PING_TIMEOUT_S, stop=stop)
    return PingSession(plan, events)


def live_capture(snapshot: Snapshot, item: str, expression: str) -> CaptureSource:
    """Every interface of the workload, or the host interface, with ``expression``."""
    return Capture(plan_capture(snapshot, item), expression)


def live_read_rules() -> Rulesets:
    """IPv4 and IPv6 rules: in a view, a DROP in ip6tables is as much the user's problem."""
    return read_rulesets(ipv6=True)


def live_doctor(snapshot: Snapshot, names: Sequence[str], ping: bool) -> list[ContainerReport]:
    return diagnose(snapshot, names, ping=ping)


def offline_doctor(snapshot: Snapshot, names: Sequence[str], ping: bool) -> list[ContainerReport]:
    """``cnet doctor --from``'s verdicts: on the facts the saved snapshot records; what it
    does not record skips, and says so."""
    return offline_reports(snapshot, names)


def live_drops() -> tuple[DropProbe | None, str | None]:
    from inspector.collect.tracefs import start_probe  # why: only on the live host

    return start_probe()


def live_read_networks() -> list[dict[str, Any]]:
    from inspector.collect.engine import read_networks  # why: only on the live host

    return read_networks()


def live_read_connections(
    snapshot: Snapshot, container: str, progress: ConnectionsProgress | None = None
) -> Connections:
    """The sockets of the container's namespace, its flows and TCP health (sock_diag,
    conntrack, /proc/PID/net): one workload, read when asked."""
    from inspector.collect.connections import read_connections  # why: only on the live host

    found = snapshot.container(container)
    if found is None:
        raise KeyError(container)
    owner = namespace_owner(snapshot, found)
    addresses = [*owner.ips, *(n.ipv6 for n in owner.networks if n.ipv6)]
    return read_connections(
        owner.pid, addresses, established=owner.network_mode != "host", progress=progress
    )


def live_read_health(snapshot: Snapshot, container: str) -> TcpHealth | None:
    """The counters of the container's namespace (its owner's, under ``container:X``)."""
    from inspector.collect.snmp import read_health  # why: only on the live host

    found = snapshot.container(container)
    if found is None:
        raise KeyError(container)
    pid = namespace_owner(snapshot, found).pid
    return read_health(pid) if pid is not None else None


def default_backends(live: bool) -> Backends:
    if live:
        return Backends(
            live_ping,
            live_read_rules,
            live_doctor,
            live=True,
            read_networks=live_read_networks,
            capture=live_capture,
            read_connections=live_read_connections,
            drops=live_drops,
            read_health=live_read_health,
        )
    return Backends(None, None, offline_doctor, live=False)
