"""The doctor's marks on the Containers pane, and the doctor view ``d`` opens: state only.

The App runs the doctor on its workers and routes their messages here.  ``Marks`` keeps the
reports of the snapshot shown (a background run, no ping), the gateway checks of each ``d``
with the pings they were judged from (per namespace: every container sharing it gets them)
and the run the detail panel waits for, and answers what the panes ask: a container's mark,
the doctor's lines, and the pings an export records so that it judges as the marks do.  No
widgets: the App redraws after each change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from inspector.tui.action_view import doctor_lines, mark_status

if TYPE_CHECKING:
    from inspector.doctor import Check, ContainerReport
    from inspector.doctor.model import GatewayPing
    from inspector.doctor.recorded import NamespacePings
    from inspector.model.snapshot import Snapshot
    from inspector.tui.view import Line

GATEWAY_CHECK_FRESH_S = 60.0
"""How long the gateway pings of a ``d`` count in the marks of the containers of that
namespace (the background runs for the marks never ping)."""

GATEWAY_CHECK_IDS = ("gateway", "gateway6")


class DoctorMarks(Message):
    """The doctor's reports (no ping) for every container of ``snapshot``."""

    def __init__(
        self, snapshot: Snapshot, reports: tuple[ContainerReport, ...], error: str | None
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.reports = reports
        self.error = error


class DoctorReady(Message):
    """The full walk (with the gateway ping) for one container of ``snapshot``, asked for
    with ``d``."""

    def __init__(
        self,
        run: int,
        snapshot: Snapshot,
        name: str,
        report: ContainerReport | None,
        error: str | None,
    ) -> None:
        super().__init__()
        self.run = run
        self.snapshot = snapshot
        self.name = name
        self.report = report
        self.error = error


@dataclass(frozen=True)
class Pinged:
    """The gateway checks of one ``d`` and the pings behind them, for one namespace."""

    at: float  # monotonic
    checks: tuple[Check, ...]
    ping: GatewayPing | None
    ping6: GatewayPing | None


@dataclass(frozen=True)
class DoctorView:
    """What the detail panel shows while in doctor mode for ``name``."""

    name: str
    run: int
    running: bool = True
    report: ContainerReport | None = None
    error: str | None = None


class Marks:
    """The doctor's state in the TUI, changed only from the UI thread."""

    def __init__(self) -> None:
        self.reports: dict[str, ContainerReport] = {}
        self.reports_for: Snapshot | None = None
        self.running = False
        self.error: str | None = None
        # The gateway checks of the last ``d`` per namespace owner.
        self.pinged: dict[str, Pinged] = {}
        self.view: DoctorView | None = None
        self.runs = 0

    def due(self, snapshot: Snapshot) -> bool:
        """A background run is due: once per snapshot, one run at a time."""
        return not self.running and self.reports_for is not snapshot

    def arrived(self, message: DoctorMarks) -> None:
        self.running = False
        self.reports_for = message.snapshot
        self.reports = {r.name: r for r in message.reports}
        self.error = message.error

    def mark(self, name: str) -> str | None:
        """The worst doctor status of a container, None while not known."""
        report = self.reports.get(name)
        if report is None:
            return None
        if not self.pinged or self.reports_for is None:
            return mark_status(report)
        container = self.reports_for.container(name)
        if container is None:
            return mark_status(report)
        pinged = self.pinged.get(self.reports_for.namespace_owner(container).name)
        fresh = pinged is not None and time.monotonic() - pinged.at < GATEWAY_CHECK_FRESH_S
        return mark_status(report, pinged.checks if pinged is not None and fresh else ())

    def held_pings(self) -> NamespacePings:
        """The pings behind the gateway checks the marks show now, by namespace owner."""
        now = time.monotonic()
        return {
            owner: (p.ping, p.ping6)
            for owner, p in self.pinged.items()
            if now - p.at < GATEWAY_CHECK_FRESH_S and (p.ping or p.ping6)
        }

    def start(self, container: str) -> int:
        """``d`` on ``container``: the detail panel waits for the run returned."""
        self.runs += 1
        self.view = DoctorView(container, self.runs)
        return self.runs

    def gateway_pinged(self, message: DoctorReady) -> bool:
        """Keep the gateway checks of a finished ``d`` for its namespace; True when it has
        a report."""
        report = message.report
        if report is None:
            return False
        container = message.snapshot.container(message.name)
        checks = tuple(c for c in report.checks if c.id in GATEWAY_CHECK_IDS)
        if container is not None and checks:
            owner = message.snapshot.namespace_owner(container).name
            self.pinged[owner] = Pinged(time.monotonic(), checks, report.ping, report.ping6)
        return True

    def finished(self, message: DoctorReady) -> bool:
        """The run the detail panel waits for ended: True when it is this one."""
        if self.view is None or self.view.run != message.run:
            return False
        self.view = DoctorView(message.name, message.run, False, message.report, message.error)
        return True

    def lines(self, name: str, live: bool) -> list[Line]:
        """The doctor view's lines for ``name`` (none unless ``d`` was pressed on it)."""
        d = self.view
        if d is None or d.name != name:
            return []
        if d.running or d.report is None:
            return doctor_lines(
                self.reports.get(name),
                container=name,
                running=d.running,
                pinged=False,
                problem=d.error or "",
                offline=not live,
            )
        return doctor_lines(d.report, container=name, offline=not live)
