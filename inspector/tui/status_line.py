"""The status line under the header, in plain words: where the data is from and how fresh.

One pure function of what the app knows (``Freshness``), so the wording is tested without a
terminal.  Live data comes from events, so the line never promises a period: it says when
the picture last changed, and which event stream, if any, is not being followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from inspector.live.runner import LiveStatus
    from inspector.model.snapshot import Snapshot


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


def utc_now() -> datetime:
    """The app's clock (tests give it another)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Source:
    """Where the data comes from, for the header."""

    kind: Literal["live", "file", "demo"]
    path: str | None = None


def header_subtitle(kind: str, path: str | None, snap: Snapshot | None) -> str:
    """The header's second line: where the data is from, the host, when it was taken."""
    host = snap.hostname if snap else "collecting…"
    taken = snap.taken_at.replace("T", " ") if snap else ""
    if kind == "live":
        return f"live · {host}"
    if kind == "demo":
        return f"demo snapshot · {host} · {taken}"
    return f"snapshot {Path(path or '').name} · {host} · {taken}"


def freshness_of(
    kind: Literal["live", "file", "demo"], snap: Snapshot | None, status: LiveStatus | None
) -> Freshness:
    """What the status line is made from: the snapshot's size and, live, the feed's status."""
    summary = ""
    if snap is not None:
        summary = (
            f"{len(snap.containers)} containers, {len(snap.host.interfaces)} host links, "
            f"{len(snap.bridges)} bridge{'' if len(snap.bridges) == 1 else 's'}"
        )
    if kind != "live" or status is None:
        return Freshness(kind, summary)
    lost = tuple(
        name
        for name, ok in (("kernel", status.kernel_events), ("Docker", status.engine_events))
        if not ok
    )
    return Freshness(
        kind,
        summary,
        changed_at=datetime.fromtimestamp(status.changed_at, timezone.utc),
        reading=status.reading,
        not_following=lost,
        reconcile=status.reconcile,
    )
