"""A snapshot as one self-contained HTML file: inline CSS, no scripts, no external assets.

Read top down: the summary and the doctor's verdicts, what needs attention, the
containers with each one's path drawn as a row of boxes (CSS only), then the host's
tables and the rules recorded with the snapshot.  Light and dark, and it prints.
"""

from __future__ import annotations

from html import escape

from inspector import __version__
from inspector.model.safe import safe, safe_lines
from inspector.model.snapshot import Snapshot
from inspector.render.report import (
    ContainerSection,
    Hop,
    Problem,
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

STYLE = """
:root{--fg:#1d2330;--muted:#5d6675;--bg:#fff;--card:#f6f8fa;--line:#d0d7de;--head:#eef1f5;
--ok:#1a7f37;--okbg:#dafbe1;--warn:#9a6700;--warnbg:#fff8c5;--bad:#cf222e;--badbg:#ffebe9;
--skip:#6e7781;--skipbg:#eaeef2;--accent:#0969da;--hop:#ddf4ff}
@media (prefers-color-scheme: dark){:root{--fg:#e6edf3;--muted:#8d96a0;--bg:#0d1117;
--card:#161b22;--line:#30363d;--head:#1c2128;--ok:#3fb950;--okbg:#12261e;--warn:#d29922;
--warnbg:#272115;--bad:#f85149;--badbg:#2d1214;--skip:#8d96a0;--skipbg:#21262d;
--accent:#58a6ff;--hop:#121d2f}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);
background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:2rem 1.25rem 4rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2.5rem 0 .75rem;
padding-bottom:.3rem;border-bottom:1px solid var(--line)}h3{font-size:1.05rem;margin:0}
.sub{color:var(--muted);margin:0 0 1.25rem}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:.6rem 1rem;min-width:8.5rem}
.card b{display:block;font-size:1.5rem;line-height:1.2}.card span{color:var(--muted);font-size:.85rem}
.chip{display:inline-block;border-radius:999px;padding:0 .6rem;font-size:.8rem;font-weight:600;
white-space:nowrap}
.pass{color:var(--ok);background:var(--okbg)}.warn{color:var(--warn);background:var(--warnbg)}
.fail{color:var(--bad);background:var(--badbg)}.skip,.stopped{color:var(--skip);background:var(--skipbg)}
.card-fail{border-color:var(--bad)}.card-warn{border-color:var(--warn)}
.card-pass{border-color:var(--ok)}
table{border-collapse:collapse;width:100%;font-size:.87rem;margin:.5rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600}td:first-child{white-space:nowrap}tbody tr:hover td{background:var(--card)}
a{color:var(--accent)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
.box{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin:.75rem 0;
background:var(--card)}
.box.warnings{border-left:4px solid var(--warn)}.box.attention{border-left:4px solid var(--bad)}
.box.good{border-left:4px solid var(--ok)}
.container{border:1px solid var(--line);border-radius:10px;padding:1rem 1.1rem;margin:1rem 0}
.container header{display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}
.container header .mono{color:var(--muted)}
.summary{margin:.35rem 0 .6rem}
.path{display:flex;align-items:center;flex-wrap:wrap;gap:.25rem;margin:.5rem 0}
.hop{border:1.5px solid var(--accent);background:var(--hop);border-radius:6px;padding:.15rem .55rem;
line-height:1.25;min-width:5.5rem}
.hop b{display:block;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
.hop small{color:var(--muted);font-size:.75rem}
.hop.bridge{border-radius:14px}.hop.host{border-style:dashed}
.hop.bad{border-color:var(--bad);background:var(--badbg)}.hop.bad small{color:var(--bad)}
.arrow{color:var(--muted);font-size:1.1rem;padding:0 .1rem}
.arrow.bad{color:var(--bad)}
details{margin:.4rem 0}summary{cursor:pointer;color:var(--accent)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0;
font-size:.87rem}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
ul.problems{margin:.4rem 0;padding-left:1.2rem}ul.problems li{margin:.3rem 0}
.evidence{color:var(--muted);font-size:.85rem}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6rem;
overflow:auto;max-height:30rem}
footer{color:var(--muted);font-size:.8rem;margin-top:3rem}
@media print{.container{break-inside:avoid}details{display:block}}
"""


def _e(text: object) -> str:
    """Escaped for HTML, control characters shown (``safe``): one rule for host text."""
    return escape(safe(str(text)), quote=True)


def _link(name: str) -> str:
    """A container's name as a link to its section."""
    return f"<a href='#c-{_e(name)}'>{_e(name)}</a>"


def _chip(v: Verdict) -> str:
    return f"<span class='chip {v.status}'>{_e(v.headline)}</span>"


def _table(t: Table, chip_column: dict[str, Verdict] | None = None) -> str:
    if not t.rows:
        return f"<h2>{_e(t.title)}</h2><p class='sub'>none</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in t.header)
    rows = []
    for row in t.rows:
        cells = []
        for n, c in enumerate(row):
            if chip_column is not None and n == 0 and row[1] in chip_column:
                cells.append(f"<td>{_chip(chip_column[row[1]])}</td>")
            elif chip_column is not None and n == 1:
                cells.append(f"<td>{_link(c)}</td>")
            else:
                cells.append(f"<td>{_e(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<h2>{_e(t.title)}</h2><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _problems(problems: tuple[Problem, ...]) -> str:
    items = []
    for p in problems:
        evidence = "".join(
            f"<div class='evidence'>{_e(k)}: <code>{_e(v)}</code></div>" for k, v in p.evidence
        )
        fix = (
            f"<div class='evidence'>fix (not run): <code>{_e(p.fix)}</code></div>" if p.fix else ""
        )
        items.append(
            f"<li><span class='chip {p.status}'>{_e(p.status)}</span> <code>{_e(p.check)}</code>"
            f" {_e(p.summary)}{evidence}{fix}</li>"
        )
    return f"<ul class='problems'>{''.join(items)}</ul>"


def _diagram(hops: tuple[Hop, ...]) -> str:
    """One path as boxes and arrows: plain HTML and CSS, so it scales, wraps and copies."""
    parts = []
    for n, hop in enumerate(hops):
        if n:
            bad = " bad" if hop.bad and hop.role == "missing" else ""
            parts.append(f"<span class='arrow{bad}' aria-hidden='true'>→</span>")
        cls = f"hop {hop.role}{' bad' if hop.bad else ''}"
        parts.append(
            f"<span class='{cls}'><b>{_e(hop.label)}</b><small>{_e(hop.detail)}</small></span>"
        )
    words = " → ".join(f"{h.label} {h.detail}" for h in hops)
    return f"<div class='path' role='img' aria-label='{_e(words)}'>{''.join(parts)}</div>"


def _section(sec: ContainerSection) -> str:
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in sec.facts)
    paths = "".join(_diagram(d) for d in sec.diagrams)
    words = "".join(f"<div><code>{_e(p)}</code></div>" for p in sec.paths)
    problems = _problems(sec.verdict.problems) if sec.verdict.problems else ""
    return (
        f"<section class='container' id='c-{_e(sec.name)}'><header><h3>{_e(sec.name)}</h3>"
        f"{_chip(sec.verdict)}<span class='mono'>{_e(sec.network)}</span></header>"
        f"<p class='summary'>{_e(sec.summary)}</p>{paths}{problems}"
        f"<details><summary>details</summary>{words}<dl class='facts'>{facts}</dl></details>"
        "</section>"
    )


def render_html(s: Snapshot) -> str:
    found = verdicts(s)
    sections = container_sections(s, found)
    running = sum(1 for c in s.containers if c.running)
    tally = verdict_tally(found)
    status_of = {"fail": "fail", "warn": "warn", "ok": "pass"}
    cards = [
        f"<div class='card'><b>{running}/{len(s.containers)}</b><span>containers running</span></div>",
        f"<div class='card'><b>{len(s.bridges)}</b><span>bridges</span></div>",
        f"<div class='card'><b>{len(s.host.interfaces)}</b><span>host interfaces</span></div>",
    ]
    if tally:
        worst = status_of.get(tally[0][0], "")
        chips = " ".join(
            f"<span class='chip {status_of.get(word, 'skip')}'>{n} {_e(word)}</span>"
            for word, n in tally
        )
        cards.append(f"<div class='card card-{worst}'><b>Doctor</b><span>{chips}</span></div>")
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<meta name='color-scheme' content='light dark'>",
        f"<title>cnet report: {_e(s.hostname)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>cnet report: {_e(s.hostname)}</h1>",
        f"<p class='sub'>{_e(' · '.join(summary_lines(s)))}</p>",
        f"<div class='cards'>{''.join(cards)}</div>",
    ]
    if s.warnings:
        parts.append(
            "<div class='box warnings'><strong>Warnings</strong><ul>"
            + "".join(f"<li>{_e(w)}</li>" for w in s.warnings)
            + "</ul></div>"
        )
    attention = needing_attention(sections)
    if attention:
        parts.append("<div class='box attention'><strong>Needs attention</strong><ul>")
        parts += [
            f"<li>{a.who(_link)} {_chip(a.verdict)} {_e(a.verdict.problems[0].summary)}</li>"
            for a in attention
        ]
        parts.append("</ul></div>")
    else:
        parts.append("<div class='box good'><strong>No check failed or warned.</strong></div>")
    parts.append(f"<p class='sub'>{_e(doctor_note(found))}</p>")
    parts.append(_table(container_table(s, found), chip_column=found))
    trouble = trouble_table(s)
    if trouble.rows:
        parts.append(_table(trouble))
    parts.append("<h2>Container paths</h2>")
    parts += [_section(sec) for sec in sections]
    parts += [_table(t) for t in tables(s)]
    if s.rulesets:
        parts.append("<h2>Firewall rules recorded with the snapshot</h2>")
        parts += [
            f"<details><summary>{_e(r.source)} ({len(r.text.splitlines())} lines)</summary>"
            f"<pre>{escape(safe_lines(r.text), quote=True)}</pre></details>"
            for r in s.rulesets
        ]
    parts.append(
        f"<footer>Written by cnet {_e(__version__)}; read-only: nothing was changed.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
