"""The snapshot model: frozen, typed dataclasses that every other layer shares.

Nothing here does I/O.  Collectors build these objects, ``join`` links them,
renderers and the TUI only read them.  The JSON contract is in
``docs/snapshot-format.md``; ``snapshot_json`` maps it to and from these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PeerRef:
    """The other end of a veth pair."""

    name: str
    ifindex: int
    bridge: str | None = None


@dataclass(frozen=True)
class ParentRef:
    """The host device a macvlan-like link sits on."""

    name: str
    ifindex: int


@dataclass(frozen=True)
class Interface:
    """A network link as its own namespace sees it.

    ``iflink`` and ``link_netnsid`` are the raw kernel facts the join relies on;
    ``peer``/``parent``/``container`` are filled in by the join.
    """

    name: str
    ifindex: int
    iflink: int | None = None
    kind: str | None = None
    mac: str | None = None
    mtu: int | None = None
    state: str = "unknown"
    addresses: tuple[str, ...] = ()
    master: str | None = None
    link_netnsid: int | None = None
    peer: PeerRef | None = None
    parent: ParentRef | None = None
    container: str | None = None
    container_interface: str | None = None


@dataclass(frozen=True)
class Route:
    """One route of a main routing table."""

    dst: str
    gateway: str | None
    dev: str | None
    scope: str
    protocol: str
    metric: int | None

    @property
    def is_direct(self) -> bool:
        """A route with no gateway: the destination is on the link itself."""
        return self.gateway is None


@dataclass(frozen=True)
class BridgePort:
    """A link enslaved to a bridge, and the container interface behind it (if any)."""

    name: str
    ifindex: int
    state: str
    container: str | None = None
    container_interface: str | None = None


@dataclass(frozen=True)
class Bridge:
    """A Linux bridge in the host namespace."""

    name: str
    ifindex: int
    state: str
    addresses: tuple[str, ...] = ()
    stp: bool = False
    ports: tuple[BridgePort, ...] = ()


@dataclass(frozen=True)
class NetworkAttachment:
    """A container's endpoint on one Docker network, as Docker reports it."""

    name: str
    ip: str | None
    gateway: str | None
    mac: str | None


@dataclass(frozen=True)
class PublishedPort:
    """A port mapping (``-p``); ``host_port`` is None when only exposed."""

    container_port: int
    protocol: str
    host_ip: str | None = None
    host_port: int | None = None


@dataclass(frozen=True)
class Container:
    """A Docker container and what its network namespace holds.

    Environment variables and command lines are deliberately absent: they carry secrets.
    """

    id: str
    name: str
    image: str
    state: str
    pid: int | None
    network_mode: str
    netns_shared_with: str | None = None
    networks: tuple[NetworkAttachment, ...] = ()
    ports: tuple[PublishedPort, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    problem: str | None = None
    """Why cnet could not read this container's namespace this time (the engine did not
    answer its inspect, it stopped mid-scan, ...); its interfaces are then the last ones
    read, or none."""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def ips(self) -> tuple[str, ...]:
        """Docker-assigned IPs, in network order."""
        return tuple(n.ip for n in self.networks if n.ip)


@dataclass(frozen=True)
class HostNetwork:
    """The host namespace: its links and main routing table."""

    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class RulesetText:
    """A host ruleset as its tool printed it, kept verbatim so that it can be diffed and
    re-read later (the parser lives in ``inspector.rules``)."""

    source: str  # "iptables-save", "ip6tables-save" or "nft -j"
    text: str


@dataclass(frozen=True)
class Snapshot:
    """Everything cnet knows about one host at one moment."""

    taken_at: str
    hostname: str
    host: HostNetwork = field(default_factory=HostNetwork)
    bridges: tuple[Bridge, ...] = ()
    containers: tuple[Container, ...] = ()
    warnings: tuple[str, ...] = ()
    schema_version: int = SCHEMA_VERSION
    rulesets: tuple[RulesetText, ...] = ()

    def container(self, name_or_id: str) -> Container | None:
        """Find a container by exact name, full id or unique id prefix (like the docker CLI)."""
        for c in self.containers:
            if c.name == name_or_id or c.id == name_or_id:
                return c
        matches = [
            c for c in self.containers if len(name_or_id) >= 4 and c.id.startswith(name_or_id)
        ]
        return matches[0] if len(matches) == 1 else None

    def bridge(self, name: str) -> Bridge | None:
        return next((b for b in self.bridges if b.name == name), None)

    def host_interface(self, name: str) -> Interface | None:
        return next((i for i in self.host.interfaces if i.name == name), None)
