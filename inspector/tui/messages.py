"""The messages the App routes to its panes: a new snapshot, new rates.

Made on the feeds' threads (immutable data), posted to the App, drawn on the UI thread.
The doctor's messages live with its state in ``marks.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from inspector.live.rates import shown_rates

if TYPE_CHECKING:
    from inspector.live.rates import Rates
    from inspector.live.runner import LiveStatus
    from inspector.model.snapshot import Snapshot


class SnapshotArrived(Message):
    """A new snapshot from the feed (or the one loaded), with how fresh it is."""

    def __init__(self, snapshot: Snapshot, status: LiveStatus | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.status = status


class RatesArrived(Message):
    """Interface rates from the rates feed: only the rate cells and the detail change."""

    def __init__(self, rates: Rates) -> None:
        super().__init__()
        self.rates = rates
        self.cells = shown_rates(rates)
        """What the rate cells will say: worked out where the message is made (the rates
        feed's thread), so the UI only compares it with the last one."""
