"""``cnet diff``'s text: a heading per section, one ``+``/``-``/``~`` line per change.

Shared by the command and the TUI's compare view (``D``), so both say the same.  Names
and rule lines are the hosts' text: each goes through ``safe``.
"""

from __future__ import annotations

from inspector.model.safe import safe
from inspector.model.snapshot import Snapshot
from inspector.render.diff import SECTIONS, SIGNS, Diff


def format_diff(result: Diff, old: tuple[str, Snapshot], new: tuple[str, Snapshot]) -> str:
    """A heading per section, one ``+``/``-``/``~`` line per change, then a count."""
    lines = [
        f"old: {safe(old[0])} ({safe(old[1].hostname)}, taken at {safe(old[1].taken_at)})",
        f"new: {safe(new[0])} ({safe(new[1].hostname)}, taken at {safe(new[1].taken_at)})",
    ]
    for section in SECTIONS:
        found = [c for c in result.changes if c.section == section]
        if section == "rules":
            for table in dict.fromkeys(c.subject for c in found):
                lines += ["", f"rules ({safe(table)})"]
                lines += [
                    f"  {SIGNS[c.kind]} {safe(c.detail)}" for c in found if c.subject == table
                ]
            continue
        if found:
            lines += ["", section]
            lines += [f"  {SIGNS[c.kind]} {safe(c.subject)}: {safe(c.detail)}" for c in found]
    lines.append("")
    if result.equal:
        lines.append("no changes")
    else:
        lines.append(summary_line(result))
    lines += [f"note: {safe(note)}" for note in result.notes]
    return "\n".join(lines) + "\n"


def summary_line(result: Diff) -> str:
    """The changes counted by the section they are listed under, so the counts add up to
    the list; then how many containers and host interfaces they touch."""
    n = len(result.changes)
    per = [
        f"{sum(1 for c in result.changes if c.section == s)} {s}"
        for s in SECTIONS
        if any(c.section == s for c in result.changes)
    ]
    return (
        f"{n} change{'s' if n != 1 else ''}: {', '.join(per)} (touching "
        f"{_count(len(result.containers), 'container')}, "
        f"{_count(len(result.interfaces), 'host interface')})"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
