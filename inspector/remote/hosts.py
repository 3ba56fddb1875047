"""Several hosts in one picture: their snapshots merged, each name saying its host.

``merge`` is pure: every host's containers become ``HostedContainer``s (a ``host`` field
for the TUI's Host column and filter) and every name that could collide between hosts
(containers, host links, bridges, and every reference to them) is written ``host/name``,
so the panes' lookups by name stay unambiguous.  ``MergedFeed`` combines the hosts'
feeds into one Feed; a host whose connection ended is kept with its last picture and
named stale in the warnings.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from inspector.live.runner import LiveStatus, LiveUpdate
from inspector.model.snapshot import (
    Bridge,
    BridgePort,
    Container,
    HostNetwork,
    Interface,
    ParentRef,
    PeerRef,
    Route,
    Snapshot,
)


@dataclass(frozen=True)
class HostedContainer(Container):
    """A container, and which ``--host`` it is on."""

    host: str = ""


class Renamer:
    """``host/name`` for every name of one host's snapshot."""

    def __init__(self, host: str) -> None:
        self.host = host

    def __call__(self, name: str | None) -> str | None:
        return None if name is None else f"{self.host}/{name}"

    def name(self, name: str) -> str:
        return f"{self.host}/{name}"

    def interface(self, i: Interface, inside: bool) -> Interface:
        peer = i.peer and PeerRef(self.name(i.peer.name), i.peer.ifindex, self(i.peer.bridge))
        parent = i.parent and ParentRef(self.name(i.parent.name), i.parent.ifindex)
        return replace(
            i,
            name=i.name if inside else self.name(i.name),
            master=self(i.master),
            peer=peer,
            parent=parent,
            container=self(i.container),
        )

    def route(self, r: Route, inside: bool) -> Route:
        return r if inside else replace(r, dev=self(r.dev))

    def bridge(self, b: Bridge) -> Bridge:
        ports = tuple(
            BridgePort(
                self.name(p.name), p.ifindex, p.state, self(p.container), p.container_interface
            )
            for p in b.ports
        )
        return replace(b, name=self.name(b.name), ports=ports)

    def container(self, c: Container) -> HostedContainer:
        fields = {f: getattr(c, f) for f in c.__dataclass_fields__}
        fields.update(
            name=self.name(c.name),
            netns_shared_with=(
                c.netns_shared_with
                if c.netns_shared_with in (None, "host")
                else self(c.netns_shared_with)
            ),
            interfaces=tuple(self.interface(i, inside=True) for i in c.interfaces),
            host=self.host,
        )
        return HostedContainer(**fields)


def merge(updates: Sequence[tuple[str, LiveUpdate]], stale: Mapping[str, str]) -> LiveUpdate:
    """One update for all hosts (in the given order); ``stale`` maps a host to why it is
    no longer followed."""
    containers: list[Container] = []
    interfaces: list[Interface] = []
    routes: list[Route] = []
    bridges: list[Bridge] = []
    warnings: list[str] = []
    for host, update in updates:
        s, rename = update.snapshot, Renamer(host)
        containers.extend(rename.container(c) for c in s.containers)
        interfaces.extend(rename.interface(i, inside=False) for i in s.host.interfaces)
        routes.extend(rename.route(r, inside=False) for r in s.host.routes)
        bridges.extend(rename.bridge(b) for b in s.bridges)
        warnings.extend(f"{host}: {w}" for w in s.warnings if not w.startswith("stale: "))
    if stale:
        warnings.append(
            "stale (not followed any more): " + "; ".join(f"{h} ({stale[h]})" for h in stale)
        )
    statuses = [u.status for _, u in updates]
    following = not stale
    status = LiveStatus(
        reading=any(s.reading for s in statuses),
        kernel_events=following and all(s.kernel_events for s in statuses),
        engine_events=following and all(s.engine_events for s in statuses),
        changed_at=max((s.changed_at for s in statuses), default=0.0),
        reconcile=statuses[0].reconcile if statuses else 0.0,
    )
    snapshot = Snapshot(
        taken_at=max((u.snapshot.taken_at for _, u in updates), default=""),
        hostname=", ".join(h for h, _ in updates),
        host=HostNetwork(tuple(interfaces), tuple(routes)),
        bridges=tuple(bridges),
        containers=tuple(containers),
        warnings=tuple(warnings),
    )
    return LiveUpdate(snapshot, status)


class HostFeed(Protocol):
    """A feed for one host (``inspector.remote.ssh.RemoteFeed``)."""

    @property
    def label(self) -> str: ...
    @property
    def lost(self) -> str | None: ...

    def start(self, publish: Callable[[LiveUpdate], None]) -> None: ...
    def refresh(self) -> None: ...
    def stop(self) -> None: ...


class MergedFeed:
    """One Feed over several hosts' feeds: each update of any host republishes the merge."""

    hosts = True
    """The TUI shows a Host column for this feed."""

    def __init__(self, feeds: Sequence[HostFeed]) -> None:
        self._feeds = list(feeds)
        self._lock = threading.Lock()
        self._latest: dict[str, LiveUpdate] = {}

    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        for feed in self._feeds:
            feed.start(functools.partial(self._got, feed, publish=publish))

    def _got(
        self, feed: HostFeed, update: LiveUpdate, *, publish: Callable[[LiveUpdate], None]
    ) -> None:
        with self._lock:
            self._latest[feed.label] = update
            ordered = [
                (f.label, self._latest[f.label]) for f in self._feeds if f.label in self._latest
            ]
            stale = {f.label: f.lost for f in self._feeds if f.lost is not None}
            merged = merge(ordered, stale)
        publish(merged)

    def refresh(self) -> None:
        for feed in self._feeds:
            feed.refresh()

    def stop(self) -> None:
        for feed in self._feeds:
            feed.stop()
