"""SIGTERM, SIGHUP and SIGINT end the TUI the way ``q`` does.

Python's defaults would kill the process with the terminal still in the alternate screen
and mouse tracking on; instead the signal is taken on the app's event loop
(``inspector.live.shutdown.on_signals``) and becomes ``App.exit`` with the shell's code,
128 + N, so the driver restores the terminal and the feeds and children stop on the way
out.  A signal that comes while the main screen mounts waits for it: an exit then would
take its panes away under ``start``.
"""

from __future__ import annotations

import asyncio

from textual.app import App

from inspector.live.shutdown import exit_code, on_signals


class QuitsOnSignals(App[int]):
    """The TUI's app, quitting on the terminating signals once ``exit_on_signals`` is set."""

    exit_on_signals = False
    """``cnet`` sets it; tests running in the test runner's own process leave its handlers
    alone."""
    _ready_to_quit = False
    _signalled: int | None = None  # an exit code asked for before the main screen was up

    def on_load(self) -> None:
        """Before the driver takes the terminal: from then on a signal leaves it as ``q``."""
        if self.exit_on_signals:
            on_signals(asyncio.get_running_loop(), self._exit_on_signal)

    def _exit_on_signal(self, signum: int) -> None:
        if self._ready_to_quit:
            self.exit(return_code=exit_code(signum))
        elif self._signalled is None:
            self._signalled = exit_code(signum)

    def ready_to_quit(self) -> None:
        """The main screen is up: a signal quits now (and one that came before, at once)."""
        self._ready_to_quit = True
        if self._signalled is not None:
            self.exit(return_code=self._signalled)
