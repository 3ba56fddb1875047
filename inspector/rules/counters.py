"""Which shown rules counted packets between two reads of the rulesets (``cnet ping
--rules``, the TUI's rules view after a ping)."""

from __future__ import annotations

from collections.abc import Iterator

from inspector.rules.model import (
    Chain,
    CounterChange,
    Counters,
    Rule,
    RuleMatch,
    Rulesets,
    RulesReport,
)

RuleKey = tuple[str, str, str, int]
"""A rule that stays the same rule across two reads: table, chain, the rule's text, and how
many identical rules come before it in the chain; ``(table, chain, "", -1)`` is the policy."""


def keyed_rules(rulesets: Rulesets) -> Iterator[tuple[RuleKey, Chain, Rule | None]]:
    """Every rule of every chain under its ``RuleKey``, then the chain's policy (no rule)."""
    for t in rulesets.tables:
        for c in t.chains:
            seen: dict[str, int] = {}
            for r in c.rules:
                n = seen.get(r.text, 0)
                seen[r.text] = n + 1
                yield (t.label, c.name, r.text, n), c, r
            yield (t.label, c.name, "", -1), c, None


def _rule_index(rulesets: Rulesets) -> dict[RuleKey, Counters | None]:
    return {key: c.counters if r is None else r.counters for key, c, r in keyed_rules(rulesets)}


def _ordinal(rulesets: Rulesets, m: RuleMatch) -> int:
    t = rulesets.table(m.table)
    c = t.chain(m.chain) if t else None
    if c is None:
        return 0
    return sum(1 for r in c.rules if r.text == m.rule.text and r.position < m.rule.position)


def counter_delta(
    before: Rulesets, after: Rulesets, report: RulesReport
) -> tuple[CounterChange, ...]:
    """The shown rules and chain policies whose counters moved between two reads.

    A rule is the same rule in both reads when its table, chain and text are equal (rule
    positions shift when others are inserted).  Rules missing from either read are left out.
    """
    b, a = _rule_index(before), _rule_index(after)
    changes: list[CounterChange] = []
    for t in report.tables:
        for c in t.chains:
            if c.policy is not None:
                key = (t.table, c.name, "", -1)
                pb, pa = b.get(key), a.get(key)
                if pb and pa and (pa.packets, pa.bytes) != (pb.packets, pb.bytes):
                    changes.append(
                        CounterChange(
                            t.table, c.name, None, pa.packets - pb.packets, pa.bytes - pb.bytes
                        )
                    )
            for m in c.matches:
                key = (t.table, c.name, m.rule.text, _ordinal(after, m))
                rb, ra = b.get(key), a.get(key)
                if rb and ra and (ra.packets, ra.bytes) != (rb.packets, rb.bytes):
                    changes.append(
                        CounterChange(
                            t.table, c.name, m.rule, ra.packets - rb.packets, ra.bytes - rb.bytes, m
                        )
                    )
    return tuple(changes)
