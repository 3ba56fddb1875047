"""Where live data comes from, and how fresh it is in words.

A ``Feed`` pushes ``LiveUpdate``s (an immutable snapshot and its ``LiveStatus``) from its
own threads; the app only posts each one to itself as a message.  ``inspector.live.Live``
is the real feed; tests use scripted ones.  No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from inspector.live import LiveStatus, LiveUpdate


class Feed(Protocol):
    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        """Start delivering updates to ``publish`` (called from the feed's threads)."""

    def refresh(self) -> None:
        """Read everything again now."""

    def stop(self) -> None:
        """Stop; never waits on a hung engine."""


def status_words(status: LiveStatus | None, now: datetime) -> tuple[str, bool]:
    """The freshness part of the status line, and whether it is a warning."""
    if status is None:
        return "reading the host…", False
    changed = datetime.fromtimestamp(status.changed_at, now.tzinfo).astimezone()
    parts = [f"last change {changed:%H:%M:%S}"]
    if status.reading:
        parts.insert(0, "reading every namespace…")
    lost = [
        name
        for name, ok in (("kernel", status.kernel_events), ("Docker", status.engine_events))
        if not ok
    ]
    if lost:
        parts.append(
            f"not following {' or '.join(lost)} events (reconnecting): "
            "changes show at the next full read"
        )
    else:
        parts.append("live")
    if status.reconcile > 0:
        parts.append(f"full read every {status.reconcile:g} s")
    return " · ".join(parts), bool(lost)
