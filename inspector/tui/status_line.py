"""The status line under the header, in plain words: where the data is from and how fresh.

One pure function of what the app knows (``Freshness``), so the wording is tested without a
terminal.  Live data comes from events, so the line never promises a period: it says when
the picture last changed, and which event stream, if any, is not being followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class Freshness:
    """What the status line says, as data."""

    source: Literal["live", "file", "demo"]
    summary: str = ""
    """What is shown (``7 containers, 12 host links, 3 bridges``); empty before any data."""
    changed_at: datetime | None = None
    """When the data shown last changed (live only); None before the first picture."""
    reading: bool = False
    """A full read (the first one, or ``r``) is filling in."""
    not_following: tuple[str, ...] = ()
    """Event streams lost and being reconnected (``kernel``, ``Docker``)."""
    reconcile: float = 0.0
    """Seconds between safety-net re-reads; 0 for none."""


@dataclass(frozen=True)
class StatusLine:
    text: str
    alarm: bool
    """Changes may be missed: the line is highlighted."""


def _clock(t: datetime) -> str:
    return f"{t.astimezone():%H:%M:%S}"


def status_line(f: Freshness) -> StatusLine:
    """The line for ``f``."""
    parts = [f.summary] if f.summary else []
    if f.source != "live":
        return StatusLine(" · ".join([*parts, "saved data, read-only"]), False)
    if f.changed_at is None:
        return StatusLine(
            " · ".join([*parts, "live · reading the host for the first time…"]), False
        )
    if f.reading:
        parts.append("reading every namespace…")
    parts.append(f"live · last change {_clock(f.changed_at)}")
    if f.not_following:
        parts.append(
            f"not following {' or '.join(f.not_following)} events (reconnecting): "
            "changes show at the next full read"
        )
    parts.append(f"checked every {f.reconcile:g} s" if f.reconcile > 0 else "r reads again")
    return StatusLine(" · ".join(parts), bool(f.not_following))
