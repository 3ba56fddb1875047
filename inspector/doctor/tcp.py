"""The doctor's TCP health step: listen queues that overflow, and a retransmit ratio above
``RETRANSMIT_WARN_RATIO``, from the namespace's own MIB counters (``collect.snmp``).

Warn, never fail: the counters are totals since the namespace was made, so they tell of
trouble that happened, not that the path is broken now.  The numbers are the evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.collect.snmp import RETRANSMIT_WARN_RATIO, retransmit_ratio
from inspector.doctor.model import Check

if TYPE_CHECKING:
    from inspector.doctor.checks import Context


def check_tcp(ctx: Context) -> Check:
    health = ctx.facts.tcp_health.get(ctx.owner.name)
    if health is None:
        return Check("tcp", "skip", "the namespace's TCP counters were not read")
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
        return Check("tcp", "warn", "; ".join(problems), tuple(evidence))
    return Check("tcp", "pass", "no listen overflow, retransmits within bounds", tuple(evidence))
