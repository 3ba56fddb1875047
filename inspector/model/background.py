"""Work started on a daemon thread, for callers that may stop waiting for it.

A thread of ``concurrent.futures.ThreadPoolExecutor`` is joined when the interpreter
exits, so a call blocked in ``iptables-save`` or on a hung Docker socket would hold the
process until its timeout even after the caller gave up (the TUI quitting).  A daemon
thread does not: the call is abandoned, never interrupted; cnet's calls only read.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def on_daemon_thread(call: Callable[[], T], name: str) -> concurrent.futures.Future[T]:
    """Start ``call`` on a daemon thread of its own; its result or exception in a Future."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
