"""The one place that runs collectors on threads and feeds the inventory (the TUI runs it
in a child process: ``inspector.live.process``).

``Live`` keeps a host's picture current from events, not polling:

- the kernel's link, address and route notifications for the host namespace (pyroute2,
  a large receive buffer; on ENOBUFS the host is dumped again, since what was dropped is
  unknown);
- the engine's container and network events, subscribed with ``since`` taken before the
  first list so nothing in between is lost; when the stream ends (dockerd restarted, the
  socket cut) it reconnects with backoff and reads everything again;
- a container's namespace is read again when an event about it arrives, or when its
  host-side veth changes;
- every other namespace (Podman's, a CNI pod's, ``ip netns``, a unit's, a process's) is
  found by discovery (``collect.discover``: all of ``/proc``, a few ms), which runs at the
  full passes, after a Docker start or die, after a Podman event (``podman events``, as
  root, where podman is installed), and when a host veth appears whose other end is in a
  namespace not known yet, or changes in one no Docker container owns; only the
  namespaces it finds new are read;
- a slow reconciliation (``reconcile`` seconds, 0 = none) as a safety net, and
  ``refresh()`` for a full re-read on demand.

Three daemon threads (four with Podman): the runner (owns the inventory's state, the host's
netlink socket and the engine's client, does every read), and one blocking reader per event
stream that only turns what arrives into events for the runner's queue.  The runner publishes each new
immutable snapshot through ``publish``, at most every ``min_gap`` seconds while events
pour in.  ``Collector`` is the same reads done once, for ``cnet snapshot`` and scripts.
"""

from __future__ import annotations

import bisect
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from inspector.collect import podman
from inspector.collect.engine import Engine, EngineEvent, EngineUnavailable
from inspector.collect.netlink import (
    EVENT_RCVBUF,
    NetlinkEvents,
    address_record,
    is_enobufs,
    link_record,
    route_record,
)
from inspector.collect.reader import Reader
from inspector.inventory import events as ev
from inspector.inventory import state as inventory
from inspector.model.snapshot import Container, Snapshot

RECONCILE_S = 30.0
RECONCILE_BATCH = 50
"""Namespaces a reconciliation re-reads (the host, the engine's list and discovery are
read whole): the safety net's cost stays bounded however many containers run, and each
namespace is re-read at least every ``ceil(n / RECONCILE_BATCH)`` passes.  The first
pass and ``refresh()`` read every one."""
MIN_GAP_S = 0.05
CHUNK = 25
PROGRESS_S = 0.5
"""During the first full pass, what has been read is published every so often: the first
rows show at once, the rest fill in, and the UI is not asked to redraw for every chunk."""
PROGRESS_COST = 4.0
BACKOFF_S = (0.5, 10.0)
AF_BRIDGE = 7


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class LiveStatus:
    """How current the picture is, for a status line."""

    reading: bool
    """A full pass is under way (start, reconciliation, refresh)."""
    kernel_events: bool
    engine_events: bool
    changed_at: float
    """``time.time()`` of the last change applied."""
    reconcile: float


@dataclass(frozen=True)
class LiveUpdate:
    snapshot: Snapshot
    status: LiveStatus


Publish = Callable[[LiveUpdate], None]


# -- commands for the runner (not facts: the runner turns them into reads) -----------------


@dataclass(frozen=True)
class _Full:
    asked: bool = False
    """By the user (``refresh``): publish even when nothing changed, to say it was done."""


@dataclass(frozen=True)
class _HostAgain:
    pass


@dataclass(frozen=True)
class _Link:
    ifindex: int


@dataclass(frozen=True)
class _Container:
    container_id: str
    namespace: bool
    """Read its namespace too (it started, or its networks changed)."""


@dataclass(frozen=True)
class _Discover:
    """Look for namespaces again (an engine event, a veth into an unknown namespace)."""


@dataclass(frozen=True)
class _Streams:
    """An event stream connected or went away (the flags are set by its thread)."""


@dataclass(frozen=True)
class _Stop:
    pass


Item = ev.Event | _Full | _HostAgain | _Link | _Container | _Discover | _Streams | _Stop


def kernel_events(msg: Any) -> list[Item]:
    """What one netlink notification means for the runner."""
    kind = msg.get("event")
    if kind in ("RTM_NEWLINK", "RTM_DELLINK"):
        if msg["family"] == AF_BRIDGE:  # a bridge port's state: read the link itself
            return [_Link(int(msg["index"]))]
        if kind == "RTM_DELLINK":
            return [ev.LinkRemoved(int(msg["index"]))]
        return [ev.LinkChanged(link_record(msg))]
    if kind in ("RTM_NEWADDR", "RTM_DELADDR"):
        a = address_record(msg)
        if a is None:
            return []
        return [ev.AddressAdded(a) if kind == "RTM_NEWADDR" else ev.AddressRemoved(a)]
    if kind in ("RTM_NEWROUTE", "RTM_DELROUTE"):
        r = route_record(msg)
        if r is None:
            return []
        return [ev.RouteAdded(r) if kind == "RTM_NEWROUTE" else ev.RouteRemoved(r)]
    return []


def engine_items(event: EngineEvent) -> list[Item]:
    """What one engine event means for the runner."""
    if event.container is None:
        return []
    if event.type == "container" and event.action == "destroy":
        return [ev.ContainerRemoved(event.container)]
    reread = event.action in ("start", "unpause", "connect", "disconnect")
    if event.action in ("start", "die"):  # a namespace came or went: others may have too
        return [_Container(event.container, namespace=reread), _Discover()]
    return [_Container(event.container, namespace=reread)]


class Live:
    """Keeps a host's snapshot current and hands each new one to a ``publish`` callable."""

    def __init__(
        self,
        *,
        reconcile: float = RECONCILE_S,
        min_gap: float = MIN_GAP_S,
        rcvbuf: int = EVENT_RCVBUF,
        reader: Callable[[], Reader] = Reader,
        engine: Callable[[], Engine] = Engine,
    ) -> None:
        self._publish: Publish = lambda update: None
        self._reconcile = reconcile
        self._min_gap = min_gap
        self._rcvbuf = rcvbuf
        self._make_reader = reader
        self._make_engine = engine
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._state = inventory.State()
        self._kernel_ok = False
        self._engine_ok = False
        self._reading = False
        self._changed_at = time.time()
        self._threads: list[threading.Thread] = []
        self._podman_events: podman.PodmanEvents | None = None
        self._reconciled_up_to: str | None = None
        self._emitted: tuple[inventory.State, tuple[bool, bool, bool]] | None = None
        self.dumps = 0
        """Full host dumps so far (start, ENOBUFS, reconciliation): for tests."""
        self.discoveries = 0
        """Scans of /proc and the mount table so far: for tests."""

    # -- control, from any thread ---------------------------------------------------------

    def start(self, publish: Publish) -> None:
        """Start the threads; each new snapshot goes to ``publish``, on the runner's thread."""
        self._publish = publish
        self._spawn(self._run, "cnet-live")

    def refresh(self) -> None:
        """Read everything again now."""
        self._queue.put(_Full(asked=True))

    def stop(self) -> None:
        self._stopped.set()
        self._queue.put(_Stop())
        stream = self._podman_events
        if stream is not None:
            stream.close()

    @property
    def state(self) -> inventory.State:
        """The current state (immutable: safe to read from any thread)."""
        return self._state

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- the event readers ----------------------------------------------------------------

    def _kernel(self, ready: threading.Event) -> None:
        delay = BACKOFF_S[0]
        dropped = False
        while not self._stopped.is_set():
            try:
                events = NetlinkEvents(self._rcvbuf)
            except OSError:
                ready.set()
                self._stopped.wait(delay)
                delay = min(delay * 2, BACKOFF_S[1])
                continue
            ready.set()
            self._kernel_ok = True
            # Subscribed again before the re-dump: nothing falls between the two.
            self._queue.put(_HostAgain() if dropped else _Streams())
            dropped = False
            try:
                while not self._stopped.is_set():
                    for msg in events.get():
                        for item in kernel_events(msg):
                            self._queue.put(item)
            except OSError as exc:
                # ENOBUFS: the kernel dropped notifications.  pyroute2 keeps raising on that
                # socket afterwards, so it is replaced, and the host is dumped again.
                dropped = is_enobufs(exc)
                if not dropped:
                    self._kernel_ok = False
                    self._queue.put(_Streams())
                    self._stopped.wait(delay)
                    delay = min(delay * 2, BACKOFF_S[1])
            finally:
                events.close()

    def _engine_stream(self, since: float) -> None:
        delay = BACKOFF_S[0]
        first = True
        while not self._stopped.is_set():
            engine: Engine | None = None
            try:
                engine = self._make_engine()
                stream = engine.events(since)
                self._engine_ok = True
                self._queue.put(_Streams())
                if not first:
                    self._queue.put(_Full())  # what happened while cut off is unknown
                first = False
                delay = BACKOFF_S[0]
                for event in stream:
                    since = event.time_nano / 1e9
                    for item in engine_items(event):
                        self._queue.put(item)
                    if self._stopped.is_set():
                        stream.close()
            except EngineUnavailable:
                first = False
            finally:
                if engine is not None:
                    engine.close()
            self._engine_ok = False
            self._queue.put(_Streams())
            self._stopped.wait(delay)
            delay = min(delay * 2, BACKOFF_S[1])

    def _podman_stream(self, binary: str) -> None:
        """Podman's container events: each one that starts or ends a container makes the
        runner look for namespaces again (and so ask Podman's list)."""
        delay = BACKOFF_S[0]
        while not self._stopped.is_set():
            try:
                stream = podman.PodmanEvents(binary)
            except OSError:
                self._stopped.wait(delay)
                delay = min(delay * 2, BACKOFF_S[1])
                continue
            self._podman_events = stream
            if self._stopped.is_set():  # stopped while it started: stop() did not see it
                stream.close()
            try:
                for _status, _cid in stream:
                    self._queue.put(_Discover())
            finally:
                stream.close()
            self._stopped.wait(delay)  # podman ended the stream: start it again
            delay = min(delay * 2, BACKOFF_S[1])

    # -- the runner -----------------------------------------------------------------------

    def _run(self) -> None:
        since = time.time()  # before the first list: no engine event falls in between
        self._spawn(lambda: self._engine_stream(since), "cnet-engine-events")
        binary = podman.available()
        if binary is not None and os.geteuid() == 0:
            self._spawn(lambda: self._podman_stream(binary), "cnet-podman-events")
        reader = self._make_reader()
        try:
            ready = threading.Event()
            self._spawn(lambda: self._kernel(ready), "cnet-kernel-events")
            self._list(reader)  # while the kernel's events are subscribed to
            ready.wait(2.0)  # subscribed before the first dump: no change falls in between
            self._full(reader, first=True)
            self._loop(reader)
        finally:
            reader.close()

    def _list(self, reader: Reader) -> None:
        """Publish the engine's list and every namespace found, none read yet: what an
        operator looks for first, cheap (no pyroute2, no namespace entered) where the
        reads are not (at 1,000 namespaces the host's dump alone takes seconds here)."""
        self._reading = True
        for event in reader.containers():
            self._apply(event)
        self._scan(reader)  # a veth between two namespaces needs them all
        self._emit()

    def _loop(self, reader: Reader) -> None:
        next_reconcile = time.monotonic() + self._reconcile if self._reconcile > 0 else None
        dirty_since: float | None = None
        last_publish = 0.0
        while True:
            timeout: float | None = None
            now = time.monotonic()
            if dirty_since is not None:
                timeout = max(0.0, last_publish + self._min_gap - now)
            if next_reconcile is not None:
                wait = max(0.0, next_reconcile - now)
                timeout = wait if timeout is None else min(timeout, wait)
            items: list[Item] = []
            try:
                items.append(self._queue.get(timeout=timeout))
                while True:
                    items.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            if any(isinstance(i, _Stop) for i in items) or self._stopped.is_set():
                return
            now = time.monotonic()
            if next_reconcile is not None and now >= next_reconcile:
                items.append(_Full())
            fulls = [i for i in items if isinstance(i, _Full)]
            if fulls:
                self._full(reader, asked=any(f.asked for f in fulls))
                if next_reconcile is not None:
                    next_reconcile = time.monotonic() + self._reconcile
                last_publish, dirty_since = time.monotonic(), None
                continue
            if items and self._handle(reader, items):
                dirty_since = dirty_since or now
            if dirty_since is not None and now - last_publish >= self._min_gap:
                self._emit(only_if_new=True)
                last_publish, dirty_since = time.monotonic(), None

    def _apply(self, event: ev.Event) -> None:
        self._state = inventory.apply(self._state, event)
        self._changed_at = time.time()

    def _handle(self, reader: Reader, items: list[Item]) -> bool:
        """Apply a batch of events and do the reads they call for; True if anything changed."""
        before = self._state
        host_again = routes_again = streams = rediscover = False
        links: set[int] = set()
        relist: dict[str, bool] = {}
        nsids: set[int] = set()
        for item in items:
            if isinstance(item, _Streams):
                streams = True
            elif isinstance(item, _HostAgain):
                host_again = True
            elif isinstance(item, _Link):
                links.add(item.ifindex)
            elif isinstance(item, _Discover):
                rediscover = True
            elif isinstance(item, _Container):
                relist[item.container_id] = relist.get(item.container_id, False) or item.namespace
            elif not isinstance(item, _Full | _Stop):
                if isinstance(item, ev.LinkChanged | ev.LinkRemoved):
                    routes_again = True
                    nsids |= self._veth_namespaces(item)
                self._apply(item)
        if host_again:
            self.dumps += 1
            self._apply(reader.host())
            nsids |= _changed_veth_namespaces(before.host.links, self._state.host.links)
        elif routes_again:  # IPv4 routes of a link gone down or away vanish unannounced
            self._apply(reader.host_routes())
        for ifindex in links:
            self._apply(reader.link(ifindex))
        for cid in relist:
            for event in reader.container(cid):
                self._apply(event)
        reread = {cid for cid, namespace in relist.items() if namespace}
        others: set[ev.NamespaceId] = set()
        if nsids:
            owners = inventory.namespace_owners(self._state)
            for ns, view in self._state.views.items():
                if view.nsid_in_host in nsids:
                    reread.update(owners.get(ns, ()))
                    if ns not in owners:
                        others.add(ns)
            known = {v.nsid_in_host for v in self._state.views.values()}
            # a veth into a namespace not known, or into one no Docker container owns
            # (a Podman container or a pod going): look again
            rediscover = rediscover or bool(others) or not nsids <= known
        if reread:
            containers = [self._state.containers[c] for c in reread if c in self._state.containers]
            for event in reader.namespaces(containers):
                self._apply(event)
        if rediscover:
            self._discover(reader)
        if others:
            for event in reader.read_namespaces(others):
                self._apply(event)
        return self._state is not before or host_again or streams

    def _veth_namespaces(self, event: ev.LinkChanged | ev.LinkRemoved) -> set[int]:
        """The namespace ids a host link change points into (a veth's other end)."""
        if isinstance(event, ev.LinkChanged):
            records = [self._state.host.links.get(event.link.interface.ifindex), event.link]
        else:
            records = [self._state.host.links.get(event.ifindex)]
        return {
            r.interface.link_netnsid
            for r in records
            if r is not None and r.interface.link_netnsid is not None
        }

    def _full(self, reader: Reader, first: bool = False, asked: bool = False) -> None:
        """A full pass.  The first (after ``_list``) is published in steps: what was
        read, every ``PROGRESS_S``.  A later one only if it found a change, or was
        ``asked`` for.  A reconciliation (neither) re-reads the next ``RECONCILE_BATCH``
        namespaces only."""
        before = self._state
        self._reading = first or asked
        self.dumps += 1
        try:
            self._apply(reader.host())
            if not first:
                for event in reader.containers():
                    self._apply(event)
            if not first or not self.discoveries:  # the first after ``_list`` has scanned
                self._scan(reader)  # first: a veth between two namespaces needs them all
            progress = _Progress(self._emit) if first else None
            running = [
                c for c in self._state.containers.values() if c.state in inventory.LIVE_STATES
            ]
            share = None if first or asked else self._reconcile_share(running)
            if share is not None:
                running = [c for c in running if f"c:{c.id}" in share]
            for start in range(0, len(running), CHUNK):
                for event in reader.namespaces(running[start : start + CHUNK]):
                    self._apply(event)
                if progress is not None:
                    progress.tick()
            for event in reader.podman():
                self._apply(event)
            others = self._other_namespaces()
            if share is not None:
                others = [n for n in others if _namespace_key(n) in share]
            for start in range(0, len(others), CHUNK):  # shown as they come, as Docker's
                for event in reader.read_namespaces(others[start : start + CHUNK]):
                    self._apply(event)
                if progress is not None:
                    progress.tick()
        finally:
            self._reading = False
        if first or asked or before != self._state:
            self._emit()

    def _other_namespaces(self) -> list[ev.NamespaceId]:
        """Every namespace discovery found that is no Docker container's."""
        docker = {ns for ns in self._state.namespace_of.values() if ns is not None}
        return [n for n in self._state.found if n not in docker]

    def _reconcile_share(self, running: list[Container]) -> set[str]:
        """This reconciliation's namespaces (containers' and others'): the batch after
        the last one's, in turn."""
        keys = [f"c:{c.id}" for c in running]
        keys.extend(_namespace_key(n) for n in self._other_namespaces())
        share = next_share(keys, self._reconciled_up_to, RECONCILE_BATCH)
        if share:
            self._reconciled_up_to = share[-1]
        return set(share)

    def _scan(self, reader: Reader) -> None:
        self.discoveries += 1
        for event in reader.discover():
            self._apply(event)

    def _discover(self, reader: Reader) -> None:
        """Find the namespaces again and read those not read yet."""
        self._scan(reader)
        if inventory.podman_changed(self._state):
            for event in reader.podman():
                self._apply(event)
        for event in reader.read_namespaces(inventory.unread_namespaces(self._state)):
            self._apply(event)

    def _emit(self, only_if_new: bool = False) -> None:
        """Publish the picture; ``only_if_new``: not when it and the streams' flags are
        those last published (an event stream saying it is connected, after the first
        pass published it all, would make the UI draw and mark everything again)."""
        flags = (self._reading, self._kernel_ok, self._engine_ok)
        if only_if_new and self._emitted == (self._state, flags):
            return
        self._emitted = (self._state, flags)
        status = LiveStatus(
            reading=self._reading,
            kernel_events=self._kernel_ok,
            engine_events=self._engine_ok,
            changed_at=self._changed_at,
            reconcile=self._reconcile,
        )
        snap = inventory.snapshot(self._state, taken_at=_now_iso(), hostname=socket.gethostname())
        self._publish(LiveUpdate(snap, status))


class _Progress:
    """When a first pass publishes what it has read so far: every ``PROGRESS_S``, or less
    often when publishing is dear.  Each publication joins the whole picture (half a
    second at 1,000 namespaces on a loaded machine): spaced by ``PROGRESS_COST`` times
    its cost, it takes at most a fifth of the pass, however many namespaces there are."""

    def __init__(self, emit: Callable[[], None]) -> None:
        self._emit = emit
        self._next = time.monotonic() + PROGRESS_S

    def tick(self) -> None:
        start = time.monotonic()
        if start < self._next:
            return
        self._emit()
        end = time.monotonic()
        self._next = end + max(PROGRESS_S, PROGRESS_COST * (end - start))


def _namespace_key(identity: ev.NamespaceId) -> str:
    return f"n:{identity[0]}:{identity[1]}"


def next_share(keys: list[str], after: str | None, budget: int) -> list[str]:
    """The ``budget`` keys that follow ``after`` in sorted order, wrapping around: passes
    that each take the next share read every key within ``ceil(len(keys) / budget)``,
    whatever came and went in between."""
    ordered = sorted(keys)
    if len(ordered) <= budget:
        return ordered
    start = bisect.bisect_right(ordered, after) if after is not None else 0
    return (ordered[start:] + ordered[:start])[:budget]


def _changed_veth_namespaces(old: Any, new: Any) -> set[int]:
    """Namespace ids behind host links that appeared, vanished or changed between dumps."""
    nsids: set[int] = set()
    for index in old.keys() | new.keys():
        a, b = old.get(index), new.get(index)
        if a != b:
            for r in (a, b):
                if r is not None and r.interface.link_netnsid is not None:
                    nsids.add(r.interface.link_netnsid)
    return nsids


class Collector:
    """The same reads as ``Live``, done once per ``collect()``; keeps its connections
    between calls (a warm collect is cheaper).  Used from one thread."""

    def __init__(self) -> None:
        self._reader: Reader | None = None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def collect(self) -> Snapshot:
        if self._reader is None:
            self._reader = Reader()
        state = inventory.State()
        for event in self._reader.everything():
            state = inventory.apply(state, event)
        return inventory.snapshot(state, taken_at=_now_iso(), hostname=socket.gethostname())


_per_thread = threading.local()


def collect_snapshot() -> Snapshot:
    """Collect once with this thread's collector (warm from the second call on)."""
    collector: Collector | None = getattr(_per_thread, "collector", None)
    if collector is None:
        collector = _per_thread.collector = Collector()
    return collector.collect()


def stale_update(update: LiveUpdate, why: str) -> LiveUpdate:
    """The last update, marked as no longer followed."""
    snap = update.snapshot
    status = replace(update.status, kernel_events=False, engine_events=False, reading=False)
    return LiveUpdate(replace(snap, warnings=(*snap.warnings, f"stale: {why}")), status)
