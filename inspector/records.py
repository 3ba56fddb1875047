"""The kernel's facts about one namespace as plain records: links, addresses, routes.

Collectors make them from netlink messages (``collect.netlink``), the inventory keeps
them and resolves what refers to another record (a master's name, a route's device) when
it builds a snapshot.  Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.model import Interface, Route


@dataclass(frozen=True)
class LinkRecord:
    """A link as the kernel describes it, before names of other links are resolved.

    ``interface`` has no addresses and no ``master`` name yet: both come from other
    records (the address table, the master's own link), joined in ``NamespaceState``.
    """

    interface: Interface
    master_index: int | None = None
    port_state: str | None = None
    """Bridge port state when enslaved to a bridge."""
    stp: bool | None = None
    """For a bridge: whether STP is on; None for other kinds."""


@dataclass(frozen=True)
class AddressRecord:
    ifindex: int
    cidr: str


@dataclass(frozen=True)
class RouteRecord:
    """A main-table unicast route; ``oif`` is resolved to a device name at snapshot time."""

    family: int
    dst: str
    gateway: str | None
    oif: int | None
    scope: str
    protocol: str
    metric: int | None

    def route(self, names: dict[int, str]) -> Route:
        return Route(
            dst=self.dst,
            gateway=self.gateway,
            dev=names.get(self.oif) if self.oif is not None else None,
            scope=self.scope,
            protocol=self.protocol,
            metric=self.metric,
        )


@dataclass(frozen=True)
class NamespaceDump:
    """Everything read from one namespace in one pass."""

    links: tuple[LinkRecord, ...]
    addresses: tuple[AddressRecord, ...]
    routes: tuple[RouteRecord, ...]
