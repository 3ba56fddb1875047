"""``cnet diff``'s text: a heading per section, one ``+``/``-``/``~`` line per change.

Shared by the command and the TUI's compare view (``D``), so both say the same.
"""

from __future__ import annotations

from inspector.model.snapshot import Snapshot
from inspector.render.diff import SECTIONS, SIGNS, Diff


def format_diff(result: Diff, old: tuple[str, Snapshot], new: tuple[str, Snapshot]) -> str:
    """A heading per section, one ``+``/``-``/``~`` line per change, then a count."""
    lines = [
        f"old: {old[0]} ({old[1].hostname}, taken at {old[1].taken_at})",
        f"new: {new[0]} ({new[1].hostname}, taken at {new[1].taken_at})",
    ]
    for section in SECTIONS:
        found = [c for c in result.changes if c.section == section]
        if section == "rules":
            sources = list(dict.fromkeys(c.subject for c in found))
            for source in sources:
                lines += ["", f"rules ({source})"]
                lines += [f"  {SIGNS[c.kind]} {c.detail}" for c in found if c.subject == source]
            continue
        if found:
            lines += ["", section]
            lines += [f"  {SIGNS[c.kind]} {c.subject}: {c.detail}" for c in found]
    lines.append("")
    if result.equal:
        lines.append("no changes")
    else:
        n = len(result.changes)
        lines.append(
            f"{n} change{'s' if n != 1 else ''}: {_count(len(result.containers), 'container')}, "
            f"{_count(len(result.interfaces), 'host interface')}"
        )
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
