"""TCP and UDP health as rates: what one namespace's MIB counters did per second.

Pure, as ``rates`` is: the TUI reads the selected workload's counters every few seconds
(``collect.snmp.read_health``, two small ``/proc/PID/net`` files) and hands each read to a
``HealthMeter``, which keeps the last minute of them and returns an immutable
``HealthRates``.  A counter that went down means the namespace was made again (the
workload restarted): the history starts over rather than showing a negative rate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from inspector.model.snapshot import TcpHealth

HISTORY_S = 60.0
"""How far back the sparkline looks (as the interface rates' does)."""

FIELDS = tuple(f.name for f in fields(TcpHealth))


@dataclass(frozen=True)
class HealthRates:
    """Per-second rates of each ``TcpHealth`` counter over the last step, the retransmits
    per second of each step of the last minute (oldest first), and the totals now."""

    interval: float
    per_second: dict[str, float]
    retrans_history: tuple[float, ...]
    totals: TcpHealth

    def rate(self, name: str) -> float:
        return self.per_second.get(name, 0.0)

    @property
    def retransmit_share(self) -> float | None:
        """Segments sent again over segments sent, in the last step (None: none sent)."""
        sent = self.rate("out_segs")
        return self.rate("retrans_segs") / sent if sent > 0 else None


def health_between(before: TcpHealth, after: TcpHealth, seconds: float) -> dict[str, float] | None:
    """``after - before`` per second, counter by counter; None when one went down (the
    namespace is a new one) or no time passed."""
    if seconds <= 0:
        return None
    deltas = {n: getattr(after, n) - getattr(before, n) for n in FIELDS}
    if min(deltas.values()) < 0:
        return None
    return {n: d / seconds for n, d in deltas.items()}


class HealthMeter:
    """Successive reads of one namespace's counters (``at``: ``time.monotonic()``) into
    ``HealthRates``; ``None`` until two reads make a step."""

    def __init__(self) -> None:
        self._last: tuple[float, TcpHealth] | None = None
        self._history: tuple[tuple[float, float], ...] = ()  # (at, retransmits/s)

    def add(self, at: float, health: TcpHealth) -> HealthRates | None:
        last, self._last = self._last, (at, health)
        if last is None:
            return None
        per = health_between(last[1], health, at - last[0])
        if per is None:
            self._history = ()
            return None
        kept = tuple(h for h in self._history if h[0] > at - HISTORY_S)
        self._history = (*kept, (at, per["retrans_segs"]))
        return HealthRates(at - last[0], per, tuple(v for _, v in self._history), health)
