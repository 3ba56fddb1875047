"""A snapshot as a Markdown report a person reads (GitHub-flavoured tables)."""

from __future__ import annotations

from inspector.model import Snapshot
from inspector.render.report import Table, container_sections, summary_lines, tables


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "


def _table(t: Table) -> list[str]:
    lines = [f"## {t.title}", ""]
    if not t.rows:
        return [*lines, "_none_", ""]
    lines.append("| " + " | ".join(t.header) + " |")
    lines.append("|" + "|".join("---" for _ in t.header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
    return [*lines, ""]


def render_markdown(s: Snapshot) -> str:
    lines = [f"# cnet report: {s.hostname}", ""]
    lines += [f"- {line}" for line in summary_lines(s)]
    lines.append("")
    if s.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in s.warnings] + [""]
    for t in tables(s):
        lines += _table(t)
    lines += ["## Container paths", ""]
    for sec in container_sections(s):
        lines += [f"### {sec.name}", "", sec.summary, ""]
        lines += [f"- `{p}`" for p in sec.paths]
        if sec.paths:
            lines.append("")
        lines += [f"- {k}: {v}" for k, v in sec.facts]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
