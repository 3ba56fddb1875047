"""What the Connections view shows, as plain data: no Textual here.

Three tables for one workload: the sockets listening in its namespace with their process;
each published port's chain, host port -> DNAT rule -> container port -> listener (or
"none") with a verdict; and its flows from conntrack, the busiest first when the kernel
counts bytes.  Plus one line of TCP health as rates between two reads, with a sparkline.
Host text (process names) is shown with control characters escaped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspector.live.rates import count_words, human_rate, sparkline
from inspector.model.snapshot import Container, PublishedPort, TcpHealth
from inspector.rules import Rulesets
from inspector.tui.view import Column, Row, Style, sort_cycle, sort_rows

if TYPE_CHECKING:  # the collectors load only on the live host
    from inspector.collect.connections import Connections
    from inspector.collect.conntrack import Flow, Talker
    from inspector.collect.sockets import Socket

LISTENER_COLUMNS = (
    Column("Proto", 5, 5),
    Column("Local", 30, 12, middle=True),
    Column("Peer", 30, 8, middle=True, priority=3),
    Column("Process", 24, 8, priority=1),
    Column("Queue", 10, 5, priority=2, sortable=False),
)
CHAIN_COLUMNS = (
    Column("Host port", 24, 10),
    Column("DNAT", 34, 10, middle=True, priority=2),
    Column("Container", 24, 10, priority=1),
    Column("Listener", 24, 8, priority=3),
    Column("Verdict", 18, 6),
)
FLOW_COLUMNS = (
    Column("Proto", 5, 5),
    Column("State", 11, 5, priority=2),
    Column("Flow", 70, 20, middle=True),
    Column("Left", 7, 4, priority=3, descending=True),
    Column("Bytes", 7, 5, priority=1, descending=True),
    Column("Pkts", 7, 4, priority=4, descending=True, optional=True),
)
FLOW_SORTS = sort_cycle(FLOW_COLUMNS, 4)
"""Flows by bytes first (the top talkers), then the other columns."""
MAX_SHOWN_FLOWS = 100
"""Rows of the flows table: the first ones in its order (a table of thousands costs the
first paint ~0.2 ms a row and nobody reads past a screenful; ``/`` narrows the rest)."""
ANY = ("0.0.0.0", "::", "*")
HISTORY = 30  # health reads kept for the sparkline


def plain(text: str) -> str:
    """Host text with control characters escaped (a process may name itself anything)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _hostport(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _process(s: Socket) -> str:
    if not s.pids:
        return "(no process inside)" if s.process == "" else plain(s.process)
    more = f" +{len(s.pids) - 1}" if len(s.pids) > 1 else ""
    return f"{plain(s.process)} ({s.pids[0]}{more})"


def listener_rows(conns: Connections) -> tuple[Row, ...]:
    """The listeners, then the established TCP connections (when they were read), each
    with its process; a listener's queue is its accept queue against its backlog."""
    rows = []
    for s in conns.sockets.sockets:
        if s.listening:
            peer = "*"
            queue = f"{s.queue}/{s.backlog}" if s.protocol == "tcp" else ""
            full = s.protocol == "tcp" and s.backlog > 0 and s.queue >= s.backlog
            style: Style = "warning" if full else ""
        else:
            peer, queue, style = _hostport(s.remote, s.remote_port), "", "muted"
        rows.append(
            Row(
                f"s:{s.state}:{s.protocol}:{s.local}:{s.local_port}:{s.remote_port}:{s.inode}",
                (s.protocol, _hostport(s.local, s.local_port), peer, _process(s), queue),
                style,
            )
        )
    return tuple(rows)


def dnat_rule(rulesets: Rulesets, ips: Sequence[str], port: PublishedPort) -> str | None:
    """``CHAIN DNAT ADDRESS:PORT`` of the first DNAT rule sending ``port``'s host port to one of ``ips``."""
    wanted = {_hostport(ip, port.container_port) for ip in ips}
    for table in rulesets.tables:
        for chain in table.chains:
            for rule in chain.rules:
                if rule.verdict != "DNAT" or rule.target is None:
                    continue
                to = rule.target.option("--to-destination")
                if to is None or to.value not in wanted:
                    continue
                dports = [*rule.options("--dport"), *rule.options("--dports")]
                if dports and not any(str(port.host_port) in o.values for o in dports):
                    continue
                return f"{chain.name} DNAT {to.value}"
    return None


@dataclass(frozen=True)
class Chain:
    port: PublishedPort
    dnat: str  # the rule, "(rules not read)" or "none"
    target: str  # container address:port
    listener: str  # "httpd 0.0.0.0:80" or "none"
    verdict: str
    ok: bool


def chains(
    container: Container, conns: Connections | None, rulesets: Rulesets | None
) -> list[Chain]:
    """Each published port from the host to what listens behind it, with a verdict."""
    ips = [ip for ip in container.ips if ip]
    out = []
    for p in container.ports:
        if p.host_port is None:
            continue
        target = _hostport(ips[0], p.container_port) if ips else f"?:{p.container_port}"
        dnat = "(rules not read)"
        if rulesets is not None:
            dnat = dnat_rule(rulesets, ips, p) or "none"
        listener, verdict, ok = "(not read)", "sockets not read", False
        if (conns is not None and conns.sockets.problem is None) or (
            conns is not None and conns.sockets.sockets
        ):
            assert conns is not None
            here = [
                s
                for s in conns.sockets.listeners
                if s.protocol == p.protocol and s.local_port == p.container_port
            ]
            reachable = [s for s in here if s.local in ANY or s.local in ips]
            if reachable:
                s = reachable[0]
                listener = f"{plain(s.process) or '?'} {_hostport(s.local, s.local_port)}"
                verdict, ok = "listening", dnat != "none"
                if dnat == "none":
                    verdict = "no DNAT rule"
            elif here:
                listener = (
                    f"{plain(here[0].process) or '?'} {_hostport(here[0].local, p.container_port)}"
                )
                verdict = "loopback only"
            else:
                listener, verdict = "none", "nothing listens"
        out.append(Chain(p, dnat, target, listener, verdict, ok))
    return out


def chain_rows(chain_list: Sequence[Chain]) -> tuple[Row, ...]:
    rows = []
    for c in chain_list:
        host = f"{c.port.host_ip or '0.0.0.0'}:{c.port.host_port}/{c.port.protocol}"
        rows.append(
            Row(
                f"p:{host}",
                (host, c.dnat, c.target, c.listener, c.verdict),
                "" if c.ok else "bad",
            )
        )
    return tuple(rows)


def flow_rows(flows: Sequence[Flow]) -> tuple[Row, ...]:
    """Every flow as a row, keyed by both tuples: built once a read, on the reader's
    thread (``FlowTable``), then only filtered and cut on the UI thread."""
    rows = []
    for f in flows:
        text = f.text()
        cells = (
            f.protocol,
            f.state or "-",
            text,
            f"{f.timeout_s}s",
            human_rate(f.bytes) if f.bytes is not None else "-",
            count_words(f.packets) if f.packets is not None else "-",
        )
        o, r = f.original, f.reply
        rows.append(
            Row(
                f"f:{f.protocol}:{o.src}:{o.sport}:{o.dst}:{o.dport}:{r.src}:{r.sport}",
                cells,
                sort_values=(
                    None,
                    None,
                    None,
                    float(f.timeout_s),
                    float(f.bytes) if f.bytes is not None else None,
                    float(f.packets) if f.packets is not None else None,
                ),
            )
        )
    return tuple(rows)


def matching(rows: Sequence[Row], needle: str) -> Sequence[Row]:
    """The rows with a cell holding ``needle`` (case-insensitive)."""
    needle = needle.strip().lower()
    if not needle:
        return rows
    return tuple(r for r in rows if any(needle in c.lower() for c in r.cells))


@dataclass(frozen=True)
class FlowTable:
    """One read's flows as rows and its top talkers: plain data made off the UI thread."""

    rows: tuple[Row, ...]
    talkers: tuple[Talker, ...]


def flow_table(conns: Connections, own: Sequence[str]) -> FlowTable:
    """The rows of every flow and the peers ``own`` (the workload's addresses) exchanged
    the most bytes with (none when the kernel does not count them)."""
    from inspector.collect.conntrack import top_talkers  # why: the TUI starts with no collector

    flows = conns.flows.flows
    talkers = top_talkers(flows, own) if conns.flows.accounting else []
    return FlowTable(flow_rows(flows), tuple(talkers))


def talkers_line(talkers: Sequence[Talker]) -> str:
    """``Top talkers: 10.0.0.7 1.2M (3 flows) · ...``; empty without byte counts."""
    if not talkers:
        return ""
    words = [
        f"{plain(t.peer)} {human_rate(t.bytes)}B ({t.flows} flow{'s' if t.flows != 1 else ''})"
        for t in talkers
    ]
    return "Top talkers: " + " · ".join(words)


def shown_flows(rows: Sequence[Row], by: int | None) -> tuple[tuple[Row, ...], int]:
    """The first ``MAX_SHOWN_FLOWS`` of ``rows`` in the table's order ``by``, and how many
    there were."""
    if by is None or len(rows) <= MAX_SHOWN_FLOWS:
        ordered = sort_rows(rows, FLOW_COLUMNS, by)
        return ordered[:MAX_SHOWN_FLOWS], len(ordered)
    # Thousands of rows: a plain key (the natural order of names costs ~16 us a row),
    # then the table orders the few it shows as it orders everything.
    col = FLOW_COLUMNS[by]

    def key(r: Row) -> tuple[int, float, str]:
        value = r.sort_values[by] if by < len(r.sort_values) else None
        if value is None:
            return (1, 0.0, r.cells[by].casefold())
        return (0, -value if col.descending else value, "")

    busiest = sorted(rows, key=key)
    return tuple(busiest[:MAX_SHOWN_FLOWS]), len(busiest)


def row_text(row: Row) -> str:
    """What ``y`` copies: the row's cells, as shown, two spaces apart."""
    return "  ".join(c for c in row.cells if c)


def flows_note(conns: Connections, shown: int, matching: int, *, reading: bool = False) -> str:
    """One line about the flows: a problem, counting off, a table cut short, the first
    flows of a read still decoding the rest (``reading``)."""
    read = conns.flows
    if read.problem:
        return read.problem
    parts = [
        f"the first {len(read.flows)} flows, reading the rest…"
        if reading
        else f"{len(read.flows)} flows"
    ]
    if matching != len(read.flows):
        parts.append(f"· {matching} match the filter")
    if shown < matching:
        parts.append(f"· the first {shown} shown (s: another order, /: filter)")
    if read.truncated:
        parts.append("(the first ones only)")
    if not read.accounting:
        parts.append(
            "· byte counts off: net.netfilter.nf_conntrack_acct is 0 (cnet does not turn it on)"
        )
    return " ".join(parts)


HEALTH_RATES = (
    ("retrans", "retrans_segs"),
    ("resets out", "out_rsts"),
    ("reset", "estab_resets"),
    ("failed", "attempt_fails"),
    ("overflows", "listen_overflows"),
    ("udp rcvbuf err", "udp_rcvbuf_errors"),
)


def health_line(history: Sequence[tuple[float, TcpHealth]]) -> str:
    """Per-second rates between the last two reads, and a sparkline of retransmits."""
    if not history:
        return "TCP health: not read"
    if len(history) < 2:
        h = history[-1][1]
        return (
            f"TCP totals: {h.retrans_segs} retransmitted of {h.out_segs} sent · "
            f"{h.listen_overflows} listen overflows · {h.out_rsts} resets sent · rates next read"
        )
    per: list[float] = []
    for (t0, a), (t1, b) in itertools.pairwise(history):
        span = max(t1 - t0, 1e-3)
        per.append(max(0, b.retrans_segs - a.retrans_segs) / span)
    (t0, a), (t1, b) = history[-2], history[-1]
    span = max(t1 - t0, 1e-3)
    words = [
        f"{label} {count_words(max(0, getattr(b, field) - getattr(a, field)) / span)}/s"
        for label, field in HEALTH_RATES
    ]
    return f"TCP {sparkline(per, 12)} " + " · ".join(words)
