"""What changed between two snapshots, as plain data: ``diff(old, new) -> Diff``.

Pure, so it is tested on recorded pairs, and the same ``Diff`` feeds ``cnet diff`` (text
and JSON) and the TUI, which marks the containers, host interfaces and bridges named in
``Diff.containers`` / ``.interfaces`` / ``.bridges``.  Items are matched by name (a
container by its name, an interface by its namespace and name, a route by destination,
gateway, device and metric); the time a snapshot was taken, and the rates it recorded
(measurements, not state), are never a change; nor are flows and TCP counters, while a
listener that appeared or vanished in a namespace is.  Rules are compared line by line per
source, without their counters.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from inspector.model.snapshot import (
    Container,
    Interface,
    RecordedConnections,
    RecordedListener,
    Route,
    RulesetText,
    Snapshot,
)
from inspector.model.words import natural_key, ports_label
from inspector.rules.read import parse_captured

Kind = Literal["added", "removed", "changed"]

SECTIONS = (
    "containers",
    "interfaces",
    "addresses",
    "routes",
    "bridge ports",
    "listeners",
    "rules",
)
"""The order the changes are listed in, most telling first."""

SIGNS = {"added": "+", "removed": "-", "changed": "~"}


@dataclass(frozen=True)
class Change:
    """One difference.  ``subject`` names the item (``cnetlab-bridge``, ``host veth6e4``,
    ``cnetlab-bridge eth0``); ``detail`` says what about it, in words."""

    section: str
    kind: Kind
    subject: str
    detail: str = ""


@dataclass(frozen=True)
class Diff:
    """Every change, in ``SECTIONS`` order; ``notes``: what could not be compared."""

    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    containers: frozenset[str] = field(default_factory=frozenset)
    """Names of containers (in either snapshot) that changed, or whose links did."""
    interfaces: frozenset[str] = field(default_factory=frozenset)
    """Host interfaces that appeared, vanished or changed (bridges included)."""
    bridges: frozenset[str] = field(default_factory=frozenset)
    """Bridges whose ports changed state, joined or left."""

    @property
    def equal(self) -> bool:
        return not self.changes


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """The changes from ``old`` to ``new``."""
    changes: list[Change] = []
    containers: set[str] = set()
    interfaces: set[str] = set()
    bridges: set[str] = set()
    notes: list[str] = []
    if old.hostname != new.hostname:
        notes.append(f"the snapshots are of different hosts: {old.hostname} and {new.hostname}")

    old_c = {c.name: c for c in old.containers}
    new_c = {c.name: c for c in new.containers}
    for name in _merged(old_c, new_c):
        found = list(_container_changes(old_c.get(name), new_c.get(name)))
        changes += found
        if found:
            containers.add(name)

    touched: set[str] = set()  # host interfaces that changed
    changes += _interface_changes(
        "host", old.host.interfaces, new.host.interfaces, bridged=True, touched=touched
    )
    for name in _merged(old_c, new_c):  # a shared namespace is its owner's: listed once
        a, b = old_c.get(name), new_c.get(name)
        if (a is None or a.netns_shared_with is None) and (
            b is None or b.netns_shared_with is None
        ):
            own = _interface_changes(
                name, a.interfaces if a else (), b.interfaces if b else (), bridged=False
            )
            own += _route_changes(name, a.routes if a else (), b.routes if b else ())
            changes += own
            if own:
                containers.add(name)
    changes += _route_changes("host", old.host.routes, new.host.routes)
    for snap in (old, new):
        for i in snap.host.interfaces:
            if i.name in touched:
                if i.container:
                    containers.add(i.container)
                if i.master:
                    bridges.add(i.master)
    interfaces |= touched

    new_ports = {(br.name, p.name): p for br in new.bridges for p in br.ports}
    for br in old.bridges:  # joining or leaving a bridge is an interface's "moved bridge"
        for p in br.ports:
            q = new_ports.get((br.name, p.name))
            if q is not None and q.state != p.state:
                subject = f"{br.name} {p.name}"
                changes.append(
                    Change("bridge ports", "changed", subject, f"{p.state} -> {q.state}")
                )
                bridges.add(br.name)
                interfaces.add(p.name)
                containers.update(x for x in (p.container, q.container) if x)

    if old.connections is not None and new.connections is not None:
        found = _listener_changes(old.connections, new.connections)
        changes += found
        containers.update(ch.subject for ch in found)

    rule_changes, rule_notes = _rule_changes(old.rulesets, new.rulesets)
    changes += rule_changes
    notes += rule_notes
    order = {s: n for n, s in enumerate(SECTIONS)}
    return Diff(
        changes=tuple(sorted(changes, key=lambda ch: order[ch.section])),
        notes=tuple(notes),
        containers=frozenset(containers),
        interfaces=frozenset(interfaces),
        bridges=frozenset(bridges),
    )


def _listener_words(x: RecordedListener) -> str:
    where = f"[{x.address}]" if ":" in x.address else x.address
    return f"{x.protocol} {where}:{x.port}" + (f" ({x.process})" if x.process else "")


def _listener_changes(old: RecordedConnections, new: RecordedConnections) -> list[Change]:
    """A listener that appeared or vanished in a namespace both snapshots read (a
    namespace only one of them has is the container's own change).  Flows and counters
    are measurements: never a change."""
    out: list[Change] = []
    before = {n.container: n for n in old.namespaces}
    for n in new.namespaces:
        a = before.get(n.container)
        if a is None or a.problem or n.problem:
            continue
        was = {(x.protocol, x.address, x.port): x for x in a.listeners}
        now = {(x.protocol, x.address, x.port): x for x in n.listeners}
        for key in sorted(now.keys() - was.keys(), key=lambda k: (k[2], k[0], k[1])):
            out.append(Change("listeners", "added", n.container, _listener_words(now[key])))
        for key in sorted(was.keys() - now.keys(), key=lambda k: (k[2], k[0], k[1])):
            out.append(Change("listeners", "removed", n.container, _listener_words(was[key])))
    return out


def _merged(old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    """Keys of either, in natural order (``hx-2`` before ``hx-10``)."""
    return sorted({*old, *new}, key=natural_key)


# -- containers -----------------------------------------------------------------------


def _container_changes(a: Container | None, b: Container | None) -> Iterator[Change]:
    if a is None and b is not None:
        yield Change("containers", "added", b.name, f"{b.state}, image {b.image}")
        return
    if b is None and a is not None:
        yield Change("containers", "removed", a.name, f"was {a.state}, image {a.image}")
        return
    assert a is not None and b is not None
    name = a.name
    if a.id != b.id:
        yield Change("containers", "changed", name, f"recreated: id {a.id[:12]} -> {b.id[:12]}")
    if a.image != b.image:
        yield Change("containers", "changed", name, f"image {a.image} -> {b.image}")
    if a.state != b.state:
        yield Change("containers", "changed", name, f"state {a.state} -> {b.state}")
    elif a.pid != b.pid and a.pid is not None and b.pid is not None:
        yield Change("containers", "changed", name, f"restarted: pid {a.pid} -> {b.pid}")
    if a.network_mode != b.network_mode:
        yield Change(
            "containers", "changed", name, f"network mode {a.network_mode} -> {b.network_mode}"
        )
    old_nets = {n.name: n for n in a.networks}
    new_nets = {n.name: n for n in b.networks}
    for net in _merged(old_nets, new_nets):
        x, y = old_nets.get(net), new_nets.get(net)
        if x is None and y is not None:
            yield Change("containers", "changed", name, f"joined network {net} ({y.ip or 'no ip'})")
        elif y is None and x is not None:
            yield Change("containers", "changed", name, f"left network {net}")
        elif x is not None and y is not None and x.ip != y.ip:
            yield Change("containers", "changed", name, f"ip on {net} {x.ip} -> {y.ip}")
    old_ports = ports_label(replace(a, ports=tuple(p for p in a.ports if p not in b.ports)))
    new_ports = ports_label(replace(b, ports=tuple(p for p in b.ports if p not in a.ports)))
    if new_ports:
        yield Change("containers", "changed", name, f"published {new_ports}")
    if old_ports:
        yield Change("containers", "changed", name, f"no longer published {old_ports}")


# -- interfaces, addresses, routes ----------------------------------------------------


def _bridge_word(master: str | None) -> str:
    return master or "no bridge"


def _interface_changes(
    where: str,
    old: Iterable[Interface],
    new: Iterable[Interface],
    *,
    bridged: bool,
    touched: set[str] | None = None,
) -> list[Change]:
    """``bridged``: host links, whose master is the bridge they sit on.  The names of the
    links that changed are added to ``touched``."""
    a = {i.name: i for i in old}
    b = {i.name: i for i in new}
    out: list[Change] = []
    for name in _merged(a, b):
        x, y = a.get(name), b.get(name)
        subject = f"{where} {name}"
        found: list[Change] = []
        if x is None and y is not None:
            found.append(Change("interfaces", "added", subject, _describe_link(y, bridged)))
        elif y is None and x is not None:
            found.append(Change("interfaces", "removed", subject, _describe_link(x, bridged)))
        elif x is not None and y is not None:
            if bridged and x.master != y.master:
                moved = f"moved bridge: {_bridge_word(x.master)} -> {_bridge_word(y.master)}"
                found.append(Change("interfaces", "changed", subject, moved))
            if x.state != y.state:
                found.append(
                    Change("interfaces", "changed", subject, f"state {x.state} -> {y.state}")
                )
            if x.mtu != y.mtu:
                found.append(Change("interfaces", "changed", subject, f"mtu {x.mtu} -> {y.mtu}"))
            found += [
                Change("addresses", "added", subject, ip)
                for ip in y.addresses
                if ip not in x.addresses
            ]
            found += [
                Change("addresses", "removed", subject, ip)
                for ip in x.addresses
                if ip not in y.addresses
            ]
        if found and touched is not None:
            touched.add(name)
        link = y or x
        if bridged and link is not None and link.container:  # whose veth, in words
            whose = f" (the veth of {link.container} {link.container_interface or ''}".rstrip()
            found = [
                replace(c, detail=c.detail + whose + ")") if c.kind == "changed" else c
                for c in found
            ]
        out += found
    return out


def _describe_link(i: Interface, bridged: bool) -> str:
    words = [i.kind or "device", i.state]
    if bridged and i.master:
        words.append(f"on {i.master}")
    if i.container:
        words.append(f"to {i.container} {i.container_interface or ''}".rstrip())
    if i.addresses:
        words.append(" ".join(i.addresses))
    return ", ".join(words)


def route_text(r: Route) -> str:
    """``default via 172.17.0.1 dev eth0`` (as ``ip route`` says it)."""
    parts = [r.dst]
    if r.gateway:
        parts.append(f"via {r.gateway}")
    if r.dev:
        parts.append(f"dev {r.dev}")
    if r.metric is not None:
        parts.append(f"metric {r.metric}")
    return " ".join(parts)


def _route_changes(where: str, old: Iterable[Route], new: Iterable[Route]) -> list[Change]:
    a = {route_text(r) for r in old}
    b = {route_text(r) for r in new}
    return [Change("routes", "added", where, t) for t in sorted(b - a)] + [
        Change("routes", "removed", where, t) for t in sorted(a - b)
    ]


# -- rules ----------------------------------------------------------------------------

_COUNTERS = re.compile(r"^\[\d+:\d+\] | \[\d+:\d+\]$")


def rule_lines(rulesets: tuple[RulesetText, ...]) -> tuple[list[tuple[str, str]], list[str]]:
    """Each rule and chain policy once, as ``(table, "CHAIN: rule")`` in the words ``cnet
    rules`` uses, counters dropped, and what could not be parsed.

    The texts are parsed together, as ``cnet rules`` reads them: the nft listing's copy of
    iptables-nft's tables is left out, so a Docker rule is one line, not also raw JSON.
    """
    parsed = parse_captured([(r.source, r.text) for r in rulesets])
    lines: list[tuple[str, str]] = []
    for table in parsed.tables:
        for chain in table.chains:
            if chain.policy is not None:
                lines.append((table.label, f"{chain.name}: policy {chain.policy}"))
            for rule in chain.rules:
                lines.append((table.label, f"{chain.name}: {_COUNTERS.sub('', rule.spec)}"))
    return lines, list(parsed.warnings)


def _rule_changes(
    old: tuple[RulesetText, ...], new: tuple[RulesetText, ...]
) -> tuple[list[Change], list[str]]:
    notes: list[str] = []
    if not old and not new:
        return [], ["neither snapshot recorded the firewall rules: not compared"]
    if not old or not new:
        side = "new" if not old else "old"
        return [], [f"the firewall rules are recorded only in the {side} snapshot: not compared"]
    a, b = {r.source for r in old}, {r.source for r in new}
    for source in sorted(a ^ b):
        side = "new" if source in b else "old"
        notes.append(f"{source} rules are recorded only in the {side} snapshot: not compared")
    x, warned = rule_lines(tuple(r for r in old if r.source in b))
    y, warned_new = rule_lines(tuple(r for r in new if r.source in a))
    notes += list(dict.fromkeys([*warned, *warned_new]))
    before, after = Counter(x), Counter(y)
    changes = [
        Change("rules", "added", table, line) for table, line in _in_order(y, after - before)
    ]
    changes += [
        Change("rules", "removed", table, line) for table, line in _in_order(x, before - after)
    ]
    return changes, notes


def _in_order(
    lines: list[tuple[str, str]], wanted: Counter[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``wanted``'s lines (with their multiplicity) in the order they appear in ``lines``."""
    left = Counter(wanted)
    out = []
    for line in lines:
        if left[line] > 0:
            left[line] -= 1
            out.append(line)
    return out
