"""The snapshot model: frozen, typed dataclasses that every other layer shares.

Nothing here does I/O.  Collectors build these objects, ``join`` links them,
renderers and the TUI only read them.  The JSON contract is in
``docs/snapshot-format.md``; ``snapshot_json`` maps it to and from these types.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property

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
    doctor_facts: NamespaceFacts | None = None
    """What the doctor read inside its namespace when the snapshot was taken (recorded
    with the namespace's owner); None when nothing was read."""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def ips(self) -> tuple[str, ...]:
        """Docker-assigned IPs, in network order."""
        return tuple(n.ip for n in self.networks if n.ip)


@dataclass(frozen=True)
class Listener:
    """A socket listening in a namespace (sock_diag: a TCP listener, an unconnected UDP socket)."""

    protocol: str  # tcp, udp
    address: str  # "0.0.0.0", "::", "127.0.0.11"...
    port: int


@dataclass(frozen=True)
class PingRecord:
    """A gateway ping sent from inside a namespace, and its outcome, as a snapshot keeps it."""

    target: str
    transmitted: int = 0
    received: int = 0
    rtt_ms: float | None = None  # the fastest reply
    timeout_s: float = 1.0
    error: str | None = None  # it could not even be sent (no route, not root...)
    skipped: str | None = None  # why nothing was sent (no gateway to ping)


@dataclass(frozen=True)
class NamespaceFacts:
    """What the doctor read inside one namespace, kept so that a saved snapshot gets the
    verdict the live host got.  None: not read (the reason is in ``*_problem`` when known)."""

    listeners: tuple[Listener, ...] | None = None
    resolv_conf: str | None = None
    resolv_problem: str | None = None
    rulesets: tuple[RulesetText, ...] | None = None
    """The rules inside the namespace (Docker's DNAT to its embedded resolver)."""
    rules_problem: str | None = None
    ping: PingRecord | None = None
    """Only when a ping was sent."""
    ping6: PingRecord | None = None
    tcp_health: TcpHealth | None = None
    """Its TCP/UDP counters as the doctor's ``tcp`` step read them."""


@dataclass(frozen=True)
class ExemptNetwork:
    """An engine network built without NAT on purpose, and why."""

    network: str
    reason: str


@dataclass(frozen=True)
class HostFacts:
    """What the doctor read on the host beyond the snapshot (None: not read)."""

    ip_forward: str | None = None
    ip6_forward: str | None = None
    listeners: tuple[Listener, ...] | None = None
    """The host's own listening sockets (docker-proxy)."""
    no_nat: tuple[ExemptNetwork, ...] = ()
    rules_problem: str | None = None
    """Why the host's rules were not read (they are ``Snapshot.rulesets``)."""
    pinged: bool = False
    """A gateway ping was sent for every namespace it could be (``cnet doctor`` did)."""


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
class TcpHealth:
    """A namespace's TCP/UDP counters since it was made (``/proc/PID/net/snmp`` and
    ``netstat``, as ``nstat`` names them: TcpOutSegs, TcpRetransSegs, ...)."""

    out_segs: int = 0
    retrans_segs: int = 0
    out_rsts: int = 0
    estab_resets: int = 0
    attempt_fails: int = 0
    in_errs: int = 0
    listen_overflows: int = 0
    listen_drops: int = 0
    udp_in_errors: int = 0
    udp_rcvbuf_errors: int = 0


@dataclass(frozen=True)
class RecordedListener:
    """A socket listening in a namespace: a TCP listener or an unconnected UDP socket."""

    protocol: str
    address: str
    port: int
    process: str = ""
    """The command name of the process holding it ("" when none inside was found)."""


@dataclass(frozen=True)
class RecordedFlow:
    """A conntrack entry: ``original`` and ``reply`` as ``src:port -> dst:port``."""

    protocol: str
    state: str
    original: str
    reply: str
    nat: str = ""
    """``DNAT``, ``SNAT`` (MASQUERADE) or ""."""
    bytes: int | None = None
    packets: int | None = None


@dataclass(frozen=True)
class NamespaceConnections:
    """What one namespace listens on and how its TCP fared, named by its owner."""

    container: str
    listeners: tuple[RecordedListener, ...] = ()
    tcp_health: TcpHealth | None = None
    flows: tuple[RecordedFlow, ...] | None = None
    """None: not recorded (``cnet snapshot --flows`` records them)."""
    problem: str | None = None


@dataclass(frozen=True)
class RecordedConnections:
    """Listeners and TCP/UDP counters per namespace at the time of the snapshot."""

    namespaces: tuple[NamespaceConnections, ...] = ()

    def of(self, container: str) -> NamespaceConnections | None:
        return next((n for n in self.namespaces if n.container == container), None)


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
    connections: RecordedConnections | None = None
    """Listeners and TCP health per namespace (``cnet snapshot``); None in older files."""
    doctor_facts: HostFacts | None = None
    """What the doctor read on the host when the snapshot was taken; None: not recorded."""

    def __getstate__(self) -> dict[str, object]:
        """Pickled (to and from the collecting child) without the index: rebuilt there."""
        state = dict(self.__dict__)
        state.pop("_index", None)
        return state

    @cached_property
    def _index(self) -> _Index:
        """Built on first use, once per snapshot (frozen: it never goes stale), so every
        lookup by name or id is constant time and a command stays linear in the host."""
        return _Index(self)

    def container(self, name_or_id: str) -> Container | None:
        """Find a container by exact name, full id or unique id prefix (like the docker CLI)."""
        index = self._index
        found = index.by_name.get(name_or_id) or index.by_id.get(name_or_id)
        if found is not None or len(name_or_id) < 4:
            return found
        ids = index.ids
        at = bisect.bisect_left(ids, name_or_id)
        if at < len(ids) and ids[at].startswith(name_or_id):
            unique = at + 1 == len(ids) or not ids[at + 1].startswith(name_or_id)
            return index.by_id[ids[at]] if unique else None
        return None

    def namespace_owner(self, container: Container) -> Container:
        """The workload whose namespace ``container`` uses, at the end of a chain
        (``container:B`` where B is ``container:A``): the one in the same namespace, by
        inode, that has a network of its own; else the chain followed by name.  Itself
        when it owns its namespace (or uses the host's)."""
        if container.netns_shared_with in (None, "host"):
            return container
        if container.netns is not None:
            owners = self._index.owners.get(container.netns)
            if owners:
                return owners[0]
        seen = {container.name}
        current = container
        while current.netns_shared_with not in (None, "host"):
            following = self.container(current.netns_shared_with or "")
            if following is None or following.name in seen:
                break
            seen.add(following.name)
            current = following
        return current

    def sharers(self, owner: Container) -> tuple[Container, ...]:
        """The workloads that use ``owner``'s namespace, ``owner`` first."""
        others = self._index.sharers.get(owner.name, ())
        return (owner, *(c for c in others if c is not owner))

    def bridge(self, name: str) -> Bridge | None:
        return self._index.bridges.get(name)

    def host_interface(self, name: str) -> Interface | None:
        return self._index.host_interfaces.get(name)

    def bridge_port(self, ifindex: int) -> BridgePort | None:
        """The bridge port of a host link (first bridge, first port, as listed)."""
        return self._index.ports.get(ifindex)


class _Index:
    """A snapshot's lookups: dicts built in one pass over it."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.by_name: dict[str, Container] = {}
        self.by_id: dict[str, Container] = {}
        self.owners: dict[str, list[Container]] = {}
        for c in snapshot.containers:
            self.by_name.setdefault(c.name, c)
            self.by_id.setdefault(c.id, c)
            if c.netns is not None and c.netns_shared_with is None:
                self.owners.setdefault(c.netns, []).append(c)
        for found in self.owners.values():  # a running one with a network first
            found.sort(key=lambda c: (not c.running, not c.networks))
        self.ids = sorted(self.by_id)
        self.bridges = {b.name: b for b in reversed(snapshot.bridges)}
        self.host_interfaces = {i.name: i for i in reversed(snapshot.host.interfaces)}
        self.ports: dict[int, BridgePort] = {}
        for b in snapshot.bridges:
            for p in b.ports:
                self.ports.setdefault(p.ifindex, p)
        self._snapshot = snapshot
        self._sharers: dict[str, tuple[Container, ...]] | None = None

    @property
    def sharers(self) -> dict[str, tuple[Container, ...]]:
        if self._sharers is None:
            grouped: dict[str, list[Container]] = {}
            for c in self._snapshot.containers:
                if c.netns_shared_with not in (None, "host"):
                    owner = self._snapshot.namespace_owner(c)
                    grouped.setdefault(owner.name, []).append(c)
            self._sharers = {k: tuple(v) for k, v in grouped.items()}
        return self._sharers
