"""Which shown rules counted packets between two reads of the rulesets (``cnet ping
--rules``, the TUI's rules view after a ping)."""

from __future__ import annotations

from inspector.rules.model import CounterChange, Counters, RuleMatch, Rulesets, RulesReport


def _rule_index(rulesets: Rulesets) -> dict[tuple[str, str, str, int], Counters | None]:
    index: dict[tuple[str, str, str, int], Counters | None] = {}
    for t in rulesets.tables:
        for c in t.chains:
            seen: dict[str, int] = {}
            for r in c.rules:
                n = seen.get(r.text, 0)
                seen[r.text] = n + 1
                index[(t.label, c.name, r.text, n)] = r.counters
            index[(t.label, c.name, "", -1)] = c.counters
    return index


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
