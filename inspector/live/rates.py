"""Rates from successive counter samples: bytes, packets, drops and errors per second.

Pure: the sampler (``inspector.live.sampler``) reads the counters and hands each ``Sample``
to a ``RateMeter``, which returns an immutable ``Rates`` for the TUI; ``recorded_rates``
turns one into what a snapshot keeps (``inspector.model.snapshot.RecordedRates``).  A counter that
goes down, or an interface whose identity (ifindex) changed between two samples, was
recreated: that interface has no rate for that step rather than a negative or a huge one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from inspector.model.natural import natural_key
from inspector.model.snapshot import ContainerRate, InterfaceRate, LinkRate, RecordedRates
from inspector.model.snapshot import (
    Rate as Rate,  # re-exported: the TUI and the tests take it from here
)

if TYPE_CHECKING:  # a record only: nothing here reads a counter
    from inspector.collect.counters import Counters

InterfaceKey = tuple[str, str]
"""(container name, interface name inside it), as ``inspector.collect.counters`` keys them."""
K = TypeVar("K", InterfaceKey, str)

HISTORY_S = 60.0
"""How far back the sparkline looks."""
MIN_INTERVAL_S = 0.2
"""Two samples closer than this are too close to divide by: the second is skipped."""


ZERO = Rate()


def rate_between(before: Counters, after: Counters, seconds: float) -> Rate | None:
    """``after - before`` per second; None when a counter went down (a reset).

    Field by field, not by ``getattr`` over the names: it runs for every interface every
    second (about 400 times at 200 containers), and this is a third of the cost."""
    if seconds <= 0:
        return None
    deltas = (
        after.rx_bytes - before.rx_bytes,
        after.tx_bytes - before.tx_bytes,
        after.rx_packets - before.rx_packets,
        after.tx_packets - before.tx_packets,
        after.rx_dropped - before.rx_dropped,
        after.tx_dropped - before.tx_dropped,
        after.rx_errors - before.rx_errors,
        after.tx_errors - before.tx_errors,
    )
    if min(deltas) < 0:
        return None
    return Rate(*[d / seconds for d in deltas])


def total(rates: Iterable[Rate]) -> Rate:
    out = ZERO
    for r in rates:
        out = out + r
    return out


@dataclass(frozen=True)
class Sample:
    """Counters read at one moment (``at``: ``time.monotonic()``).

    ``identity``: what tells a recreated interface from the old one of the same name (its
    ifindex), by the same keys as ``interfaces`` and ``host``.
    """

    at: float
    interfaces: Mapping[InterfaceKey, Counters]
    """Container interfaces, by (container, interface), from the container's side."""
    host: Mapping[str, Counters]
    """Host links by name, as the host counts them (``ip -s link``)."""
    identity: Mapping[InterfaceKey | str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    """One step of the history: bytes per second (rx + tx) by container and host link;
    a quiet one (0) is left out."""

    at: float
    containers: Mapping[str, float]
    host: Mapping[str, float]


@dataclass(frozen=True)
class Rates:
    """The rates of one step and the last minute's history.  Never changed once made."""

    at: float
    interval: float
    """Seconds since the sample before (what the rates are averaged over)."""
    interfaces: Mapping[InterfaceKey, Rate]
    containers: Mapping[str, Rate]
    """Summed over the container's interfaces (loopback left out: it never leaves)."""
    host: Mapping[str, Rate]
    history: tuple[Frame, ...] = ()

    def container_history(self, name: str) -> list[float]:
        return [f.containers.get(name, 0.0) for f in self.history]

    def host_history(self, name: str) -> list[float]:
        return [f.host.get(name, 0.0) for f in self.history]


def _step(
    before: Mapping[K, Counters],
    after: Mapping[K, Counters],
    seconds: float,
    old_ids: Mapping[InterfaceKey | str, int],
    new_ids: Mapping[InterfaceKey | str, int],
) -> dict[K, Rate]:
    out: dict[K, Rate] = {}
    for key, now in after.items():
        then = before.get(key)
        if then is None or old_ids.get(key) != new_ids.get(key):
            continue
        if now is then or now == then:  # a quiet interface (most, at idle): no arithmetic
            out[key] = ZERO
            continue
        r = rate_between(then, now, seconds)
        if r is not None:
            out[key] = r
    return out


def rates_between(before: Sample, after: Sample, history: Sequence[Frame] = ()) -> Rates:
    """The rates from ``before`` to ``after``, with ``history`` (older frames) extended by
    this step and cut to the last ``HISTORY_S`` seconds."""
    seconds = after.at - before.at
    ifaces = _step(before.interfaces, after.interfaces, seconds, before.identity, after.identity)
    host = _step(before.host, after.host, seconds, before.identity, after.identity)
    by_container: dict[str, list[Rate]] = {}
    for (container, name), r in ifaces.items():
        if name != "lo":
            by_container.setdefault(container, []).append(r)
    # one interface (most containers): its rate as it is, not a sum made anew each second
    containers = {c: rs[0] if len(rs) == 1 else total(rs) for c, rs in by_container.items()}
    frame = Frame(  # the quiet are left out: a history reads them as 0
        after.at,
        {c: r.total_bytes for c, r in containers.items() if r is not ZERO},
        {n: r.total_bytes for n, r in host.items() if r is not ZERO},
    )
    kept = (*tuple(f for f in history if f.at > after.at - HISTORY_S), frame)
    return Rates(after.at, seconds, ifaces, containers, host, kept)


def recorded_rates(rates: Rates) -> RecordedRates:
    """What a snapshot keeps of ``rates``: this step's, without the history, each list in
    natural order of its names."""
    return RecordedRates(
        rates.interval,
        tuple(
            ContainerRate(name, rates.containers[name])
            for name in sorted(rates.containers, key=natural_key)
        ),
        tuple(
            InterfaceRate(c, i, rates.interfaces[(c, i)])
            for c, i in sorted(
                rates.interfaces, key=lambda k: (natural_key(k[0]), natural_key(k[1]))
            )
        ),
        tuple(LinkRate(name, rates.host[name]) for name in sorted(rates.host, key=natural_key)),
    )


class RateMeter:
    """Turns successive samples into ``Rates``; keeps the previous sample and the history."""

    def __init__(self) -> None:
        self._last: Sample | None = None
        self._rates: Rates | None = None

    def add(self, sample: Sample) -> Rates | None:
        """The rates since the previous sample (None for the first one, or one too soon)."""
        last = self._last
        if last is not None and sample.at - last.at < MIN_INTERVAL_S:
            return None
        self._last = sample
        if last is None:
            return None
        history = self._rates.history if self._rates is not None else ()
        self._rates = rates_between(last, sample, history)
        return self._rates


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], cells: int, per: int = 1) -> str:
    """The last ``cells * per`` of ``values`` (oldest first) as at most ``cells`` block
    characters, each the peak of ``per`` values counted from the newest, scaled to the
    largest; empty when there are none.

    ``per`` is fixed, not worked out from how many values there are: a history that holds
    60 values one step and 61 the next would otherwise change the line's width, and the
    detail would be drawn again every second while nothing moves.
    """
    if not values or cells <= 0 or per <= 0:
        return ""
    values = values[-cells * per :]
    oldest = len(values) % per  # a partial group at the old end
    peaks = [max(values[:oldest])] if oldest else []
    peaks.extend(max(values[n : n + per]) for n in range(oldest, len(values), per))
    top = max(peaks)
    if top <= 0:
        return BARS[0] * len(peaks)
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))] for v in peaks)


def human_rate(value: float) -> str:
    """Bytes per second in at most 5 cells: ``0``, ``512``, ``1.5K``, ``12M``, ``3.4G``."""
    if value < 0.5:
        return "0"
    for unit in ("", "K", "M", "G", "T"):
        if value < 999.5:
            if unit == "" or value >= 9.95:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.0f}P"


def rate_cells(rate: Rate) -> tuple[str, str]:
    """The Rx/s and Tx/s cells of the TUI's panes and of the reports' tables."""
    return human_rate(rate.rx_bytes), human_rate(rate.tx_bytes)


def count_words(value: float) -> str:
    """Packets, drops or errors per second: whole from 10 up, else one decimal if any."""
    return f"{value:.0f}" if value >= 9.95 or value == int(value) else f"{value:.1f}"


def trouble_words(what: str, rx: float, tx: float) -> str:
    """``drops 0/s``; when some, which way (``drops 3/s (in 3, out 0)``)."""
    if rx + tx <= 0:
        return f"{what} 0/s"
    return f"{what} {count_words(rx + tx)}/s (in {count_words(rx)}, out {count_words(tx)})"


ZERO_CELLS = rate_cells(ZERO)
RateCells = tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]
"""The rate cells of the containers and of the host links, by name."""


def shown_rates(rates: Rates) -> RateCells:
    """What the rate cells say for ``rates``: two steps that say the same need no redraw."""

    def cells(by: Mapping[str, Rate]) -> dict[str, tuple[str, str]]:
        # a quiet interface's rate is ZERO itself (``_step``): its cells need no formatting
        return {k: ZERO_CELLS if r is ZERO else rate_cells(r) for k, r in by.items()}

    return cells(rates.containers), cells(rates.host)


def moved_rates(before: RateCells | None, after: RateCells, of: int = 0) -> set[str]:
    """The containers (``of`` 1: the host links) whose rate cells say something else than
    ``before``'s: the only rows a rates tick draws again."""
    old = before[of] if before is not None else {}
    new = after[of]
    return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
