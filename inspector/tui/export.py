"""``e``: what an export writes, off the UI thread.

A live snapshot is written with the rates shown when ``e`` was pressed, the gateway pings
behind the marks then (a ``d``'s, kept a minute) and the host's rules as they are now, so
the file can be read elsewhere and judged as the marks judged it; the text is written atomically
(``render/atomic.py``), never half a file where the old one was.  The work runs detached
from its worker (``tui/detached.py``): a FIFO nobody reads (its open waits for a reader) or
a slow iptables-save never holds ``q``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App

from inspector.doctor.live import record_doctor_facts
from inspector.doctor.recorded import record_pings
from inspector.live.rates import recorded_rates
from inspector.render import render
from inspector.render.atomic import write_text_atomic
from inspector.rules.recorded import record
from inspector.tui.detached import Abandoned, detached

if TYPE_CHECKING:
    from inspector.doctor.recorded import NamespacePings
    from inspector.live.rates import Rates
    from inspector.model.snapshot import Snapshot


def export(
    snapshot: Snapshot,
    rates: Rates | None,
    pings: NamespacePings,
    fmt: str,
    path: str,
    live: bool,
) -> Path:
    """Render ``snapshot`` in ``fmt`` and write it to ``path``; where it went (OSError if not).
    ``pings``: the marks' gateway pings, by namespace owner."""
    if rates is not None:
        snapshot = replace(snapshot, rates=recorded_rates(rates))
    if live and not snapshot.rulesets:
        snapshot = record(snapshot)
    if live and snapshot.doctor_facts is None:
        snapshot = record_doctor_facts(snapshot)  # the marks' verdicts, for --from
    snapshot = record_pings(snapshot, pings)  # and their gateway checks
    return write_text_atomic(path, render(snapshot, fmt)).resolve()


def export_worker(
    app: App[Any],
    snapshot: Snapshot,
    rates: Rates | None,
    pings: NamespacePings,
    fmt: str,
    path: str,
    live: bool,
) -> None:
    """``e``'s thread worker: export detached, then tell the user where it went (or why not);
    nothing when the app closed first."""
    try:
        written = detached(export)(snapshot, rates, pings, fmt, path, live)
    except Abandoned:
        return
    except OSError as exc:
        app.call_from_thread(
            app.notify, f"cannot write {path}: {exc.strerror or exc}", severity="error"
        )
        return
    app.call_from_thread(app.notify, f"wrote {written}", title="Exported")
