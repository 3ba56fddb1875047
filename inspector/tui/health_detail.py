"""The detail panel's TCP/UDP health: the selected workload's counters as rates.

Apart from the app because it has a reader of its own: a one-second timer that, for the
workload under the Containers cursor only, asks a thread worker for its counters at most
every ``EVERY_S`` (two small ``/proc/PID/net`` files; never every namespace, never on the
UI thread).  The worker posts ``HealthRead``; the app hands it to ``arrived`` and redraws
the detail, whose lines ``lines`` makes from the ``HealthMeter``'s immutable rates.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from inspector.doctor.tcp import RETRANSMIT_WARN_RATIO
from inspector.live.health_rates import HealthMeter, HealthRates
from inspector.live.rates import count_words, sparkline
from inspector.tui.detached import Abandoned

if TYPE_CHECKING:
    from inspector.model.snapshot import Snapshot, TcpHealth
    from inspector.tui.app import CnetApp
    from inspector.tui.backends import HealthReader
    from inspector.tui.view import Line

EVERY_S = 3.0
"""How often the selected workload's counters are read (a change of selection: at once)."""
TICK_S = 1.0
SPARK_CELLS = 20
"""The sparkline: the last minute, one cell a read."""


class HealthRead(Message):
    """A workload's counters, read at ``at`` (``time.monotonic()``); None: unreadable."""

    def __init__(self, name: str, at: float, health: TcpHealth | None) -> None:
        super().__init__()
        self.name = name
        self.at = at
        self.health = health


class HealthWatch:
    """The selected workload's TCP health: what is read, when, and what the detail shows."""

    def __init__(
        self,
        app: CnetApp,
        read: HealthReader | None,
    ) -> None:
        self._app = app
        self._read = read
        self.name: str | None = None  # the workload the meter follows
        self.rates: HealthRates | None = None
        self.problem: str | None = None
        self._meter = HealthMeter()
        self._asked = 0.0
        self._busy = False

    def start(self) -> None:
        if self._read is not None:
            self._app.set_interval(TICK_S, self.tick)

    def tick(self) -> None:
        """Read the selected workload when it is due (or newly selected), one read at a time."""
        c, snapshot = self._app.selected_container(), self._app.current_snapshot()
        if self._read is None or self._busy or c is None or snapshot is None or not c.running:
            return
        now = time.monotonic()
        if c.name == self.name and now - self._asked < EVERY_S:
            return
        if c.name != self.name:
            self.name, self.rates, self.problem = c.name, None, None
            self._meter = HealthMeter()
        self._asked, self._busy = now, True
        job = partial(self._work, self._read, snapshot, c.name)
        # A description of its own: Textual's default is repr(job), the whole snapshot (at
        # 1,000 namespaces that repr was a third of the idle TUI's CPU).
        self._app.run_worker(
            job, thread=True, group="tcp-health", name="tcp health", description="tcp health"
        )

    def _work(self, read: HealthReader, snapshot: Snapshot, name: str) -> None:
        """On the worker's thread."""
        try:
            health = read(snapshot, name)
        except Abandoned:  # the app is closing
            return
        except Exception:  # KeyError: gone from the snapshot; the detail says unreadable
            health = None
        self._app.post_message(HealthRead(name, time.monotonic(), health))

    def arrived(self, message: HealthRead) -> bool:
        """Take a read in; True when the detail shows something new."""
        self._busy = False
        if message.name != self.name:
            return False  # the selection moved on meanwhile
        if message.health is None:
            self.problem = "its /proc/PID/net/snmp could not be read (gone?)"
            return True
        self.problem = None
        self.rates = self._meter.add(message.at, message.health)
        return True

    def lines(self, name: str) -> list[Line]:
        """The detail's health lines for ``name`` (none while another is followed)."""
        if name != self.name:
            return []
        if self.problem is not None:
            return [(("TCP health", "heading"), (f"  {self.problem}", "muted"))]
        return health_lines(self.rates)


def health_lines(rates: HealthRates | None) -> list[Line]:
    """A sparkline of the last minute's retransmits, then each counter per second."""
    if rates is None:
        return [(("TCP health", "heading"), ("  rates after the next read", "muted"))]
    peak = max(rates.retrans_history, default=0.0)
    share = rates.retransmit_share
    sent = f" ({share:.1%} of {count_words(rates.rate('out_segs'))}/s sent)" if share else ""

    def per(label: str, name: str) -> str:
        return f"{label} {count_words(rates.rate(name))}/s"

    trouble = any(
        rates.rate(n) > 0 for n in ("listen_overflows", "listen_drops", "udp_rcvbuf_errors")
    )
    return [
        (
            ("TCP health", "heading"),
            (f"  last minute of retransmits, peak {count_words(peak)}/s", "muted"),
        ),
        ((" " + sparkline(rates.retrans_history, SPARK_CELLS), "path"),),
        (
            (
                f" {per('retrans', 'retrans_segs')}{sent}  {per('resets sent', 'out_rsts')}"
                f"  {per('reset', 'estab_resets')}  {per('failed', 'attempt_fails')}",
                "warning" if share is not None and share > RETRANSMIT_WARN_RATIO else "",
            ),
        ),
        (
            (
                f" {per('listen overflows', 'listen_overflows')}  "
                f"{per('drops', 'listen_drops')}  {per('UDP rcvbuf errors', 'udp_rcvbuf_errors')}",
                "warning" if trouble else "muted",
            ),
        ),
    ]
