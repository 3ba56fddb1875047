"""The doctor's TCP health step: listen queues that overflow, and a retransmit ratio above
``RETRANSMIT_WARN_RATIO``, from the namespace's own MIB counters (``collect.snmp``).

Warn, never fail: the counters are totals since the namespace was made, so they tell of
trouble that happened, not that the path is broken now.  The numbers are the evidence.
"""

from __future__ import annotations

from inspector.doctor.context import Context, new_check
from inspector.doctor.model import Check, unchecked
from inspector.model.snapshot import TcpHealth

# Above this share of segments sent again, over at least MIN_SEGMENTS, the doctor warns:
# a healthy LAN retransmits well under 1%; 2% is where throughput visibly suffers.
RETRANSMIT_WARN_RATIO = 0.02
MIN_SEGMENTS = 1000


def retransmit_ratio(h: TcpHealth) -> float | None:
    """Retransmitted over sent segments, or None when too few were sent to judge."""
    if h.out_segs < MIN_SEGMENTS:
        return None
    return h.retrans_segs / h.out_segs


def check_tcp(ctx: Context) -> Check:
    health = ctx.facts.tcp_health.get(ctx.owner.name)
    if health is None:
        why = ctx.facts.missing or "its /proc/PID/net/snmp could not be read"
        return new_check(
            "tcp", "skip", unchecked("the namespace's TCP counters were not read", why)
        )
    evidence = [
        ("segments sent / retransmitted", f"{health.out_segs} / {health.retrans_segs}"),
        ("listen overflows / drops", f"{health.listen_overflows} / {health.listen_drops}"),
        ("resets sent / connections reset", f"{health.out_rsts} / {health.estab_resets}"),
        ("failed connection attempts", str(health.attempt_fails)),
        ("UDP receive-buffer errors", str(health.udp_rcvbuf_errors)),
    ]
    problems: list[str] = []
    if health.listen_overflows or health.listen_drops:
        problems.append(
            f"{health.listen_overflows} listen queue overflows and {health.listen_drops} "
            "dropped connection requests: a server accepts slower than clients connect "
            "(raise its backlog or accept faster)"
        )
    ratio = retransmit_ratio(health)
    if ratio is not None and ratio > RETRANSMIT_WARN_RATIO:
        problems.append(
            f"{ratio:.1%} of TCP segments were sent again (above {RETRANSMIT_WARN_RATIO:.0%}): "
            "loss or congestion on the path"
        )
    if problems:
        return new_check("tcp", "warn", "; ".join(problems), evidence)
    return new_check("tcp", "pass", "no listen overflow, retransmits within bounds", evidence)
