"""The doctor's marks on the Containers pane, and the doctor view ``d`` opens: state only.

The App runs the doctor on its workers and routes their messages here.  ``Marks`` keeps the
reports of the snapshot shown (a background run, no ping), the gateway check of each ``d``
and the run the detail panel waits for, and answers what the panes ask: a container's mark
and the doctor's lines.  No widgets: the App redraws after each change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from inspector.tui.action_view import doctor_lines, mark_status

if TYPE_CHECKING:
    from inspector.doctor import Check, ContainerReport
    from inspector.model.snapshot import Snapshot
    from inspector.tui.view import Line

GATEWAY_CHECK_FRESH_S = 60.0
"""How long the gateway ping of a ``d`` counts in that container's mark (the background
runs for the marks never ping)."""


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
    """The full walk (with the gateway ping) for one container, asked for with ``d``."""

    def __init__(
        self, run: int, name: str, report: ContainerReport | None, error: str | None
    ) -> None:
        super().__init__()
        self.run = run
        self.name = name
        self.report = report
        self.error = error


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
        # The gateway check of the last ``d`` per container, and when it came (monotonic).
        self.gateway_checks: dict[str, tuple[float, Check]] = {}
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
        pinged = self.gateway_checks.get(name)
        fresh = pinged is not None and time.monotonic() - pinged[0] < GATEWAY_CHECK_FRESH_S
        return mark_status(report, pinged[1] if pinged is not None and fresh else None)

    def start(self, container: str) -> int:
        """``d`` on ``container``: the detail panel waits for the run returned."""
        self.runs += 1
        self.view = DoctorView(container, self.runs)
        return self.runs

    def gateway_pinged(self, message: DoctorReady) -> bool:
        """Keep the gateway check of a finished ``d``; True when it has a report."""
        if message.report is None:
            return False
        gateway = message.report.check("gateway")
        if gateway is not None:
            self.gateway_checks[message.name] = (time.monotonic(), gateway)
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
