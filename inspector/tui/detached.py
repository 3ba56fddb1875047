"""Blocking backend calls that a closing screen or a quitting app does not wait for.

Thread workers run in asyncio's default executor, and ``App.run`` returns only once that
executor's threads have ended: a worker blocked in ``iptables-save`` or on a hung Docker
socket would hold the user's shell for up to those tools' timeouts after ``q``.  So a
backend call runs on a daemon thread of its own, and the worker waits for it while
watching its own cancellation (Textual cancels every worker when the app exits, and a
screen's workers when it closes).  The call is abandoned, never interrupted: it only
reads, and ends on its own timeout (``inspector.model.background``).  The collector's loop in
``app`` waits on its own daemon thread the same way (``result_unless_cancelled``).
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from textual.worker import get_current_worker

from inspector.model.background import on_daemon_thread
from inspector.tui.backends import (
    Backends,
    Capturer,
    ConnectionsReader,
    Doctor,
    DropsStarter,
    HealthReader,
    NetworksReader,
    Pinger,
    RulesReader,
)

P = ParamSpec("P")
T = TypeVar("T")

POLL_S = 0.1


class Abandoned(Exception):
    """The worker waiting on a backend call was cancelled; the call carries on alone."""


def result_unless_cancelled(future: concurrent.futures.Future[T], name: str) -> T:
    """``future``'s result, waited for from a thread worker; Abandoned once it is cancelled."""
    worker = get_current_worker()
    while True:
        concurrent.futures.wait((future,), timeout=POLL_S)
        if worker.is_cancelled:  # first: a late answer is no longer anyone's
            raise Abandoned(name)
        if future.done():
            return future.result()


def detached(call: Callable[P, T]) -> Callable[P, T]:
    """``call``, run on a daemon thread and waited for by the calling thread worker."""

    @functools.wraps(call)
    def wait_for(*args: P.args, **kwargs: P.kwargs) -> T:
        name = f"cnet-{getattr(call, '__name__', 'backend')}"
        # In the worker's context, so that the call still sees it as its active worker.
        context = contextvars.copy_context()
        future = on_daemon_thread(functools.partial(context.run, call, *args, **kwargs), name)
        return result_unless_cancelled(future, name)

    return wait_for


def assemble_backends(
    defaults: Backends,
    *,
    ping: Pinger | None,
    read_rules: RulesReader | None,
    doctor: Doctor | None,
    read_networks: NetworksReader | None,
    read_connections: ConnectionsReader | None,
    capture: Capturer | None,
    drops: DropsStarter | None,
    recorded_ping: bool,
    read_health: HealthReader | None = None,
) -> Backends:
    """The given backends, ``defaults`` for those left out; the reads that may hang are
    detached: quitting never waits on iptables-save, Docker or conntrack.  A recorded
    ``ping`` (``recorded_ping``) gets no drop-reason probe unless one is given."""
    rules = read_rules or defaults.read_rules
    connections = read_connections or defaults.read_connections
    return Backends(
        ping=ping or defaults.ping,
        read_rules=detached(rules) if rules is not None else None,
        doctor=detached(doctor or defaults.doctor),
        live=defaults.live,
        read_networks=read_networks or defaults.read_networks,
        read_connections=detached(connections) if connections is not None else None,
        capture=capture or defaults.capture,
        drops=drops or (None if recorded_ping else defaults.drops),
        read_health=read_health or defaults.read_health,
    )
