"""Where live data comes from.

A ``Feed`` pushes ``LiveUpdate``s (an immutable snapshot and its ``LiveStatus``) from its
own threads; the app only posts each one to itself as a message.  ``inspector.live.runner.Live``
is the real feed; tests use scripted ones.  No Textual here: the TUI, the exporter and ``--host`` all read one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from inspector.live.rates import Rates
    from inspector.live.runner import LiveUpdate
    from inspector.model.snapshot import Snapshot


class Feed(Protocol):
    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        """Start delivering updates to ``publish`` (called from the feed's threads)."""

    def refresh(self) -> None:
        """Read everything again now."""

    def stop(self) -> None:
        """Stop; never waits on a hung engine."""


class RatesFeed(Protocol):
    """The optional rates channel: interface rates once a second, apart from the snapshots
    (``inspector.live.sampler.LiveRates`` on the live host; tests script one).  The app tells
    it each new snapshot (which interfaces to sample); each ``Rates`` only updates the
    rate cells and the detail, never the snapshot's rows."""

    def start(self, publish: Callable[[Rates], None]) -> None:
        """Start delivering rates to ``publish`` (called from the feed's thread)."""

    def follow(self, snapshot: Snapshot) -> None:
        """Sample the interfaces of ``snapshot`` from now on (from any thread)."""

    def watch(self, names: Collection[str]) -> None:
        """Read these containers' own namespace counters (rows on screen, the selected
        one); the others' come from their host ends only (from any thread)."""

    def stop(self) -> None:
        """Stop; never waits."""
