"""The kernel's facts about one namespace as plain records: links, addresses, routes.

Collectors make them from netlink messages (``collect.netlink``), the inventory keeps
them and resolves what refers to another record (a master's name, a route's device) when
it builds a snapshot.  Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.model.snapshot import Interface, NetworkAttachment, Nexthop, Route


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
class NexthopRecord:
    gateway: str | None
    oif: int | None
    weight: int = 1


@dataclass(frozen=True)
class RouteRecord:
    """A route of any type and table; ``oif`` (and each nexthop's) is resolved to a device
    name at snapshot time."""

    family: int
    dst: str
    gateway: str | None
    oif: int | None
    scope: str
    protocol: str
    metric: int | None
    type: str = "unicast"
    table: str = "main"
    nexthops: tuple[NexthopRecord, ...] = ()
    prefsrc: str | None = None

    @property
    def oifs(self) -> tuple[int, ...]:
        """Every device it leaves by: its own and its nexthops'."""
        own = () if self.oif is None else (self.oif,)
        return own + tuple(n.oif for n in self.nexthops if n.oif is not None)

    def route(self, names: dict[int, str]) -> Route:
        return Route(
            dst=self.dst,
            gateway=self.gateway,
            dev=names.get(self.oif) if self.oif is not None else None,
            scope=self.scope,
            protocol=self.protocol,
            metric=self.metric,
            type=self.type,
            table=self.table,
            nexthops=tuple(
                Nexthop(n.gateway, names.get(n.oif) if n.oif is not None else None, n.weight)
                for n in self.nexthops
            ),
            prefsrc=self.prefsrc,
        )


@dataclass(frozen=True)
class NamespaceDump:
    """Everything read from one namespace in one pass."""

    links: tuple[LinkRecord, ...]
    addresses: tuple[AddressRecord, ...]
    routes: tuple[RouteRecord, ...]


@dataclass(frozen=True)
class Attribution:
    """Who made a namespace: ``runtime`` (docker, podman, cri, netns, systemd, process),
    the id the snapshot knows the workload by, the name it shows, and the endpoints its
    runtime reported (a CNI result's addresses)."""

    runtime: str
    id: str
    name: str
    networks: tuple[NetworkAttachment, ...] = ()


@dataclass(frozen=True)
class CniResult:
    """One entry of the CNI result cache (``/var/lib/cni/results``): which network plumbed
    which namespace (``sandbox``) for which container id, with what addresses."""

    container_id: str
    network: str
    ifname: str
    sandbox: str | None
    ips: tuple[str, ...] = ()
    gateway: str | None = None


@dataclass(frozen=True)
class FoundNamespace:
    """A network namespace discovery found: who is in it and where it is mounted.

    ``pid`` is the lowest process in it (None for one only a bind mount keeps), ``comm``
    and ``cgroup`` are that process's short name and cgroup path, what attribution
    judges by; ``paths`` are its nsfs bind mounts (``/run/netns/NAME``, ...).
    """

    identity: tuple[int, int]
    pid: int | None
    processes: int = 0
    comm: str | None = None
    cgroup: str | None = None
    paths: tuple[str, ...] = ()
    owner: Attribution | None = None
    """What made it (``collect.attribute``), filled in by the reader."""
