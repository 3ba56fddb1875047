"""The work one doctor run shares across workloads: what depends on the host, a bridge,
a subnet or a namespace owner rather than on each container.

At 1,000 containers on one bridge the walk asked the same questions 1,000 times: the
host's uplink, the rules that name the bridge, the MASQUERADE of its subnet, whether the
FORWARD chain accepts the bridge's new connections.  ``Shared`` answers each once per
input that decides it, for one snapshot and one ``DoctorFacts``.  The answers are the
ones the unshared calls give (a test compares them on every recorded container).
"""

from __future__ import annotations

import ipaddress

from inspector.doctor.model import DoctorFacts
from inspector.model.queries import default_route
from inspector.model.snapshot import Interface, Snapshot
from inspector.rules import (
    RuleMatch,
    RulesReport,
    Table,
    UnknownItem,
    blocking_rules_for_address,
    masquerade_rules_for_subnet,
    resolve_item,
)
from inspector.rules.index import RuleIndex
from inspector.rules.match import report_for_spec
from inspector.rules.model import Rule
from inspector.rules.walk import NewConnection, first_accept, source_class, sources_named


class Shared:
    """Answers kept for one snapshot and one set of facts (``run_checks``' ``shared``).

    Not thread-safe: one per run, in the thread that runs it.
    """

    def __init__(self, snapshot: Snapshot, facts: DoctorFacts) -> None:
        self.snapshot = snapshot
        self.facts = facts
        self.index = RuleIndex(facts.rulesets) if facts.rulesets is not None else None
        self._uplink: tuple[Interface | None] | None = None
        self._reports: dict[str, RulesReport | None] = {}
        self._masquerades: dict[tuple[str, str], list[RuleMatch]] = {}
        self._blocking: dict[str, list[RuleMatch]] = {}
        self._sources: dict[int, tuple[str, ...]] = {}
        self._dnats: dict[str, list[tuple[int, Table, str, Rule]]] | None = None
        self._accepts: dict[tuple[int, str, str, str, tuple[bool | None, ...]], Rule | None] = {}

    def dnats(self) -> dict[str, list[tuple[int, Table, str, Rule]]]:
        """The DNAT rules by ``--to-destination``, numbered in ruleset order (read once,
        not once per published port)."""
        if self._dnats is None:
            self._dnats = {}
            n = 0
            for table in self.facts.rulesets.tables if self.facts.rulesets else ():
                for chain in table.chains:
                    for rule in chain.rules:
                        n += 1
                        to = rule.target.option("--to-destination") if rule.target else None
                        if rule.verdict == "DNAT" and to is not None:
                            self._dnats.setdefault(to.value, []).append(
                                (n, table, chain.name, rule)
                            )
        return self._dnats

    def fits(self, snapshot: Snapshot, facts: DoctorFacts) -> bool:
        return snapshot is self.snapshot and facts is self.facts

    def uplink(self) -> Interface | None:
        """The host interface of its main IPv4 default route."""
        if self._uplink is None:
            route = default_route(tuple(self.snapshot.host.routes))
            dev = route.dev if route else None
            self._uplink = (self.snapshot.host_interface(dev) if dev else None,)
        return self._uplink[0]

    def rules_report(self, owner: str) -> RulesReport | None:
        """The rules that concern a namespace owner (``rules_for``, through the index)."""
        if owner not in self._reports:
            report: RulesReport | None = None
            if self.facts.rulesets is not None:
                try:
                    spec = resolve_item(self.snapshot, owner)
                    report = report_for_spec(spec, self.facts.rulesets, self.index)
                except (UnknownItem, ValueError):
                    report = None
            self._reports[owner] = report
        return self._reports[owner]

    def masquerade(self, subnet: str, bridge: str) -> list[RuleMatch]:
        key = (subnet, bridge)
        if key not in self._masquerades:
            assert self.facts.rulesets is not None
            self._masquerades[key] = masquerade_rules_for_subnet(
                self.facts.rulesets, subnet, bridge
            )
        return self._masquerades[key]

    def blocking(self, ip: str) -> list[RuleMatch]:
        if ip not in self._blocking:
            assert self.facts.rulesets is not None
            self._blocking[ip] = blocking_rules_for_address(self.facts.rulesets, ip)
        return self._blocking[ip]

    def first_accept(self, table: Table, chain: str, packet: NewConnection) -> Rule | None:
        """``first_accept``, once per bridge, uplink and class of source address."""
        sources = self._sources.get(id(table))
        if sources is None:
            sources = self._sources[id(table)] = sources_named(table)
        source = ipaddress.ip_address(packet.source)
        key = (
            id(table),
            chain,
            packet.in_interface,
            packet.out_interface,
            source_class(sources, source),
        )
        if key not in self._accepts:
            self._accepts[key] = first_accept(table, chain, packet)
        return self._accepts[key]
