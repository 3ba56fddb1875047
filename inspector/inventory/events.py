"""What the collectors tell the inventory: small frozen records, one per fact that changed.

A kernel notification, an engine event, a namespace read and a full re-dump all become
one of these; ``inventory.apply`` turns each into a new state.  Nothing here does I/O, so
the hard cases (a container restarting, a veth moving bridge, an engine that hangs) are
tested as data.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.model.records import (
    AddressRecord,
    FoundNamespace,
    LinkRecord,
    NamespaceDump,
    RouteRecord,
)
from inspector.model.snapshot import Container

NamespaceId = tuple[int, int]
"""(st_dev, st_ino) of ``/proc/PID/ns/net``: two processes share a namespace when equal."""
Peers = tuple[tuple[int, NamespaceId], ...]
"""(the id a namespace gives another, that other namespace), for its veths that lead there."""


@dataclass(frozen=True)
class HostDumped:
    """The host namespace read whole (start, reconciliation, or after ENOBUFS)."""

    dump: NamespaceDump


@dataclass(frozen=True)
class HostRoutesDumped:
    """The host's routes read again: the kernel drops IPv4 routes of a link that goes
    down or away without a notification, so a link change is followed by this."""

    routes: tuple[RouteRecord, ...]


@dataclass(frozen=True)
class LinkChanged:
    link: LinkRecord


@dataclass(frozen=True)
class LinkRemoved:
    ifindex: int


@dataclass(frozen=True)
class AddressAdded:
    address: AddressRecord


@dataclass(frozen=True)
class AddressRemoved:
    address: AddressRecord


@dataclass(frozen=True)
class RouteAdded:
    route: RouteRecord


@dataclass(frozen=True)
class RouteRemoved:
    route: RouteRecord


@dataclass(frozen=True)
class ContainersListed:
    """The engine's whole list: containers not in it are gone."""

    containers: tuple[Container, ...]


@dataclass(frozen=True)
class ContainerListed:
    """One container listed again after an event about it."""

    container: Container


@dataclass(frozen=True)
class ContainerRemoved:
    container_id: str


@dataclass(frozen=True)
class NamespaceRead:
    """A running container's namespace, read through ``pid``.

    ``namespace`` None: the host's own (``--net=host``).  ``dump`` None with a namespace:
    one already read in this pass (a shared namespace is read once).  ``nsid_in_host`` is
    the id the host gives the namespace, ``host_nsid`` the id it gives the host, ``peers``
    the other namespaces its veths lead to, by the ids it gives them.
    """

    container_id: str
    pid: int
    namespace: NamespaceId | None
    dump: NamespaceDump | None = None
    nsid_in_host: int | None = None
    host_nsid: int | None = None
    peers: Peers = ()


@dataclass(frozen=True)
class NamespacesFound:
    """Discovery's whole answer: every network namespace on the host but ``host``, with
    what made it.  One no longer found is gone."""

    host: NamespaceId
    found: tuple[FoundNamespace, ...]


@dataclass(frozen=True)
class NamespaceDumped:
    """A namespace discovery found, read through its pid or bind mount (see NamespaceRead
    for the ids)."""

    namespace: NamespaceId
    dump: NamespaceDump
    nsid_in_host: int | None = None
    host_nsid: int | None = None
    peers: Peers = ()


@dataclass(frozen=True)
class NamespaceGone:
    """A namespace could not be opened any more (its last process exited)."""

    namespace: NamespaceId


@dataclass(frozen=True)
class WorkloadsListed:
    """Another engine's whole list (Podman): ``namespaces`` maps each running one's id to
    the namespace its pid is in."""

    runtime: str
    containers: tuple[Container, ...]
    namespaces: tuple[tuple[str, NamespaceId], ...] = ()


@dataclass(frozen=True)
class PidKnown:
    """A container's pid, where its namespace is not read (cnet is not root)."""

    container_id: str
    pid: int


@dataclass(frozen=True)
class ContainerUnread:
    """A container whose namespace could not be read this time, and why.  What was read
    before is kept, and the container is marked."""

    container_id: str
    problem: str


@dataclass(frozen=True)
class EngineLost:
    """The engine stopped answering; the containers stay as last seen."""

    problem: str


@dataclass(frozen=True)
class EngineBack:
    pass


@dataclass(frozen=True)
class Notice:
    """A standing condition worth a warning (not root, an engine on another host);
    ``text`` None clears the notice ``key``."""

    key: str
    text: str | None


Event = (
    HostDumped
    | HostRoutesDumped
    | LinkChanged
    | LinkRemoved
    | AddressAdded
    | AddressRemoved
    | RouteAdded
    | RouteRemoved
    | ContainersListed
    | ContainerListed
    | ContainerRemoved
    | NamespaceRead
    | NamespacesFound
    | NamespaceDumped
    | NamespaceGone
    | WorkloadsListed
    | PidKnown
    | ContainerUnread
    | EngineLost
    | EngineBack
    | Notice
)
