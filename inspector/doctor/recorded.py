"""The doctor's facts kept in a snapshot, and read back from it.

A snapshot written on the live host (``cnet snapshot``, the TUI's export) records what the
doctor read beyond the links and routes: the sockets listening inside each namespace and
on the host, each namespace's resolv.conf and inner rules, ip_forward, the engine's
networks without NAT, and the gateway pings when they were sent.  ``cnet doctor --from``,
the reports and the TUI on a saved snapshot then judge from the same facts as the live
doctor did, so every output gives the same verdict for the same moment.  Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, replace

from inspector.doctor.model import NOT_RECORDED, DnsFacts, DoctorFacts, GatewayPing
from inspector.model.snapshot import (
    ExemptNetwork,
    HostFacts,
    Listener,
    NamespaceFacts,
    PingRecord,
    RulesetText,
    Snapshot,
)
from inspector.rules.read import parse_captured
from inspector.rules.recorded import NoRecordedRules, recorded


def record_facts(snapshot: Snapshot, facts: DoctorFacts) -> Snapshot:
    """``snapshot`` with ``facts`` kept: the host's in ``Snapshot.doctor_facts``, each
    namespace's with the container that owns it."""
    owners = set(facts.listeners) | set(facts.dns) | set(facts.pings) | set(facts.pings6)
    owners |= set(facts.tcp_health)
    containers = tuple(
        replace(c, doctor_facts=_namespace_facts(facts, c.name)) if c.name in owners else c
        for c in snapshot.containers
    )
    host = HostFacts(
        ip_forward=facts.ip_forward,
        ip6_forward=facts.ip6_forward,
        listeners=facts.host_listeners,
        no_nat=tuple(ExemptNetwork(n, why) for n, why in sorted(facts.no_nat.items())),
        rules_problem=facts.rules_problem,
        pinged=facts.pinged,
    )
    return replace(snapshot, containers=containers, doctor_facts=host)


def _namespace_facts(facts: DoctorFacts, owner: str) -> NamespaceFacts:
    dns = facts.dns.get(owner)
    return NamespaceFacts(
        listeners=facts.listeners.get(owner),
        resolv_conf=dns.resolv_conf if dns else None,
        resolv_problem=dns.problem if dns else None,
        rulesets=tuple(RulesetText(s, _steady(s, t)) for s, t in dns.texts)
        if dns and dns.texts
        else None,
        rules_problem=dns.rules_problem if dns else None,
        ping=_kept(facts.pings.get(owner)),
        ping6=_kept(facts.pings6.get(owner)),
        tcp_health=facts.tcp_health.get(owner),
    )


NamespacePings = Mapping[str, tuple[GatewayPing | None, GatewayPing | None]]
"""A namespace owner's name to its IPv4 and IPv6 gateway pings (None: not sent)."""


def record_pings(snapshot: Snapshot, pings: NamespacePings) -> Snapshot:
    """``snapshot`` with gateway pings sent after it was read kept: ``pings`` maps a
    namespace owner to its IPv4 and IPv6 ping (the TUI's ``d``, whose verdict its marks
    show for a minute), so a copy saved then is judged as the marks judged it."""
    if not pings:
        return snapshot
    containers = tuple(
        replace(
            c,
            doctor_facts=replace(
                c.doctor_facts or NamespaceFacts(),
                ping=_kept(pings[c.name][0]),
                ping6=_kept(pings[c.name][1]),
            ),
        )
        if c.name in pings
        else c
        for c in snapshot.containers
    )
    return replace(snapshot, containers=containers)


_COUNTERS = re.compile(r"^\[\d+:\d+\] |(?<=^:)(\S+ \S+) \[\d+:\d+\]$", re.MULTILINE)
_STAMPS = re.compile(r"^#.*\n?", re.MULTILINE)


def _steady(source: str, text: str) -> str:
    """iptables-save's text without its timestamps and counters: the DNS check needs only
    the rules, and two snapshots of an unchanged namespace then record the same text."""
    if not source.endswith("-save"):
        return text
    return _COUNTERS.sub(lambda m: m.group(1) or "", _STAMPS.sub("", text))


def _kept(ping: GatewayPing | None) -> PingRecord | None:
    """What a snapshot keeps of a ping: its outcome (the kernel's drop counts during it are
    the probe's evidence, not a fact the verdict rests on)."""
    if ping is None:
        return None
    return PingRecord(**{f.name: getattr(ping, f.name) for f in fields(PingRecord)})


def _ping(kept: PingRecord) -> GatewayPing:
    return GatewayPing(**{f.name: getattr(kept, f.name) for f in fields(PingRecord)})


def recorded_facts(snapshot: Snapshot) -> DoctorFacts:
    """The facts a snapshot records, as the checks take them; what it does not record is
    missing for ``NOT_RECORDED`` (an older cnet, or no root), and its checks say so."""
    host = snapshot.doctor_facts or HostFacts()
    try:
        rulesets = recorded(snapshot)
        rules_problem = None
    except NoRecordedRules:
        rulesets, rules_problem = None, host.rules_problem or NOT_RECORDED
    listeners: dict[str, tuple[Listener, ...]] = {}
    dns: dict[str, DnsFacts] = {}
    pings: dict[str, GatewayPing] = {}
    pings6: dict[str, GatewayPing] = {}
    tcp = {  # cnet snapshot's own record of them, where the doctor's is absent
        n.container: n.tcp_health
        for n in (snapshot.connections.namespaces if snapshot.connections else ())
        if n.tcp_health is not None
    }
    for c in snapshot.containers:
        kept = c.doctor_facts
        if kept is None:
            continue
        if kept.listeners is not None:
            listeners[c.name] = kept.listeners
        if kept.resolv_conf is not None or kept.resolv_problem is not None:
            dns[c.name] = _dns(kept)
        if kept.ping is not None:
            pings[c.name] = _ping(kept.ping)
        if kept.ping6 is not None:
            pings6[c.name] = _ping(kept.ping6)
        if kept.tcp_health is not None:
            tcp[c.name] = kept.tcp_health
    return DoctorFacts(
        ip_forward=host.ip_forward,
        rulesets=rulesets,
        rules_problem=rules_problem,
        pings=pings,
        no_nat={n.network: n.reason for n in host.no_nat},
        ip6_forward=host.ip6_forward,
        pings6=pings6,
        listeners=listeners,
        host_listeners=host.listeners,
        dns=dns,
        tcp_health=tcp,
        pinged=host.pinged,
        missing=NOT_RECORDED,
    )


def _dns(kept: NamespaceFacts) -> DnsFacts:
    texts = tuple((r.source, r.text) for r in kept.rulesets or ())
    return DnsFacts(
        resolv_conf=kept.resolv_conf,
        problem=kept.resolv_problem,
        rulesets=parse_captured(texts) if texts else None,
        rules_problem=kept.rules_problem,
        texts=texts,
    )
