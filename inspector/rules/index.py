"""Which rules may name an interface or an address, read once per ruleset.

``rules_for`` reads every rule of every table for each item.  The doctor and the TUI's
marks ask it for every container, so at 1,000 containers on one bridge they read the
ruleset 1,000 times and match each rule naming the bridge 1,000 times with the same
answer.  ``RuleIndex`` files each rule under the exact interface names and host
addresses it names (anything it cannot file so, a wildcard or a subnet, is a candidate
for every item), and keeps the reasons of a rule that names no address by the item's
interfaces that rule can match: a bridge's rules are matched once per bridge.  The
candidates are matched by ``direct_reasons`` as the full scan does, so the report is the
same; items with subnets (bridges, networks) are scanned in full.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from inspector.rules.match import (
    _NFT_ADDR,
    _NFT_IFACE,
    Direct,
    ItemSpec,
    Paths,
    _address,
    _net,
    _split_nat_address,
    direct_reasons,
    paths_of,
)
from inspector.rules.model import Chain, Rule, Rulesets, Table, interface_matches

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_WILD = ("+", "*", "?", "[", "\\")


@dataclass
class _Filed:
    """One rule and what it names."""

    chain: Chain
    rule: Rule
    patterns: tuple[str, ...]  # interface names or patterns
    addressed: bool  # names an address or subnet (or a NAT address)
    local: bool  # every address it names is one host's (filed in ``by_address``)


@dataclass
class _TableIndex:
    rules: list[_Filed] = field(default_factory=list)  # in ruleset order
    by_name: dict[str, list[int]] = field(default_factory=dict)
    by_address: dict[IPAddress, list[int]] = field(default_factory=dict)
    always: list[int] = field(default_factory=list)


def _patterns(rule: Rule) -> tuple[str, ...]:
    """Every interface name or pattern the rule holds (negated ones too: ``! -o docker0``)."""
    if rule.understood:
        options = [*rule.options("-i"), *rule.options("-o")]
        options += [*rule.options("--physdev-in"), *rule.options("--physdev-out")]
        names = [v for o in options for v in (o.values or (o.value,))]
    else:
        names = [
            n for m in _NFT_IFACE.finditer(rule.text) for n in re.findall(r'"([^"]*)"', m["val"])
        ]
    return tuple(dict.fromkeys([*names, *(element for element, _ in rule.jumps)]))


def _addresses(rule: Rule) -> tuple[list[str], list[str]] | None:
    """(address or network texts, NAT host texts) the rule names; None: none at all."""
    nets: list[str] = []
    hosts: list[str] = []
    if rule.understood:
        nets = [v for name in ("-s", "-d") for o in rule.options(name) for v in o.values]
        target = rule.target
        for name in ("--to-destination", "--to-source", "--to"):
            to = target.option(name) if target else None
            if to is not None:
                hosts.append(_split_nat_address(to.value)[0])
    else:
        for m in _NFT_ADDR.finditer(rule.text):
            for value in m["val"].strip("{}").split(","):
                value = value.strip()
                nets.append(_split_nat_address(value)[0] if m["key"] == "to" else value)
    if not nets and not hosts:
        return None
    return nets, hosts


def _file(index: _TableIndex, filed: _Filed, nets: Sequence[str], hosts: Sequence[str]) -> None:
    n = len(index.rules)
    index.rules.append(filed)
    keys: set[IPAddress] = set()
    always = False
    local = True
    for p in filed.patterns:
        if any(w in p for w in _WILD):
            always = True
        else:
            index.by_name.setdefault(p, []).append(n)
    for text in nets:
        net = _net(text)
        if net is None or net.prefixlen == 0:
            continue  # names nothing an item holds
        if net.num_addresses == 1:
            keys.add(net.network_address)
        else:
            always, local = True, False
    for text in hosts:
        addr = _address(text)
        if addr is None:
            continue
        keys.add(addr)
    for key in keys:
        index.by_address.setdefault(key, []).append(n)
    if always:
        index.always.append(n)
    filed.local = local


def _table_index(table: Table) -> _TableIndex:
    index = _TableIndex()
    for chain in table.chains:
        for rule in chain.rules:
            named = _addresses(rule)
            patterns = _patterns(rule)
            if named is None and not patterns:
                continue  # names no interface and no address: never a direct match
            nets, hosts = named or ([], [])
            _file(index, _Filed(chain, rule, patterns, named is not None, True), nets, hosts)
    return index


def _can_match(pattern: str, name: str) -> bool:
    """Every way a rule's interface text can name an interface (iptables' ``+``, nft's
    and a verdict map's globs), or more."""
    return interface_matches(pattern, name) or fnmatchcase(name, pattern)


class RuleIndex:
    """One ruleset's rules filed by what they name; answers ``report_for_spec``'s ``index``.

    ``matched`` counts the rules matched against an item (``direct_reasons`` run), for
    tests that the work is shared.  Not thread-safe: one per worker.
    """

    def __init__(self, rulesets: Rulesets) -> None:
        self.rulesets = rulesets
        self._tables: dict[int, _TableIndex] = {}
        self._reasons: dict[tuple[int, tuple[tuple[str, str], ...], frozenset[str]], list[str]] = {}
        self._hits: dict[tuple[int, str, str, bool], list[tuple[int, list[str]]]] = {}
        self._sets: dict[tuple[int, str], set[int]] = {}
        self._paths: dict[int, Paths] = {}
        self.matched = 0

    def paths(self, table: Table) -> Paths:
        """``paths_of(table)``, once per table."""
        found = self._paths.get(id(table))
        if found is None:
            found = self._paths[id(table)] = paths_of(table)
        return found

    def _index(self, table: Table) -> _TableIndex:
        found = self._tables.get(id(table))
        if found is None:
            found = self._tables[id(table)] = _table_index(table)
        return found

    def __call__(self, table: Table, spec: ItemSpec) -> Direct:
        """The rules of ``table`` that name the item and why, in ruleset order."""
        names = [name for name, _ in spec.interfaces]
        if spec.subnets or len(set(names)) != len(names):
            return self._scan(table, spec)  # containment both ways: not filed by address
        index = self._index(table)
        hit = {n for addr in spec.addresses for n in index.by_address.get(addr, ())}
        # Rules that name two of its interfaces are matched as a whole; those that name
        # one are matched once per interface, role and sharing (a bridge's: once).
        filed = sorted(names, key=lambda name: len(index.by_name.get(name, ())))
        largest = self._set(table, index, filed[-1]) if filed else set()
        seen: set[int] = set()
        whole = set(index.always) | hit
        for entries in (index.by_name.get(name, []) for name in filed[:-1]):
            for n in entries:
                if n in seen or n in largest:
                    whole.add(n)
                seen.add(n)
        picked = {n: self._match(n, index.rules[n], spec, n in hit) for n in whole}
        for name, role in spec.interfaces:
            for n, reasons in self._by_interface(table, index, name, role, name in spec.shared):
                if n not in whole:
                    picked[n] = reasons
        return [(index.rules[n].chain, index.rules[n].rule, picked[n]) for n in sorted(picked)]

    def _set(self, table: Table, index: _TableIndex, name: str) -> set[int]:
        found = self._sets.get((id(table), name))
        if found is None:
            found = self._sets[(id(table), name)] = set(index.by_name.get(name, ()))
        return found

    def _by_interface(
        self, table: Table, index: _TableIndex, name: str, role: str, shared: bool
    ) -> list[tuple[int, list[str]]]:
        """The rules filed under one interface name that name no address of an item
        with this interface alone (or name only other hosts), with their reasons."""
        key = (id(table), name, role, shared)
        found = self._hits.get(key)
        if found is None:
            alone = ItemSpec(
                name,
                "interface",
                name,
                interfaces=((name, role),),
                shared=frozenset({name}) if shared else frozenset(),
            )
            found = []
            for n in index.by_name.get(name, ()):
                if not index.rules[n].local:
                    continue  # also in ``always``: matched as a whole
                self.matched += 1
                reasons = direct_reasons(index.rules[n].rule, alone)
                if reasons:
                    found.append((n, reasons))
            self._hits[key] = found
        return found

    def _scan(self, table: Table, spec: ItemSpec) -> Direct:
        self.matched += sum(len(c.rules) for c in table.chains)
        return [(c, r, direct_reasons(r, spec)) for c in table.chains for r in c.rules]

    def _match(self, n: int, filed: _Filed, spec: ItemSpec, hit: bool) -> list[str]:
        if filed.addressed and (hit or not filed.local):
            self.matched += 1
            return direct_reasons(filed.rule, spec)
        # None of its addresses is the item's: the reasons depend only on the item's
        # interfaces this rule can name (in the item's order, with their roles) and
        # which of them are shared.
        seen = tuple(
            (name, role)
            for name, role in spec.interfaces
            if any(_can_match(p, name) for p in filed.patterns)
        )
        key = (id(filed.rule), seen, spec.shared & {name for name, _ in seen})
        reasons = self._reasons.get(key)
        if reasons is None:
            self.matched += 1
            reasons = self._reasons[key] = direct_reasons(filed.rule, spec)
        return reasons
