"""What the doctor reports: frozen dataclasses, shared by the checks, the CLI and the TUI.

Nothing here does I/O.  ``DoctorFacts`` holds every fact the checks read beyond the
snapshot, so the checks stay pure and run on recorded data in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from inspector.model.snapshot import Listener as Listener
from inspector.model.snapshot import PingRecord

if TYPE_CHECKING:
    from inspector.collect.tracefs import DropCount
    from inspector.model.snapshot import TcpHealth
    from inspector.rules import Rulesets

Status = Literal["pass", "warn", "fail", "skip"]

# The expert's walk, in order: the first failing step is the fault.  Each IPv4 step that
# has an IPv6 twin is followed by it (they skip when the container has no IPv6 address).
CHECK_IDS: tuple[str, ...] = (
    "interface",
    "veth",
    "bridge",
    "route",
    "route6",
    "gateway",
    "gateway6",
    "ip-forward",
    "ip6-forward",
    "forward-drop",
    "forward-drop6",
    "masquerade",
    "mtu",
    "ports",
    "dns",
    "tcp",
)

IPV6_CHECK_IDS = frozenset({"route6", "gateway6", "ip6-forward", "forward-drop6"})

CHECK_TITLES: Mapping[str, str] = {
    "interface": "container interface up and addressed",
    "veth": "host end (veth) exists, is up, on the right bridge",
    "bridge": "bridge up and holding the gateway address",
    "route": "default route via the gateway",
    "route6": "IPv6 default route via the gateway",
    "gateway": "gateway answers a ping from inside",
    "gateway6": "IPv6 gateway answers a ping from inside",
    "ip-forward": "host forwards IPv4 (net.ipv4.ip_forward)",
    "ip6-forward": "host forwards IPv6 (net.ipv6.conf.all.forwarding)",
    "forward-drop": "nothing in FORWARD / DOCKER-USER drops its traffic",
    "forward-drop6": "nothing in ip6tables' FORWARD / nft forward chains drops its IPv6 traffic",
    "masquerade": "its subnet has a MASQUERADE rule",
    "mtu": "MTUs agree along the path, up to the host's uplink",
    "ports": "each published port has its DNAT and a listener inside",
    "dns": "its resolver is set up and reachable (no query sent)",
    "tcp": "no listen queue overflows, retransmits within bounds",
}

UNCHECKED = "not checked: "
"""How the summary of every check skipped for want of a fact begins."""


def unchecked(what: str, why: str) -> str:
    """The one sentence for a check skipped because a fact was not read: the TUI, the
    reports, ``cnet doctor`` (live and ``--from``) and the exporter all show this one, so a
    skip reads the same wherever it is seen."""
    return f"{UNCHECKED}{what} ({why})"


def is_unchecked(check: Check) -> bool:
    """Skipped for want of a fact, not by design (no IPv6, host mode, ...)."""
    return check.status == "skip" and check.summary.startswith(UNCHECKED)


NOT_RECORDED = "not recorded in the snapshot: taken by an older cnet, or without root"

# The summary of a gateway check whose ping was not sent: verdicts made without it say so.
NOT_PINGED = unchecked(
    "the gateway was not pinged",
    "no ping is sent for the marks, the exporter, --no-ping or a saved snapshot",
)

_RANK: Mapping[str, int] = {"fail": 3, "warn": 2, "pass": 1, "skip": 0}


@dataclass(frozen=True)
class Check:
    """One step of the walk.  ``evidence``: (what was looked at, its value) pairs.

    ``fix`` is a command the operator could run; cnet never runs it.
    """

    id: str
    status: Status
    summary: str
    evidence: tuple[tuple[str, str], ...] = ()
    fix: str | None = None


@dataclass(frozen=True)
class ContainerReport:
    """Every check for one container, in the walk's order.

    ``state`` is Docker's (running, exited...); ``note`` says how the container is
    networked when that changes what was checked (host mode, ``container:X``, none).
    ``ping``/``ping6``: the gateway pings its gateway checks were judged from (None: none
    sent), so that what keeps a check (the TUI's marks) can record the fact behind it.
    """

    name: str
    state: str
    checks: tuple[Check, ...] = ()
    note: str = ""
    ping: GatewayPing | None = None
    ping6: GatewayPing | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def pinged(self) -> bool:
        """False when the gateway checks were left to a later run (``--no-ping``, the TUI's
        background marks): a pass then says nothing about the gateway."""
        return not any(c.summary == NOT_PINGED for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        """The step that breaks: the first failing check in the walk's order."""
        return next((c for c in self.checks if c.status == "fail"), None)

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)


def worst_status(report: ContainerReport) -> Status:
    """fail > warn > pass > skip: what the containers pane shows next to a name."""
    worst: Status = "skip"
    for c in report.checks:
        if _RANK[c.status] > _RANK[worst]:
            worst = c.status
    return worst


def display_order(report: ContainerReport) -> tuple[Check, ...]:
    """Failing checks first, then warnings, then the rest, each group in walk order."""
    return tuple(
        sorted(
            report.checks, key=lambda c: -_RANK[c.status] if c.status in ("fail", "warn") else -1
        )
    )


@dataclass(frozen=True)
class GatewayPing(PingRecord):
    """The outcome of pinging a namespace's gateway from inside it (what a snapshot records
    of it, ``PingRecord``), with the probe's evidence: the kernel's drop reasons during it."""

    drops: tuple[DropCount, ...] = ()
    drops_scope: str = ""  # "this ping's packets" or "host-wide count"


@dataclass(frozen=True)
class DnsFacts:
    """What the DNS check reads in a namespace: its resolv.conf and, on user-defined
    networks, the rules inside it (Docker's DNAT to the embedded resolver)."""

    resolv_conf: str | None = None
    problem: str | None = None  # why resolv_conf is None
    rulesets: Rulesets | None = None  # the namespace's own rules
    rules_problem: str | None = None
    texts: tuple[tuple[str, str], ...] = ()
    """The rules inside as their tools printed them, ``(source, text)``: what a snapshot
    records, so that a saved one is judged alike."""


@dataclass(frozen=True)
class DoctorFacts:
    """The facts beyond the snapshot.  None means "not known", and its check skips.

    ``pings`` (``pings6``) maps the name of the container that owns a namespace to its
    IPv4 (IPv6) gateway ping; ``rules_problem`` says why ``rulesets`` is None.  ``no_nat``
    maps Docker networks that have no MASQUERADE by design to the reason (internal, or
    masquerading turned off).  ``listeners`` maps a namespace owner to the sockets
    listening inside it, ``host_listeners`` are the host's own (docker-proxy); ``dns``
    maps a namespace owner to its resolver facts, ``tcp_health`` to its TCP/UDP counters.
    """

    ip_forward: str | None = None
    rulesets: Rulesets | None = None
    rules_problem: str | None = None
    pings: Mapping[str, GatewayPing] = field(default_factory=dict)
    no_nat: Mapping[str, str] = field(default_factory=dict)
    ip6_forward: str | None = None
    pings6: Mapping[str, GatewayPing] = field(default_factory=dict)
    listeners: Mapping[str, tuple[Listener, ...]] = field(default_factory=dict)
    host_listeners: tuple[Listener, ...] | None = None
    dns: Mapping[str, DnsFacts] = field(default_factory=dict)
    tcp_health: Mapping[str, TcpHealth] = field(default_factory=dict)
    pinged: bool = True  # False: the pings were not asked for (``--no-ping``, marks)
    drops_problem: str | None = None  # why the kernel's drop reasons were not read
    rp_filter: Mapping[str, int] = field(default_factory=dict)  # effective, by bridge
    missing: str | None = None
    """Why a fact absent from these maps is absent, when it is for one reason (a saved
    snapshot that does not record it); None on the live host, where each check knows."""
