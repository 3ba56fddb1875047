"""A snapshot as one self-contained HTML file: inline CSS, no scripts, no external assets."""

from __future__ import annotations

from html import escape

from inspector.model import Snapshot
from inspector.render.report import Table, container_sections, summary_lines, tables

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}tr:nth-child(even) td{background:#fafbfc}
code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f3f5f8;padding:.1rem .3rem}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.5rem 1rem}
.muted{color:#5d6675}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}
th{background:#161b22}td{border-color:#30363d}th{border-color:#30363d}
tr:nth-child(even) td{background:#11161d}code{background:#161b22}.warn{background:#2d2208}}
"""


def _table(t: Table) -> str:
    if not t.rows:
        return f"<h2>{escape(t.title)}</h2><p class='muted'>none</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in t.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows
    )
    return f"<h2>{escape(t.title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(s: Snapshot) -> str:
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>cnet report: {escape(s.hostname)}</title><style>{STYLE}</style></head><body>",
        f"<h1>cnet report: {escape(s.hostname)}</h1>",
        "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in summary_lines(s)) + "</ul>",
    ]
    if s.warnings:
        parts.append(
            "<div class='warn'><strong>Warnings</strong><ul>"
            + "".join(f"<li>{escape(w)}</li>" for w in s.warnings)
            + "</ul></div>"
        )
    parts += [_table(t) for t in tables(s)]
    parts.append("<h2>Container paths</h2>")
    for sec in container_sections(s):
        parts.append(f"<h3>{escape(sec.name)}</h3><p>{escape(sec.summary)}</p>")
        if sec.paths:
            parts.append(
                "<ul>" + "".join(f"<li><code>{escape(p)}</code></li>" for p in sec.paths) + "</ul>"
            )
        parts.append(
            "<table>"
            + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in sec.facts)
            + "</table>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
