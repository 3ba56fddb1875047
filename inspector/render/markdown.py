"""A snapshot as a Markdown report a person reads (GitHub-flavoured tables).

Summary and the doctor's verdicts first, then each container, then the host's tables.
Every piece of host text goes through ``md`` (or ``code`` inside backticks): a name is
never Markdown, HTML or a line break of its own.
"""

from __future__ import annotations

import re

from inspector.model.safe import safe, safe_lines
from inspector.model.snapshot import Snapshot
from inspector.render.report import (
    Table,
    Verdict,
    container_sections,
    container_table,
    doctor_note,
    needing_attention,
    summary_lines,
    tables,
    trouble_table,
    verdict_tally,
    verdicts,
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_LINE_START = re.compile(r"^(\d{0,9})([-+.)])(?=[ \t]|$)")  # a list item


def md(text: str) -> str:
    """Host text as inert Markdown, wherever it goes (a heading, a list, a table cell):
    control characters and line breaks escaped by ``safe`` (a name with newlines makes no
    heading), HTML's ``<``, ``>`` and ``&`` as entities (markdown-it makes no element), and
    Markdown's emphasis, code, link, table and heading marks backslash-escaped."""
    text = safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _LINE_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def code(text: str) -> str:
    """Host text as a code span: shown literally (no entity, no escape works inside one),
    so only the control characters are escaped and the fence outlasts any backtick run."""
    text = safe(text)
    fence = "`" * (1 + max(map(len, re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return md(text) or " "


def _table(t: Table, level: str = "##") -> list[str]:
    lines = [f"{level} {md(t.title)}", ""]
    if not t.rows:
        return [*lines, "_none_", ""]
    lines.append("| " + " | ".join(md(h) for h in t.header) + " |")
    lines.append("|" + "|".join("---" for _ in t.header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
    return [*lines, ""]


def _problems(v: Verdict) -> list[str]:
    lines = []
    for p in v.problems:
        lines.append(f"- **{md(p.status)}** {code(p.check)}: {md(p.summary)}")
        lines += [f"  - {md(k)}: {code(val)}" for k, val in p.evidence]
        if p.fix:
            lines.append(f"  - fix (not run): {code(p.fix)}")
    return lines


def render_markdown(s: Snapshot) -> str:
    found = verdicts(s)
    sections = container_sections(s, found)
    lines = [f"# cnet report: {md(s.hostname)}", ""]
    lines += [f"- {md(line)}" for line in summary_lines(s)]
    tally = ", ".join(f"{n} {word}" for word, n in verdict_tally(found))
    lines += [f"- Doctor: {tally or 'no containers'}", ""]
    if s.warnings:
        lines += ["## Warnings", ""] + [f"- {md(w)}" for w in s.warnings] + [""]
    attention = needing_attention(sections)
    lines += ["## Needs attention", ""]
    if not attention:
        lines.append("No check failed or warned.")
    lines += [
        f"- **{a.who(md)}**: {md(a.verdict.headline)}: {md(a.verdict.problems[0].summary)}"
        for a in attention
    ]
    lines += ["", f"_{md(doctor_note(found))}_", ""]
    lines += _table(container_table(s, found))
    trouble = trouble_table(s)
    if trouble.rows:
        lines += _table(trouble)
    lines += ["## Container paths", ""]
    for sec in sections:
        lines += [f"### {md(sec.name)} ({md(sec.verdict.headline)})", "", md(sec.summary), ""]
        lines += [f"- {code(p)}" for p in sec.paths]
        if sec.paths:
            lines.append("")
        lines += [f"- {md(k)}: {md(v)}" for k, v in sec.facts]
        lines.append("")
        if sec.verdict.problems:
            lines += [*_problems(sec.verdict), ""]
    for t in tables(s):
        lines += _table(t)
    if s.rulesets:
        lines += ["## Firewall rules recorded with the snapshot", ""]
        for r in s.rulesets:
            text = safe_lines(r.text.rstrip("\n"))  # a fenced block: literal but for controls
            fence = "`" * max(3, 1 + max(map(len, re.findall("`+", text)), default=0))
            lines += [f"### {md(r.source)}", "", fence, text, fence, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
