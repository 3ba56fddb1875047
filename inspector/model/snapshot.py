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
    """The other end of a veth pair; ``workload`` names the container or namespace it is
    in when that is not the host."""

    name: str
    ifindex: int
    bridge: str | None = None
    workload: str | None = None


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
class Nexthop:
    """One way out of a multipath route (``weight`` as iproute2 prints it, 1 and up)."""

    gateway: str | None
    dev: str | None
    weight: int = 1


@dataclass(frozen=True)
class Route:
    """One route of a routing table, of any type.

    A multipath route has ``gateway`` and ``dev`` None and lists its ``nexthops``; a
    ``blackhole``/``unreachable``/``prohibit``/``throw`` route has neither.
    """

    dst: str
    gateway: str | None
    dev: str | None
    scope: str
    protocol: str
    metric: int | None
    type: str = "unicast"
    table: str = "main"
    nexthops: tuple[Nexthop, ...] = ()
    prefsrc: str | None = None

    @property
    def is_direct(self) -> bool:
        """A unicast route with no gateway: the destination is on the link itself."""
        return self.gateway is None and not self.nexthops and self.type == "unicast"

    @property
    def gateways(self) -> tuple[str, ...]:
        """Every gateway: the one, or each nexthop's."""
        if self.gateway is not None:
            return (self.gateway,)
        return tuple(n.gateway for n in self.nexthops if n.gateway is not None)


@dataclass(frozen=True)
class BridgePort:
    """A link enslaved to a bridge, and the container interface behind it (if any).

    ``note`` says why a veth port has no container: its other end is still in the host
    (being plumbed), or in a namespace not read (a container starting or going)."""

    name: str
    ifindex: int
    state: str
    container: str | None = None
    container_interface: str | None = None
    note: str | None = None


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
    """A container's endpoint on one network, as its engine reports it."""

    name: str
    ip: str | None
    gateway: str | None
    mac: str | None
    ipv6: str | None = None
    ipv6_gateway: str | None = None


@dataclass(frozen=True)
class PublishedPort:
    """A port mapping (``-p``); ``host_port`` is None when only exposed."""

    container_port: int
    protocol: str
    host_ip: str | None = None
    host_port: int | None = None


RUNTIMES = ("docker", "podman", "cri", "netns", "systemd", "process")
"""What made a workload: an engine (docker, podman, cri), ``ip netns add`` (netns), a
systemd unit, or some other process."""


@dataclass(frozen=True)
class Container:
    """A workload (a Docker or Podman container, a pod, a named namespace, a unit, a
    process) and what its network namespace holds.

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
    runtime: str = "docker"
    """One of ``RUNTIMES``."""
    netns: str | None = None
    """The namespace its pid is in, as ``lsns``/``readlink`` name it (``net:[4026532285]``);
    None when not read.  Two workloads share a namespace exactly when these agree."""

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
class Rate:
    """Per second, from the interface's own point of view (``inspector.live.rates`` measures
    them; a snapshot records them)."""

    rx_bytes: float = 0.0
    tx_bytes: float = 0.0
    rx_packets: float = 0.0
    tx_packets: float = 0.0
    rx_dropped: float = 0.0
    tx_dropped: float = 0.0
    rx_errors: float = 0.0
    tx_errors: float = 0.0

    @property
    def total_bytes(self) -> float:
        return self.rx_bytes + self.tx_bytes

    @property
    def dropped(self) -> float:
        return self.rx_dropped + self.tx_dropped

    @property
    def errors(self) -> float:
        return self.rx_errors + self.tx_errors

    def __add__(self, other: Rate) -> Rate:
        return Rate(
            self.rx_bytes + other.rx_bytes,
            self.tx_bytes + other.tx_bytes,
            self.rx_packets + other.rx_packets,
            self.tx_packets + other.tx_packets,
            self.rx_dropped + other.rx_dropped,
            self.tx_dropped + other.tx_dropped,
            self.rx_errors + other.rx_errors,
            self.tx_errors + other.tx_errors,
        )


@dataclass(frozen=True)
class ContainerRate:
    """A container's traffic, summed over its interfaces (loopback left out)."""

    container: str
    rate: Rate


@dataclass(frozen=True)
class InterfaceRate:
    """One container interface's traffic, from the container's side."""

    container: str
    interface: str
    rate: Rate


@dataclass(frozen=True)
class LinkRate:
    """One host link's traffic, as the host counts it (``ip -s link``)."""

    name: str
    rate: Rate


@dataclass(frozen=True)
class RecordedRates:
    """The rates at the time of the snapshot: measurements, not state (``cnet diff``
    never compares them).  Each list in natural order of its names."""

    interval: float
    """Seconds the rates are averaged over."""
    containers: tuple[ContainerRate, ...] = ()
    interfaces: tuple[InterfaceRate, ...] = ()
    host: tuple[LinkRate, ...] = ()


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
    rates: RecordedRates | None = None
    """Measured when the snapshot was taken (``cnet snapshot --rates``, the TUI's export);
    None when not measured."""

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
