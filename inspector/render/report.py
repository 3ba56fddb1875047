"""The report's content as plain tables, shared by the Markdown and HTML renderers.

Each renderer only decides how a table looks; what goes in it is decided once here.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.model import Container, Interface, Snapshot
from inspector.paths import bare_address, container_paths, container_summary


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ContainerSection:
    name: str
    summary: str
    paths: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]


def _dash(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def summary_lines(s: Snapshot) -> list[str]:
    running = sum(1 for c in s.containers if c.running)
    ports = sum(len(b.ports) for b in s.bridges)
    return [
        f"Host {s.hostname}, taken at {s.taken_at} (schema {s.schema_version})",
        f"{_count(len(s.containers), 'container')} ({running} running), "
        f"{_count(len(s.host.interfaces), 'host interface')}, "
        f"{_count(len(s.bridges), 'bridge')} with {_count(ports, 'port')}, "
        f"{_count(len(s.host.routes), 'host route')}",
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _ports(c: Container) -> str:
    return ", ".join(
        f"{p.host_ip or '*'}:{p.host_port}->{p.container_port}/{p.protocol}"
        if p.host_port
        else f"{p.container_port}/{p.protocol}"
        for p in c.ports
    )


def _label(i: Interface) -> str:
    if i.container:
        return f"{i.container}:{i.container_interface}"
    if i.peer is not None:
        return f"peer {i.peer.name}"
    if i.parent is not None:
        return f"on {i.parent.name}"
    return ""


def tables(s: Snapshot) -> list[Table]:
    return [
        Table(
            "Containers",
            ("Name", "State", "Network mode", "IPs", "Ports"),
            tuple(
                (c.name, c.state, c.network_mode, ", ".join(c.ips), _ports(c)) for c in s.containers
            ),
        ),
        Table(
            "Host interfaces",
            ("Name", "Index", "Kind", "State", "MTU", "MAC", "Addresses", "Master", "Container"),
            tuple(
                (
                    i.name,
                    str(i.ifindex),
                    _dash(i.kind),
                    i.state,
                    _dash(i.mtu),
                    _dash(i.mac),
                    ", ".join(i.addresses),
                    _dash(i.master),
                    _label(i),
                )
                for i in s.host.interfaces
            ),
        ),
        Table(
            "Host routes (main table)",
            ("Destination", "Gateway", "Device", "Scope", "Protocol", "Metric"),
            tuple(
                (r.dst, r.gateway or "direct", _dash(r.dev), r.scope, r.protocol, _dash(r.metric))
                for r in s.host.routes
            ),
        ),
        Table(
            "Bridge ports",
            ("Bridge", "Port", "State", "Container", "Container interface"),
            tuple(
                (b.name, p.name, p.state, _dash(p.container), _dash(p.container_interface))
                for b in s.bridges
                for p in b.ports
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
                for b in s.bridges
            ),
        ),
    ]


def container_sections(s: Snapshot) -> list[ContainerSection]:
    sections = []
    for c in s.containers:
        facts = [
            ("id", c.id[:12]),
            ("image", c.image),
            ("state", c.state),
            ("network mode", c.network_mode),
        ]
        facts += [
            (
                f"network {n.name}",
                f"ip {_dash(n.ip)}, gateway {_dash(n.gateway)}, mac {_dash(n.mac)}",
            )
            for n in c.networks
        ]
        if c.ports:
            facts.append(("ports", _ports(c)))
        facts += [
            (
                f"route {r.dst}",
                f"via {bare_address(r.gateway)}" if r.gateway else f"direct on {_dash(r.dev)}",
            )
            for r in c.routes
        ]
        sections.append(
            ContainerSection(
                name=c.name,
                summary=container_summary(s, c),
                paths=tuple(container_paths(s, c)),
                facts=tuple(facts),
            )
        )
    return sections
