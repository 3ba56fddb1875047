"""The detail panel's traffic lines: the last minute as a sparkline, then rates each way.

Apart from ``view`` because they are drawn from the sampler's rates, not from a snapshot:
the app adds them to a container's or an interface's detail on every rates tick.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspector.live.rates import (
    Rate,
    Rates,
    count_words,
    human_rate,
    sparkline,
    trouble_words,
)
from inspector.model.paths import is_loopback
from inspector.model.snapshot import Container, Interface
from inspector.tui.view import Line

SPARK_CELLS = 30
"""The sparkline's width: the last minute, two seconds a cell."""
SPARK_PER = 2
"""Steps (one a second) in a sparkline's cell."""


def rate_lines(
    rate: Rate | None, history: Sequence[float], parts: Sequence[tuple[str, Rate]] = ()
) -> list[Line]:
    """The detail's traffic lines: the last minute as a sparkline, then bytes and packets
    per second each way, drops and errors, and ``parts`` (a container's interfaces)."""
    if rate is None:
        return []
    peak = max(history, default=0.0)
    lines: list[Line] = [
        (("Traffic", "heading"), (f"  last minute, peak {human_rate(peak)}B/s", "muted")),
        ((" " + sparkline(history, SPARK_CELLS, SPARK_PER), "path"),),
        (
            (
                f" rx {_flow(rate.rx_bytes, rate.rx_packets)}  tx {_flow(rate.tx_bytes, rate.tx_packets)}",
                "",
            ),
        ),
    ]
    for name, r in parts:
        lines.append(
            (
                (
                    f"   {name}: rx {human_rate(r.rx_bytes)}B/s  tx {human_rate(r.tx_bytes)}B/s",
                    "muted",
                ),
            )
        )
    lines.append(((f" {trouble_words('drops', rate.rx_dropped, rate.tx_dropped)}  "
                   f"{trouble_words('errors', rate.rx_errors, rate.tx_errors)}",
                   "warning" if rate.dropped > 0 or rate.errors > 0 else "muted"),))  # fmt: skip
    return lines


def _flow(size: float, packets: float) -> str:
    return f"{human_rate(size)}B/s {count_words(packets)} pkt/s"


def container_rates(rates: Rates | None, c: Container) -> list[Line]:
    """A container's traffic in the detail: summed, and per interface (loopback left out)."""
    if rates is None or not c.running:
        return []
    parts = [
        (i.name, rates.interfaces[(c.name, i.name)])
        for i in c.interfaces
        if not is_loopback(i) and (c.name, i.name) in rates.interfaces
    ]
    return rate_lines(
        rates.containers.get(c.name),
        rates.container_history(c.name),
        parts if len(parts) > 1 else (),
    )


def interface_rates(rates: Rates | None, i: Interface) -> list[Line]:
    """A host link's traffic in the detail, as the link itself counts it."""
    if rates is None:
        return []
    return rate_lines(rates.host.get(i.name), rates.host_history(i.name))
