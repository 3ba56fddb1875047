"""The rates sampler: one daemon thread that reads interface counters once a second.

It reads counters only (psutil's host table, and ``/proc/PID/net/dev`` for the few
containers with an interface that has no host end, when on screen: ``watch``), never a namespace's links or
addresses: which interfaces exist comes from the last snapshot it was given
(``follow``).  Each step's immutable ``Rates`` goes to ``publish`` on the sampler's thread.
``measure`` is the same read done twice, for ``cnet snapshot --rates``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection

from inspector.collect import counters
from inspector.live.rates import RateMeter, Rates, Sample, rates_between
from inspector.model.snapshot import Snapshot

INTERVAL_S = 1.0

PublishRates = Callable[[Rates], None]


def sample(
    snapshot: Snapshot,
    at: float,
    watched: Collection[str] | None = None,
    *,
    inside_of: Callable[[int], dict[str, counters.Counters]] = counters.namespace_counters,
    read_host: Callable[[], dict[str, counters.Counters]] = counters.host_counters,
) -> Sample:
    """The counters of ``snapshot``'s host links and container interfaces now.

    The host's are one read (psutil) however many containers there are; a container's
    own namespace table (an interface with no host end) is read only when ``watched``
    names it (the rows on screen and the selected one): at 1,000 rows, reading each
    once a second was the idle TUI's cost.  None: every one (``measure``)."""
    host = read_host()
    inside = {
        c.name: inside_of(c.pid)
        for c in snapshot.containers
        if c.pid is not None
        and (watched is None or c.name in watched)
        and counters.needs_namespace(c)
    }
    return sample_of(snapshot, at, host, inside)


def measure(
    snapshot: Snapshot,
    seconds: float,
    *,
    read: Callable[[Snapshot, float], Sample] = sample,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Rates:
    """The rates of ``snapshot``'s interfaces over ``seconds``: two samples that far apart
    (``cnet snapshot --rates``).  OSError when the counters cannot be read."""
    first = read(snapshot, clock())
    sleep(seconds)
    return rates_between(first, read(snapshot, clock()))


def sample_of(
    snapshot: Snapshot,
    at: float,
    host: dict[str, counters.Counters],
    inside: dict[str, dict[str, counters.Counters]],
) -> Sample:
    """A ``Sample`` from counters already read (``sample`` and the bench use it)."""
    identity = identities(snapshot)
    return Sample(
        at,
        counters.container_counters(snapshot, host, inside),
        {n: v for n, v in host.items() if n in identity},
        identity,
    )


_last_identities: tuple[Snapshot, dict[counters.InterfaceKey | str, int]] | None = None


def identities(snapshot: Snapshot) -> dict[counters.InterfaceKey | str, int]:
    """What tells each interface of ``snapshot`` from a recreated one (its ifindex, the
    host end's for a veth): made once per snapshot, not once a second (the sampler asks
    with the same snapshot until a new one comes; 2,000 entries at 1,000 namespaces)."""
    global _last_identities
    last = _last_identities
    if last is not None and last[0] is snapshot:
        return last[1]
    identity: dict[counters.InterfaceKey | str, int] = {
        i.name: i.ifindex for i in snapshot.host.interfaces
    }
    for c in snapshot.containers:
        for i in c.interfaces:
            identity[(c.name, i.name)] = i.peer.ifindex if i.peer is not None else i.ifindex
    _last_identities = (snapshot, identity)
    return identity


class LiveRates:
    """Samples the followed snapshot's counters every ``interval`` seconds."""

    def __init__(
        self,
        *,
        interval: float = INTERVAL_S,
        read: Callable[[Snapshot, float], Sample] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``read``: the counters of a snapshot at a time (default: ``sample`` of the
        watched containers)."""
        self._interval = interval
        self._watched: frozenset[str] = frozenset()
        self._read = read if read is not None else self._sample_watched
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._meter = RateMeter()
        self._host = counters.HostCounters()  # the sampler's thread only

    def start(self, publish: PublishRates) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(publish,), name="cnet-rates", daemon=True
        )
        self._thread.start()

    def follow(self, snapshot: Snapshot) -> None:
        """Sample these interfaces from now on (any thread: one reference swapped)."""
        self._snapshot = snapshot

    def watch(self, names: Collection[str]) -> None:
        """Read these containers' own namespace counters from now on (the rows on screen
        and the selected one; any thread: one reference swapped)."""
        self._watched = frozenset(names)

    def _sample_watched(self, snapshot: Snapshot, at: float) -> Sample:
        return sample(snapshot, at, self._watched, read_host=self._host.read)

    def stop(self) -> None:
        self._stopped.set()

    def _run(self, publish: PublishRates) -> None:
        next_at = self._clock()
        while not self._stopped.is_set():
            snapshot = self._snapshot
            if snapshot is not None:
                try:
                    rates = self._meter.add(self._read(snapshot, self._clock()))
                except OSError:  # psutil or /proc unreadable this time: try next second
                    rates = None
                if rates is not None:
                    publish(rates)
            next_at += self._interval
            delay = next_at - self._clock()
            if delay < 0:  # fell behind (suspended, a slow read): start again from now
                next_at, delay = self._clock(), 0.0
            self._stopped.wait(delay)
