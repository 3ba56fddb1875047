"""``e``: what an export writes, off the UI thread.

A live snapshot is written with the rates shown when ``e`` was pressed, and the host's
rules as they are now, so the file can be read elsewhere; the text is written atomically
(``render/atomic.py``), never half a file where the old one was.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.live.rates import recorded_rates
from inspector.render import render
from inspector.render.atomic import write_text_atomic
from inspector.rules.recorded import record

if TYPE_CHECKING:
    from inspector.live.rates import Rates
    from inspector.model.snapshot import Snapshot


def export(snapshot: Snapshot, rates: Rates | None, fmt: str, path: str, live: bool) -> Path:
    """Render ``snapshot`` in ``fmt`` and write it to ``path``; where it went (OSError if not)."""
    if rates is not None:
        snapshot = replace(snapshot, rates=recorded_rates(rates))
    if live and not snapshot.rulesets:
        snapshot = record(snapshot)
    return write_text_atomic(path, render(snapshot, fmt)).resolve()
