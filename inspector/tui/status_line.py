"""The status line under the header, in plain words: where the data is from and how fresh.

One pure function of what the app knows (``Freshness``), so however the data arrives
(polling, events) the wording is the same and is tested without a terminal.
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
    """When the data shown last changed (live only)."""
    reading_since: datetime | None = None
    """A read of the host under way since then (live only)."""
    failed: str | None = None
    """Why the last read of the host failed, if it did; the data shown is from before."""
    manual: bool = False
    """No background refresh: only ``r`` reads the host again."""


@dataclass(frozen=True)
class StatusLine:
    text: str
    alarm: bool
    """Stale or failed: the line is highlighted."""


def _clock(t: datetime) -> str:
    return f"{t.astimezone():%H:%M:%S}"


def status_line(f: Freshness, now: datetime, stale_after: float) -> StatusLine:
    """The line for ``f`` at ``now``; a read running ``stale_after`` seconds makes it stale."""
    parts = [f.summary] if f.summary else []
    if f.source != "live":
        return StatusLine(" · ".join([*parts, "saved data, read-only"]), False)
    if f.changed_at is None:
        return StatusLine(
            " · ".join([*parts, "live · reading the host for the first time…"]), False
        )
    if f.reading_since is not None:
        waited = (now - f.reading_since).total_seconds()
        if waited >= stale_after:
            text = (
                f"STALE since {_clock(f.changed_at)}: the host has not answered for "
                f"{waited:.0f} s (a slow Docker or netlink); showing what it said then"
            )
            return StatusLine(text, True)
    parts.append(f"live · last change {_clock(f.changed_at)}")
    if f.failed:
        parts.append(f"reading the host failed ({f.failed}); showing the data from before")
    if f.manual:
        parts.append("r reads again")
    return StatusLine(" · ".join(parts), f.failed is not None)
