"""A ``RulesReport`` as text lines (the CLI, and any plain view) and as a JSON-ready dict.

Blocking rules always carry the marker ``!! DROP`` / ``!! REJECT``; ``color`` adds red
bold for them (and dims the context rules), for terminals.  The engine's own DROPs
(isolation, ICC off, direct access) are marked ``design`` and say what they are for.
Each rule is followed by a line that says it in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.model.safe import safe
from inspector.rules.model import ChainReport, CounterChange, Counters, RuleMatch, RulesReport

RED_BOLD = "\x1b[1;31m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"
MARK_WIDTH = 10


def marker(m: RuleMatch) -> str:
    if m.blocking:
        return f"!! {m.rule.verdict}"
    return "design" if m.design else ""


def _count(c: Counters | None) -> tuple[str, str]:
    return (str(c.packets), str(c.bytes)) if c else ("-", "-")


def _chain_line(c: ChainReport) -> str:
    head = f"  {c.name}:"
    if c.policy is not None:
        pk, by = _count(c.counters)
        head += f" policy {c.policy}" + (f" ({pk} packets, {by} bytes)" if c.counters else "")
    if c.hook:
        head += f"  [{c.hook}]"
    if not c.matches:
        head += f" ({c.rule_count} rules, none concerns it)" if c.rule_count else " (empty)"
    return head


def format_report(
    report: RulesReport, *, color: bool = False, changes: Sequence[CounterChange] = ()
) -> list[str]:
    """The report as lines: grouped by table and chain, with counters and the reason."""
    moved = {(ch.table, ch.chain, ch.rule.position if ch.rule else 0): ch for ch in changes}
    lines: list[str] = []

    def add(text: str) -> None:
        lines.append(safe(text))  # rule text, comments and names are the host's

    add(f"rules for {report.description}")
    for n in report.notes:
        add(f"note: {n}")
    if not report.tables:
        add(f"no rule concerns {report.kind} {report.item}")
        return lines
    for t in report.tables:
        add("")
        same = t.table.endswith(f"({t.source})")
        add(t.table if same else f"{t.table} ({t.source})")
        for c in t.chains:
            add(_chain_line(c))
            pol = moved.get((t.table, c.name, 0))
            if pol:
                add(
                    f"{'':{MARK_WIDTH}}policy counters moved: +{pol.packets} packets, +{pol.bytes} bytes"
                )
            for m in c.matches:
                pk, by = _count(m.rule.counters)
                line = safe(
                    f"{marker(m):<{MARK_WIDTH}}{pk:>8} {by:>10}  {m.rule.spec}  # {m.reason}"
                )
                ch = moved.get((t.table, c.name, m.rule.position))
                if ch:
                    line += f"  [moved +{ch.packets} pkts +{ch.bytes} bytes]"
                if color and m.blocking:
                    line = f"{RED_BOLD}{line}{RESET}"
                elif color and not m.direct:
                    line = f"{DIM}{line}{RESET}"
                lines.append(line)
                pad = " " * (MARK_WIDTH + 21)
                if m.explanation:
                    add(f"{pad}= {m.explanation}")
                if m.design:
                    add(f"{pad}by design: {m.design}")
    matches = report.matches
    direct = sum(1 for m in matches if m.direct)
    blocking = len(report.blocking)
    add("")
    summary = f"{len(matches)} rules shown, {direct} naming {report.item}"
    summary += f", {blocking} blocking (!!)" if blocking else ", none blocking"
    designed = len(report.by_design)
    if designed:
        summary += f"; {designed} DROP{'s' if designed > 1 else ''} by the engine's design"
    add(summary)
    return lines


def _counters_dict(c: Counters | None) -> dict[str, int] | None:
    return {"packets": c.packets, "bytes": c.bytes} if c else None


def report_to_dict(report: RulesReport, changes: Sequence[CounterChange] = ()) -> dict[str, Any]:
    """A stable, JSON-ready form of the report (``cnet rules --json``)."""
    return {
        "item": report.item,
        "kind": report.kind,
        "description": report.description,
        "notes": list(report.notes),
        "warnings": list(report.warnings),
        "tables": [
            {
                "table": t.table,
                "family": t.family,
                "source": t.source,
                "chains": [
                    {
                        "chain": c.name,
                        "policy": c.policy,
                        "counters": _counters_dict(c.counters),
                        "rules": [
                            {
                                "position": m.rule.position,
                                "rule": m.rule.text,
                                "counters": _counters_dict(m.rule.counters),
                                "target": m.rule.verdict,
                                "reason": m.reason,
                                "direct": m.direct,
                                "blocking": m.blocking,
                                "design": m.design or None,
                                "explanation": m.explanation,
                            }
                            for m in c.matches
                        ],
                    }
                    for c in t.chains
                ],
            }
            for t in report.tables
        ],
        "blocking": len(report.blocking),
        "by_design": len(report.by_design),
        "counter_changes": [
            {
                "table": ch.table,
                "chain": ch.chain,
                "rule": ch.rule.text if ch.rule else None,
                "packets": ch.packets,
                "bytes": ch.bytes,
            }
            for ch in changes
        ],
    }
