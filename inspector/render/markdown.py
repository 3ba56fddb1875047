"""A snapshot as a Markdown report a person reads (GitHub-flavoured tables).

Summary and the doctor's verdicts first, then each container, then the host's tables.
"""

from __future__ import annotations

import re

from inspector.model.snapshot import Snapshot
from inspector.render.report import (
    DOCTOR_NOTE,
    Table,
    Verdict,
    container_sections,
    container_table,
    needing_attention,
    summary_lines,
    tables,
    trouble_table,
    verdict_tally,
    verdicts,
)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "


def _table(t: Table, level: str = "##") -> list[str]:
    lines = [f"{level} {t.title}", ""]
    if not t.rows:
        return [*lines, "_none_", ""]
    lines.append("| " + " | ".join(t.header) + " |")
    lines.append("|" + "|".join("---" for _ in t.header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
    return [*lines, ""]


def _problems(v: Verdict) -> list[str]:
    lines = []
    for p in v.problems:
        lines.append(f"- **{p.status}** `{p.check}`: {p.summary}")
        lines += [f"  - {k}: `{val}`" for k, val in p.evidence]
        if p.fix:
            lines.append(f"  - fix (not run): `{p.fix}`")
    return lines


def render_markdown(s: Snapshot) -> str:
    found = verdicts(s)
    sections = container_sections(s, found)
    lines = [f"# cnet report: {s.hostname}", ""]
    lines += [f"- {line}" for line in summary_lines(s)]
    tally = ", ".join(f"{n} {word}" for word, n in verdict_tally(found))
    lines += [f"- Doctor: {tally or 'no containers'}", ""]
    if s.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in s.warnings] + [""]
    attention = needing_attention(sections)
    lines += ["## Needs attention", ""]
    if not attention:
        lines.append("No check failed or warned.")
    lines += [
        f"- **{a.who()}**: {a.verdict.headline}: {a.verdict.problems[0].summary}" for a in attention
    ]
    lines += ["", f"_{DOCTOR_NOTE}_", ""]
    lines += _table(container_table(s, found))
    trouble = trouble_table(s)
    if trouble.rows:
        lines += _table(trouble)
    lines += ["## Container paths", ""]
    for sec in sections:
        lines += [f"### {sec.name} ({sec.verdict.headline})", "", sec.summary, ""]
        lines += [f"- `{p}`" for p in sec.paths]
        if sec.paths:
            lines.append("")
        lines += [f"- {k}: {v}" for k, v in sec.facts]
        lines.append("")
        if sec.verdict.problems:
            lines += [*_problems(sec.verdict), ""]
    for t in tables(s):
        lines += _table(t)
    if s.rulesets:
        lines += ["## Firewall rules recorded with the snapshot", ""]
        for r in s.rulesets:
            fence = "`" * max(3, 1 + max(map(len, re.findall("`+", r.text)), default=0))
            lines += [f"### {r.source}", "", fence, r.text.rstrip("\n"), fence, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
