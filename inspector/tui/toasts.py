"""Toasts as plain text: the App's ``notify`` for every screen of cnet.

A toast's names are the host's (``y`` copies one, an export names its file), so a toast
is never markup and its control characters are shown escaped.  A base class of the App,
so every caller (screens, workers through ``call_from_thread``) gets it without asking.
"""

from __future__ import annotations

from textual.app import App
from textual.notifications import SeverityLevel

from inspector.model.safe import safe


class PlainToasts(App[int]):
    """An App whose toasts are plain, escaped text."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast is plain text, whatever ``markup`` the caller asked for."""
        super().notify(
            safe(message), title=safe(title), severity=severity, timeout=timeout, markup=False
        )
