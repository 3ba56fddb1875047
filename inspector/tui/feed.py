"""Where live data comes from.

A ``Feed`` pushes ``LiveUpdate``s (an immutable snapshot and its ``LiveStatus``) from its
own threads; the app only posts each one to itself as a message.  ``inspector.live.Live``
is the real feed; tests use scripted ones.  No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from inspector.live import LiveUpdate


class Feed(Protocol):
    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        """Start delivering updates to ``publish`` (called from the feed's threads)."""

    def refresh(self) -> None:
        """Read everything again now."""

    def stop(self) -> None:
        """Stop; never waits on a hung engine."""
