"""The report's content as plain data, shared by the Markdown and HTML renderers.

Each renderer only decides how it looks; what goes in is decided once here, in the
TUI's words (``inspector.model.words``: ``bridge``, ``container:NAME``, every network), in
natural order (``hx-2`` before ``hx-10``), with the doctor's verdict for each container.
The doctor is the offline one: a report never sends traffic.  Rates are the ones the
snapshot recorded (``cnet snapshot --rates``, the TUI's export), in the TUI's cells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from inspector.doctor import ContainerReport, worst_status
from inspector.doctor.offline import not_checked, offline_reports
from inspector.live.rates import rate_cells, trouble_words
from inspector.model.paths import (
    container_paths,
    container_summary,
    is_loopback,
    loopback_only,
    primary_address,
    route_destination,
    route_gateway,
    route_words,
)
from inspector.model.snapshot import Container, Interface, PublishedPort, Rate, Snapshot
from inspector.model.words import natural_key, network_label, ports_label

Status = Literal["pass", "warn", "fail", "skip"]

VERDICT_WORDS = {"fail": "fail", "warn": "warn", "pass": "ok", "skip": "nothing to check"}
"""A container's worst status in ``cnet doctor``'s words."""


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Problem:
    """A failing or warning check, with what it looked at and the fix it suggests."""

    check: str
    status: Status
    summary: str
    evidence: tuple[tuple[str, str], ...]
    fix: str | None


@dataclass(frozen=True)
class Verdict:
    """The doctor's word on one container: ``status`` its worst check (``stopped`` when it
    is not running), ``headline`` as ``cnet doctor`` says it."""

    status: Status | Literal["stopped"]
    headline: str
    problems: tuple[Problem, ...]
    unchecked: tuple[tuple[str, str], ...] = ()
    """(check, why) for each check skipped for want of a fact, in the doctor's words."""


@dataclass(frozen=True)
class Hop:
    """One box of a path diagram: ``eth0`` / ``172.17.0.2``; ``bad`` draws it as broken."""

    label: str
    detail: str
    role: Literal["container", "veth", "bridge", "host", "device", "missing"]
    bad: bool = False


@dataclass(frozen=True)
class ContainerSection:
    name: str
    state: str
    network: str
    summary: str
    paths: tuple[str, ...]
    diagrams: tuple[tuple[Hop, ...], ...]
    facts: tuple[tuple[str, str], ...]
    verdict: Verdict


def _dash(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def by_name(containers: tuple[Container, ...]) -> list[Container]:
    return sorted(containers, key=lambda c: natural_key(c.name))


def summary_lines(s: Snapshot) -> list[str]:
    running = sum(1 for c in s.containers if c.running)
    ports = sum(len(b.ports) for b in s.bridges)
    return [
        f"Host {s.hostname}, taken at {s.taken_at} (schema {s.schema_version})",
        f"{_count(len(s.containers), 'container')} ({running} running), "
        f"{_count(len(s.host.interfaces), 'host interface')}, "
        f"{_count(len(s.bridges), 'bridge')} with {_count(ports, 'port')}, "
        f"{_count(len(s.host.routes), 'host route')}",
        rates_line(s),
    ]


# -- rates ----------------------------------------------------------------------------

RATES_NOT_MEASURED = (
    "Rates not measured: run cnet snapshot --rates 1, or export (e) from the live TUI"
)
RATE_HEADER = ("Rx/s", "Tx/s")
"""The TUI's rate columns; the cells are its cells (``rate_cells``)."""


def rates_line(s: Snapshot) -> str:
    """Over what interval the rates were measured, and whether anything dropped, or that
    they were not measured."""
    if s.rates is None:
        return RATES_NOT_MEASURED
    troubled = len(trouble_table(s).rows)
    where = (
        f"drops or errors on {troubled} (see Drops and errors)"
        if troubled
        else "no drops or errors"
    )
    return f"Rates over {_seconds(s.rates.interval)} s in bytes a second (K = 1024): {where}"


def _seconds(value: float) -> str:
    return f"{value:.1f}" if value >= 0.1 else f"{value:.3f}"


RATES_AT = 3
"""Where the rate columns go in the Containers and Host interfaces tables: after State,
as in the TUI's panes."""


def _rated(header: tuple[str, ...], s: Snapshot) -> tuple[str, ...]:
    """``header`` with the rate columns, when the snapshot has rates."""
    if s.rates is None:
        return header
    return (*header[:RATES_AT], *RATE_HEADER, *header[RATES_AT:])


def _rate_cells(by: dict[str, Rate] | None, name: str) -> tuple[str, ...]:
    """``name``'s Rx/s and Tx/s cells: none when nothing was measured, dashes for no rate
    (stopped, no interface of its own)."""
    if by is None:
        return ()
    rate = by.get(name)
    return rate_cells(rate) if rate is not None else ("-", "-")


def _container_rates(s: Snapshot) -> dict[str, Rate] | None:
    return None if s.rates is None else {r.container: r.rate for r in s.rates.containers}


def _host_rates(s: Snapshot) -> dict[str, Rate] | None:
    return None if s.rates is None else {r.name: r.rate for r in s.rates.host}


def trouble_table(s: Snapshot) -> Table:
    """Containers and host links that dropped or erred over the interval, in the words of
    the TUI's detail (``drops 3/s (in 3, out 0)``)."""
    rows: list[tuple[str, ...]] = []
    for kind, by in (("container", _container_rates(s)), ("host link", _host_rates(s))):
        for name, r in sorted((by or {}).items(), key=lambda item: natural_key(item[0])):
            if r.dropped > 0 or r.errors > 0:
                words = (
                    f"{trouble_words('drops', r.rx_dropped, r.tx_dropped)}, "
                    f"{trouble_words('errors', r.rx_errors, r.tx_errors)}"
                )
                rows.append((kind, name, words))
    return Table("Drops and errors", ("Where", "Name", "Per second"), tuple(rows))


# -- the doctor's verdicts ------------------------------------------------------------


def verdicts(s: Snapshot) -> dict[str, Verdict]:
    """Every container's verdict from the offline doctor, on the facts the snapshot
    records (the live doctor's, when taken on the host): ``cnet doctor --from``'s."""
    return {r.name: _verdict(r) for r in offline_reports(s)}


def _verdict(r: ContainerReport) -> Verdict:
    problems = tuple(
        Problem(c.id, c.status, c.summary, c.evidence, c.fix)
        for c in r.checks
        if c.status in ("fail", "warn")
    )
    if not r.running:
        return Verdict("stopped", f"not running ({r.state})", problems)
    status = worst_status(r)
    first = r.first_failure
    headline = f"FAIL at {first.id}" if first is not None else VERDICT_WORDS[status]
    return Verdict(status, headline, problems, tuple(not_checked([r])))


def verdict_tally(found: dict[str, Verdict]) -> list[tuple[str, int]]:
    """``[("fail", 1), ("ok", 5), ...]``: how many containers got each verdict."""
    order = ("fail", "warn", "pass", "skip", "stopped")
    words = {**VERDICT_WORDS, "stopped": "not running"}
    counts = {k: sum(1 for v in found.values() if v.status == k) for k in order}
    return [(words[k], n) for k, n in counts.items() if n]


def doctor_note(found: dict[str, Verdict]) -> str:
    """What the verdicts rest on, and each check that was skipped for want of a fact
    with why, in the words ``cnet doctor`` uses (counted in containers)."""
    note = (
        "The doctor's verdicts are those of cnet doctor --from on this snapshot: a report "
        "sends no traffic and judges from the facts recorded with it."
    )
    counted: dict[tuple[str, str], int] = {}
    for v in found.values():
        for item in v.unchecked:
            counted[item] = counted.get(item, 0) + 1
    if not counted:
        return note + " No check was skipped for want of a fact."
    skipped = "; ".join(
        f"{check} {why} ({_count(n, 'container')})" for (check, why), n in counted.items()
    )
    return f"{note} Skipped: {skipped}."


# -- tables ---------------------------------------------------------------------------


def _label(i: Interface) -> str:
    if i.container:
        return f"{i.container} {i.container_interface or ''}".rstrip()
    if i.peer is not None:
        return f"peer {i.peer.name}"
    if i.parent is not None:
        return f"on {i.parent.name}"
    return ""


def container_table(s: Snapshot, found: dict[str, Verdict]) -> Table:
    """The TUI's containers pane, with the doctor's verdict in words."""
    rates = _container_rates(s)
    return Table(
        "Containers",
        _rated(("Doctor", "Name", "State", "Runtime", "Network", "IPs", "Ports"), s),
        tuple(
            (
                found[c.name].headline if c.name in found else "-",
                c.name,
                c.state,
                *_rate_cells(rates, c.name),
                c.runtime,
                network_label(c, s),
                ", ".join(c.ips),
                ports_label(c),
            )
            for c in by_name(s.containers)
        ),
    )


ANY_ADDRESS = ("0.0.0.0", "::")


def port_chain(s: Snapshot, c: Container, port: PublishedPort) -> tuple[str, str]:
    """What listens behind a published port inside the container's namespace, and the
    verdict: ``listening``, ``loopback only``, ``nothing listens`` or ``not recorded``."""
    owner = s.namespace_owner(c)
    found = s.connections.of(owner.name) if s.connections is not None else None
    if found is None or found.problem:
        return "-", "not recorded"
    here = [
        x for x in found.listeners if x.protocol == port.protocol and x.port == port.container_port
    ]
    reachable = [x for x in here if x.address in ANY_ADDRESS or x.address in owner.ips]
    if reachable:
        x = reachable[0]
        return f"{x.process or '?'} {x.address}:{x.port}", "listening"
    if here:
        return f"{here[0].process or '?'} {here[0].address}:{here[0].port}", "loopback only"
    return "none", "nothing listens"


def connection_tables(s: Snapshot) -> list[Table]:
    """Each namespace's listeners and each published port's chain, when recorded."""
    if s.connections is None:
        return []
    listeners = tuple(
        (n.container, x.protocol, x.address, str(x.port), _dash(x.process or None))
        for n in sorted(s.connections.namespaces, key=lambda n: natural_key(n.container))
        for x in n.listeners
    )
    chains: list[tuple[str, ...]] = []
    for c in by_name(s.containers):
        for p in c.ports:
            if p.host_port is None:
                continue
            listener, verdict = port_chain(s, c, p)
            host = f"{p.host_ip or '0.0.0.0'}:{p.host_port}/{p.protocol}"
            target = f"{c.ips[0] if c.ips else '?'}:{p.container_port}"
            chains.append((c.name, host, target, listener, verdict))
    return [
        Table("Listeners", ("Namespace of", "Proto", "Address", "Port", "Process"), listeners),
        Table(
            "Published ports",
            ("Container", "Host port", "Container port", "Listener", "Verdict"),
            tuple(chains),
        ),
    ]


def tables(s: Snapshot) -> list[Table]:
    """The host's side: interfaces, bridges and their ports, routes; then the listeners
    and published-port chains when the snapshot recorded them."""
    bridges = sorted(s.bridges, key=lambda b: natural_key(b.name))
    rates = _host_rates(s)
    return [
        Table(
            "Host interfaces",
            _rated(("Name", "Kind", "State", "MTU", "MAC", "Addresses", "Bridge", "Container"), s),
            tuple(
                (
                    i.name,
                    _dash(i.kind),
                    i.state,
                    *_rate_cells(rates, i.name),
                    _dash(i.mtu),
                    _dash(i.mac),
                    ", ".join(i.addresses),
                    _dash(i.master),
                    _label(i),
                )
                for i in sorted(s.host.interfaces, key=lambda i: natural_key(i.name))
            ),
        ),
        Table(
            "Bridges",
            ("Name", "State", "STP", "Addresses", "Ports"),
            tuple(
                (
                    b.name,
                    b.state,
                    "on" if b.stp else "off",
                    ", ".join(b.addresses),
                    str(len(b.ports)),
                )
                for b in bridges
            ),
        ),
        Table(
            "Bridge ports",
            ("Bridge", "Port", "State", "Container", "Container interface"),
            tuple(
                (b.name, p.name, p.state, _dash(p.container), _dash(p.container_interface))
                for b in bridges
                for p in sorted(b.ports, key=lambda p: natural_key(p.name))
            ),
        ),
        Table(
            "Host routes",
            ("Destination", "Gateway", "Device", "Scope", "Protocol", "Metric"),
            tuple(
                (
                    route_destination(r),
                    route_gateway(r),
                    _dash(r.dev),
                    r.scope,
                    r.protocol,
                    _dash(r.metric),
                )
                for r in s.host.routes
            ),
        ),
        *connection_tables(s),
    ]


# -- what needs attention ---------------------------------------------------------------

NAMED = 3
"""Containers named in one line of "Needs attention"; the rest are counted."""


@dataclass(frozen=True)
class Attention:
    """One finding (a headline and its first problem) and every container that has it: 200
    containers behind one too-small uplink MTU make one line, not 200."""

    names: tuple[str, ...]
    verdict: Verdict

    def who(self, name: Callable[[str], str] = str) -> str:
        """``web``; ``a, b, c and 197 others`` (each name as ``name`` writes it)."""
        shown = ", ".join(name(n) for n in self.names[:NAMED])
        rest = len(self.names) - NAMED
        return f"{shown} and {_count(rest, 'other')}" if rest > 0 else shown


def needing_attention(sections: list[ContainerSection]) -> list[Attention]:
    """The containers with a failing or warning check, those with the same finding
    together, in the order of their first container."""
    groups: dict[tuple[str, str], list[ContainerSection]] = {}
    for sec in sections:
        if sec.verdict.problems:
            key = (sec.verdict.headline, sec.verdict.problems[0].summary)
            groups.setdefault(key, []).append(sec)
    return [Attention(tuple(s.name for s in same), same[0].verdict) for same in groups.values()]


# -- each container -------------------------------------------------------------------

_UP = ("up", "unknown")


def path_hops(s: Snapshot, iface: Interface) -> tuple[Hop, ...]:
    """The boxes of one interface's path out: interface, host veth, bridge (or what is
    missing), as ``inspector.model.paths.interface_path`` says it in words."""
    head = Hop(
        iface.name,
        primary_address(iface.addresses) or "no address",
        "container",
        bad=iface.state not in _UP or not iface.addresses,
    )
    if iface.peer is not None and iface.peer.workload is not None:
        # a veth to another workload: its other end is the whole path, the host is not on it
        return (head, Hop(iface.peer.name, f"veth in {iface.peer.workload}", "container"))
    if iface.peer is not None:
        host = s.host_interface(iface.peer.name)
        veth = Hop(
            iface.peer.name,
            f"veth {host.state}" if host is not None else "veth",
            "veth",
            bad=host is not None and host.state not in _UP,
        )
        if iface.peer.bridge is None:
            return (head, veth, Hop("no bridge", "the veth is on no bridge", "missing", bad=True))
        bridge = s.bridge(iface.peer.bridge)
        if bridge is None:
            return (head, veth, Hop(iface.peer.bridge, "bridge", "bridge"))
        gateway = primary_address(bridge.addresses)
        return (
            head,
            veth,
            Hop(bridge.name, gateway or "no address", "bridge", bad=bridge.state not in _UP),
            Hop("host", "routing, NAT", "host"),
        )
    if iface.parent is not None:
        parent = s.host_interface(iface.parent.name)
        return (
            head,
            Hop(
                iface.parent.name,
                f"{iface.kind or 'link'} parent",
                "device",
                bad=parent is not None and parent.state not in _UP,
            ),
        )
    if iface.iflink is not None:
        return (head, Hop("host end not found", "no matching veth", "missing", bad=True))
    return (head,)


_HOST_STACK = Hop("host network", "the host's own interfaces and routes", "host")


def container_sections(s: Snapshot, found: dict[str, Verdict]) -> list[ContainerSection]:
    sections = []
    for c in by_name(s.containers):
        facts = [
            ("id", c.id[:12]),
            ("image", c.image),
            ("state", c.state),
            ("network mode", network_label(c, s)),
        ]
        facts += [
            (
                f"network {n.name}",
                f"ip {_dash(n.ip)}, gateway {_dash(n.gateway)}, mac {_dash(n.mac)}",
            )
            for n in c.networks
        ]
        if c.ports:
            facts.append(("ports", ports_label(c)))
        facts += [(f"route {route_destination(r)}", route_words(r)) for r in c.routes]
        owner = s.namespace_owner(c)
        running = c.running and owner.running
        diagrams = tuple(path_hops(s, i) for i in owner.interfaces if not is_loopback(i))
        if running and owner.netns_shared_with == "host":
            diagrams = ((Hop(c.name, "host network mode", "container"), _HOST_STACK),)
        elif running and loopback_only(owner):
            diagrams = ((Hop("lo", "loopback only", "container"),),)
        sections.append(
            ContainerSection(
                name=c.name,
                state=c.state,
                network=network_label(c, s),
                summary=container_summary(s, c),
                paths=tuple(container_paths(s, owner)) if running else (),
                diagrams=diagrams if running else (),
                facts=tuple(facts),
                verdict=found.get(c.name, Verdict("skip", "-", ())),
            )
        )
    return sections
