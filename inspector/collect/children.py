"""Every child process cnet starts, tracked so that any way out stops them.

``podman events``, ``ssh``, ``iptables-save`` under ``nsenter``: a signal that ends cnet
(SIGTERM, SIGHUP, Ctrl-C) must not leave them running, reparented to pid 1.  Each is
started through ``Child`` (or ``run``, the tracked ``subprocess.run``), which remembers it
until it has been waited for; ``stop_all`` on the way out terminates the ones still
running, waits a little, and kills the rest.  A forked collector
(``inspector.live.process``) forgets its parent's list and keeps its own.

In ``collect`` because starting a process is I/O, and every floor that starts one is at
or above it: ``collect`` itself (podman, crictl), ``rules`` (iptables-save under
nsenter), ``live`` (the collector child) and ``remote`` (ssh).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

STOP_GRACE_S = 1.0
"""How long a child has after SIGTERM before SIGKILL."""

_lock = threading.RLock()  # re-entered by a signal handler that stops the children
_started: weakref.WeakSet[subprocess.Popen[Any]] = weakref.WeakSet()


class Child(subprocess.Popen[Any]):
    """A ``subprocess.Popen`` that ``stop_all`` knows about."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with _lock:
            _started.add(self)


def run(
    argv: Sequence[str], *, timeout: float | None = None, **kw: Any
) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` with a tracked child (``check`` is not offered: callers look at
    the code).  On a timeout the child is killed and reaped before TimeoutExpired."""
    if kw.pop("capture_output", False):
        kw["stdout"] = kw["stderr"] = subprocess.PIPE
    with Child(list(argv), stdin=kw.pop("stdin", None), **kw) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
        return subprocess.CompletedProcess(proc.args, proc.wait(), out, err)


def running() -> list[subprocess.Popen[Any]]:
    """The tracked children not yet waited for (for ``stop_all`` and tests)."""
    with _lock:
        started = list(_started)
    return [p for p in started if p.returncode is None and p.poll() is None]


def stop_all(grace: float = STOP_GRACE_S) -> None:
    """SIGTERM to every running child, SIGKILL to those still there after ``grace``;
    each one reaped.  Safe from any thread and more than once."""
    alive = running()
    for proc in alive:
        with contextlib.suppress(OSError):
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in alive:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.0, deadline - time.monotonic()))
    for proc in alive:
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)


def forget_inherited() -> None:
    """In a forked child: the parent's children are not this process's to stop."""
    with _lock:
        _started.clear()
