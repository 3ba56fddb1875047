"""The order in which a packet met the rules whose counters moved (e.g. during a ping).

Used by ``cnet ping --rules`` and the TUI's rules view, so both tell the same story.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from inspector.rules.model import ChainReport, CounterChange, RulesReport


def path_order(report: RulesReport, changes: Sequence[CounterChange]) -> list[CounterChange]:
    """The moved rules in the order a packet meets them: each table's built-in chains in
    turn, into a chain where a moved rule jumps to it and back (a chain's policy last);
    what no moved jump leads to comes after, in ruleset order."""
    index = {(ch.table, ch.chain, ch.rule.position if ch.rule else 0): ch for ch in changes}
    ordered: list[CounterChange] = []
    for t in report.tables:
        chains = {c.name: c for c in t.chains}
        visited: set[str] = set()
        for c in sorted(t.chains, key=lambda c: c.policy is None):  # built-in chains first
            _walk(t.table, c.name, chains, index, visited, ordered)
    return ordered + [ch for ch in changes if not any(ch is o for o in ordered)]


def _walk(
    table: str,
    name: str,
    chains: Mapping[str, ChainReport],
    index: Mapping[tuple[str, str, int], CounterChange],
    visited: set[str],
    ordered: list[CounterChange],
) -> None:
    chain = chains.get(name)
    if chain is None or name in visited:
        return
    visited.add(name)
    for m in chain.matches:
        found = index.get((table, name, m.rule.position))
        if found is None:
            continue  # the packets did not take this rule, nor its jump
        ordered.append(found)
        jump = m.rule.verdict
        if jump is not None and jump in chains:
            _walk(table, jump, chains, index, visited, ordered)
    policy = index.get((table, name, 0))
    if policy is not None:
        ordered.append(policy)
