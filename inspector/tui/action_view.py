"""What the action views show, as plain styled lines: no Textual here.

The ping panel's lines, the rules view (grouped by table and chain, counters, DROP and
REJECT marked, counters that moved during a ping) and the doctor's checks in the detail
panel.  Pure functions of the libraries' frozen results, tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from inspector.actions.ping import PingProblem, PingReply, PingTimeout, format_event, format_summary
from inspector.doctor import CHECK_TITLES, display_order, worst_status
from inspector.rules import path_order
from inspector.tui.view import MARKS, Line, Style

if TYPE_CHECKING:
    from inspector.actions.ping import PingEvent, PingPlan, PingSummary
    from inspector.doctor import Check, ContainerReport
    from inspector.rules import ChainReport, CounterChange, Counters, RuleMatch, RulesReport

# --- ping --------------------------------------------------------------------------------


def ping_header(plan: PingPlan) -> Line:
    return ((plan.header, "heading"),)


def ping_event_lines(event: PingEvent, timeout_s: float) -> list[Line]:
    """One line per event, as ping prints them; a timeout, which ping keeps quiet about,
    is a line here so a silent target shows."""
    if isinstance(event, PingReply):
        return [((format_event(event), ""),)]
    if isinstance(event, PingTimeout):
        return [((f"icmp_seq={event.seq} no reply within {timeout_s:g} s", "warning"),)]
    if isinstance(event, PingProblem):
        return [((format_event(event), "bad"),)]
    return ping_summary_lines(event)


def ping_summary_lines(summary: PingSummary) -> list[Line]:
    style: Style = "good" if summary.received else "bad"
    text = format_summary(summary).splitlines()
    lines: list[Line] = [(("", ""),), ((text[0], "heading"),)]
    lines.extend(((t, style),) for t in text[1:])
    return lines


def ping_status(
    running: bool, sent: int, received: int, rtts: Sequence[float], stopped_by_user: bool
) -> str:
    """The one-line tally under the log."""
    state = "running" if running else ("stopped" if stopped_by_user else "ended")
    if sent == 0:
        return f"{state} · nothing sent yet" if running else state
    loss = 100.0 * (sent - received) / sent
    text = f"{state} · {sent} sent, {received} received, {loss:.0f}% loss"
    if rtts:
        text += f" · rtt min/avg/max {min(rtts):.3f}/{sum(rtts) / len(rtts):.3f}/{max(rtts):.3f} ms"
    return text


# --- rules -------------------------------------------------------------------------------

STOPS = ("DROP", "REJECT")
PACKETS_WIDTH = 7
BYTES_WIDTH = 6
MARK = "!! "


def human_bytes(n: int) -> str:
    """Bytes in at most six characters: exact below 100000, then K, M, G, T."""
    if n < 100_000:
        return str(n)
    value = float(n)
    for unit in "KMGT":
        value /= 1024
        if value < 1000 or unit == "T":
            return f"{value:.0f}{unit}" if value >= 100 else f"{value:.1f}{unit}"
    return str(n)  # pragma: no cover


def _counts(c: Counters | None) -> str:
    if c is None:
        return f"{'-':>{PACKETS_WIDTH}} {'-':>{BYTES_WIDTH}}"
    return f"{c.packets:>{PACKETS_WIDTH}} {human_bytes(c.bytes):>{BYTES_WIDTH}}"


def _chain_line(c: ChainReport) -> Line:
    head: list[tuple[str, Style]] = [(f"  {c.name}", "path")]
    if c.policy is not None:
        style: Style = "bad" if c.policy in ("DROP", "REJECT") else ""
        head.append((f"  policy {c.policy}", style))
        if c.counters is not None:
            head.append(
                (f" ({c.counters.packets} packets, {c.counters.bytes} bytes)", "muted"),
            )
    if c.hook:
        head.append((f"  [{c.hook}]", "muted"))
    if not c.matches:
        words = f"  ({c.rule_count} rules, none concerns it)" if c.rule_count else "  (empty)"
        head.append((words, "muted"))
    return tuple(head)


def _rule_line(m: RuleMatch, moved: CounterChange | None) -> Line:
    spec_style: Style = "bad" if m.blocking else ("" if m.direct else "muted")
    line: list[tuple[str, Style]] = [
        (MARK if m.blocking else " " * len(MARK), "bad"),
        (_counts(m.rule.counters), "muted"),
        ("  ", ""),
        (m.rule.spec, spec_style),
        (f"  # {m.reason}", "muted"),
    ]
    if moved is not None:
        line.append((f"  +{moved.packets} pkts +{moved.bytes} B", "moved"))
    return tuple(line)


NAT_NOTE = (
    " nat rules count only the first packet of a flow (connection tracking takes the rest"
    " of the ping the same way): +1 there is the whole ping"
)


def _is_nat(table: str) -> bool:
    """``nat``, ``ip nat``, ``ip6 nat``: the tables conntrack consults once per flow."""
    return table.split()[-1:] == ["nat"]


def _change_key(table: str, chain: str, position: int) -> tuple[str, str, int]:
    return (table, chain, position)


def rules_lines(
    report: RulesReport,
    changes: Sequence[CounterChange] | None = None,
    *,
    note: str = "",
    ping: str = "",
) -> list[Line]:
    """The report grouped by table and chain, each rule with its packet and byte counters
    and why it matched.  ``changes`` (after a ping): the rules whose counters moved come
    first, in ruleset order (the path the packets took), and are tagged below."""
    moved = {
        _change_key(ch.table, ch.chain, ch.rule.position if ch.rule else 0): ch
        for ch in changes or ()
    }
    lines: list[Line] = [((f"rules for {report.description}", "title"),)]
    if note:
        lines.append(((note, "muted"),))
    lines.extend(((f"note: {n}", "muted"),) for n in report.notes)
    lines.extend(((f"! {w}", "warning"),) for w in report.warnings)
    blocking = report.blocking
    if blocking:
        lines.append(((f"!! {len(blocking)} DROP/REJECT rule(s) would hit {report.item}", "bad"),))
    if changes is not None:
        lines.append((("", ""),))
        lines.append(
            (
                (f"Counters that moved during the {ping or 'ping'}", "heading"),
                (", in the order the packets meet them", "muted"),
            )
        )
        if not changes:
            lines.append(
                (
                    (
                        " none of the rules shown counted a packet (the packets took other chains)",
                        "muted",
                    ),
                )
            )

        for ch in path_order(report, changes):
            line: list[tuple[str, Style]] = [
                (f" +{ch.packets} pkts +{ch.bytes} B", "moved"),
                (f"  {ch.table} {ch.chain}  ", "path"),
            ]
            if ch.rule is None:
                chain = next(
                    (
                        c
                        for t in report.tables
                        if t.table == ch.table
                        for c in t.chains
                        if c.name == ch.chain
                    ),
                    None,
                )
                verdict = chain.policy if chain is not None else None
                line.append((f"policy {verdict or '?'}", "bad" if verdict in STOPS else ""))
                if verdict in STOPS:
                    line.append(("  <- the packets stopped here", "bad"))
            else:
                stops = ch.rule.verdict in STOPS
                line.append((ch.rule.spec, "bad" if stops else ""))
                if stops:
                    line.append(("  <- the packets stopped here", "bad"))
            lines.append(tuple(line))
        if any(_is_nat(ch.table) for ch in changes):
            lines.append(((NAT_NOTE, "muted"),))
    if not report.tables:
        lines.append((("", ""),))
        lines.append(((f"no rule concerns {report.kind} {report.item}", "muted"),))
        return lines
    lines.append((("", ""),))
    lines.append(
        (
            (
                f"{'':<{len(MARK)}}{'packets':>{PACKETS_WIDTH}} {'bytes':>{BYTES_WIDTH}}  "
                "rule  # why it concerns the item (!! DROP/REJECT that would hit it)",
                "muted",
            ),
        )
    )
    for t in report.tables:
        lines.append((("", ""),))
        lines.append(((f"{t.table} ({t.source})", "heading"),))
        for c in t.chains:
            lines.append(_chain_line(c))
            policy = moved.get(_change_key(t.table, c.name, 0))
            if policy is not None:
                lines.append(
                    (
                        (
                            f"{'':<{len(MARK)}}policy counters moved: "
                            f"+{policy.packets} pkts +{policy.bytes} B",
                            "moved",
                        ),
                    )
                )
            for m in c.matches:
                lines.append(
                    _rule_line(m, moved.get(_change_key(t.table, c.name, m.rule.position)))
                )
    matches = report.matches
    direct = sum(1 for m in matches if m.direct)
    summary = f"{len(matches)} rules shown, {direct} naming {report.item}"
    summary += f", {len(blocking)} blocking (!!)" if blocking else ", none blocking"
    lines.append((("", ""),))
    lines.append(((summary, "muted"),))
    return lines


def rules_problem_lines(item: str, message: str) -> list[Line]:
    return [((f"rules for {item}", "title"),), ((message, "warning"),)]


# --- doctor ------------------------------------------------------------------------------

STATUS_STYLES: Mapping[str, Style] = {
    "fail": "bad",
    "warn": "warning",
    "pass": "good",
    "skip": "muted",
}


def worst(statuses: Iterable[str]) -> str | None:
    """fail > warn > pass > skip; None for no statuses."""
    rank = {"fail": 3, "warn": 2, "pass": 1, "skip": 0}
    found = [s for s in statuses if s in rank]
    return max(found, key=lambda s: rank[s]) if found else None


def mark_status(report: ContainerReport, gateway: Sequence[Check] = ()) -> str | None:
    """The containers pane's mark: the worst check, with the gateway checks taken from the
    last ``d`` (the background run never pings) when there is one."""
    taken = {c.id for c in gateway}
    return worst(c.status for c in (*(c for c in report.checks if c.id not in taken), *gateway))


def marks_summary(statuses: Iterable[str | None]) -> str:
    """The containers pane's lower border: how many fail or warn."""
    counts = {"fail": 0, "warn": 0}
    known = 0
    for s in statuses:
        if s is not None:
            known += 1
        if s in counts:
            counts[s] += 1
    if not known:
        return ""
    parts = [f"{MARKS[s][0]} {n} {s}" for s, n in counts.items() if n]
    return "doctor: " + (", ".join(parts) if parts else f"{MARKS['pass'][0]} no fault")


def _verdict(report: ContainerReport, status: str | None) -> tuple[str, Style]:
    if not report.running:
        return (f"not running ({report.state})", "muted")
    first = report.first_failure
    if first is not None:
        return (f"FAIL at {first.id}", "bad")
    words = {"warn": "WARN", "pass": "ok", "skip": "nothing to check"}.get(status or "", "?")
    return (words, STATUS_STYLES.get(status or "", ""))


def doctor_lines(
    report: ContainerReport | None,
    *,
    container: str,
    running: bool = False,
    pinged: bool = True,
    problem: str = "",
    offline: bool = False,
) -> list[Line]:
    """A container's checks, failing ones first with their evidence and suggested fix.

    ``running``: the full walk (with the gateway ping) is still going; ``report`` is then
    the last one known, if any.  ``pinged``: whether ``report`` includes the ping.
    """
    lines: list[Line] = []
    head: list[tuple[str, Style]] = [(container, "title")]
    if report is not None:
        verdict, style = _verdict(report, worst_status(report))
        head.append((f"  {verdict}", style))
    lines.append(tuple(head))
    if running:
        lines.append(((f"checking {container}, pinging its gateway…", "muted"),))
    if problem:
        lines.append(((problem, "warning"),))
    footnote: list[Line] = []
    if offline:
        footnote.append(
            (
                (
                    "saved snapshot: ip_forward, the rules and the gateway ping are not known; "
                    "those checks skip",
                    "muted",
                ),
            )
        )
    elif report is not None and not pinged:
        footnote.append((("without the gateway ping (d runs it)", "muted"),))
    if report is None:
        return lines
    if report.note:
        lines.append(((report.note, "muted"),))
    skips = {c.summary for c in report.checks if c.status == "skip"}
    if all(c.status == "skip" for c in report.checks) and len(skips) == 1:
        lines.append(((f"{MARKS['skip'][0]} skip", "muted"), (f"  every check: {skips.pop()}", "")))
        return lines + footnote
    for check in display_order(report):
        symbol, style = MARKS[check.status]
        lines.append(
            (
                (f"{symbol} {check.status:<4}", STATUS_STYLES[check.status]),
                (f" {check.id}", "path"),
                (f"  {check.summary}", "" if check.status != "skip" else "muted"),
            )
        )
        if check.status in ("fail", "warn"):
            title = CHECK_TITLES.get(check.id)
            if title:
                lines.append(((f"     checks: {title}", "muted"),))
            for key, value in check.evidence:
                lines.append(((f"     {key}: ", "muted"), (value, "")))
            if check.fix:
                lines.append((("     fix: ", "muted"), (check.fix, "path")))
    return lines + footnote
