"""How a long-running cnet ends on a signal: SIGTERM, SIGHUP or SIGINT.

Python's defaults end the process on the spot (SIGTERM, SIGHUP) or raise wherever the main
thread happens to be (SIGINT): the TUI then leaves the terminal in the alternate screen
with mouse tracking on, and ``podman events`` or ``ssh`` run on under pid 1.  Instead, a
signal asks for the ordinary way out (the TUI exits its app, a command leaves its wait),
which stops the feeds and every child (``inspector.collect.children``); the exit code is the
shell's convention, 128 + the signal's number.

In ``live``, the lowest floor that needs it (the collector child stops its own children
on these signals); the TUI, the commands and ``cli`` above it use it too.  No I/O.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported for real: the collector's fork comes before asyncio's import
    import asyncio

TERMINATING = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def exit_code(signum: int) -> int:
    """What a shell reports for a process ended by ``signum``."""
    return 128 + signum


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread as Ctrl-C raises KeyboardInterrupt:
    a one-shot command (``snapshot``, ``doctor``, a remote command) unwinds through its
    ``finally`` blocks, and ``cli`` stops the children and exits 128 + N."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def raise_on_signals() -> None:
    """SIGTERM and SIGHUP raise ``Terminated`` (SIGINT already raises KeyboardInterrupt);
    the long-running commands take the signals over with ``Caught`` or ``on_signals``."""

    def terminated(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminated)


class Caught:
    """The first terminating signal, for a command that waits on ``event`` in its main
    thread (a ``threading.Event`` wait is woken by a signal's handler)."""

    def __init__(self, event: threading.Event | None = None) -> None:
        self.event = event if event is not None else threading.Event()
        self.signum: int | None = None

    def install(self) -> Caught:
        """Take over the terminating signals (main thread only); returns itself."""
        for signum in TERMINATING:
            signal.signal(signum, self._caught)
        return self

    def _caught(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()

    def code(self, otherwise: int = 0) -> int:
        """The exit code: 128 + the signal, or ``otherwise`` when none came."""
        return exit_code(self.signum) if self.signum is not None else otherwise


def on_signals(loop: asyncio.AbstractEventLoop, callback: Callable[[int], None]) -> None:
    """``callback(signum)`` on the loop's thread for each terminating signal (the loop
    wakes for it; a plain handler could run in the middle of the loop's own code)."""
    for signum in TERMINATING:
        loop.add_signal_handler(signum, callback, signum)
