"""What every check reads: the container's links, the bridge behind it, its networks and
the live facts, gathered once (``build_context``), and the small helpers that make a ``Check``.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from inspector.doctor.memo import Shared
from inspector.doctor.model import (
    Check,
    DoctorFacts,
    Status,
)
from inspector.model.queries import default_route, namespace_owner
from inspector.model.snapshot import (
    Bridge,
    Container,
    Interface,
    NetworkAttachment,
    Route,
    Snapshot,
)
from inspector.rules import RulesReport

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UP_STATES = ("up", "unknown")
NO_IPV6 = "no IPv6 address (other than link-local): nothing to check"  # "unknown": links without carrier detection (lo, some tunnels)


@dataclass(frozen=True)
class Link:
    """One container interface and everything on its way out of the host."""

    iface: Interface
    attachment: NetworkAttachment | None  # Docker's endpoint whose address the interface holds
    host_end: Interface | None  # the veth's host end as the host sees it
    bridge: Bridge | None  # the bridge the host end sits on
    expected: Bridge | None  # the bridge that holds this network's gateway
    parent: Interface | None  # macvlan-like: the host device it sits on
    subnet: IPNetwork | None

    @property
    def gateway(self) -> str | None:
        return self.attachment.gateway if self.attachment else None

    @property
    def is_veth(self) -> bool:
        return self.iface.kind == "veth" or self.iface.peer is not None

    @property
    def to_workload(self) -> bool:
        """A veth whose other end is in another container or namespace, not the host's:
        no host end, no bridge and no uplink on its way."""
        return self.iface.peer is not None and self.iface.peer.workload is not None


@dataclass(frozen=True)
class Context:
    """What every check of one container reads."""

    snapshot: Snapshot
    container: Container
    owner: Container  # whose namespace (itself unless container:X)
    facts: DoctorFacts
    links: tuple[Link, ...]
    unplaced: tuple[NetworkAttachment, ...]  # Docker's addresses on no interface
    shared: Shared  # the run's answers that do not depend on this container

    @property
    def ns(self) -> str:
        """The prefix of a command run inside the namespace."""
        return nsenter(self.owner.pid)

    @property
    def bridged(self) -> tuple[Link, ...]:
        """The veths that lead to the host (those to another workload do not)."""
        return tuple(link for link in self.links if link.is_veth and not link.to_workload)

    def other_end(self, link: Link) -> tuple[Container, Interface] | None:
        """The workload and interface a veth to another workload leads to."""
        peer = link.iface.peer
        other = self.snapshot.container(peer.workload) if peer and peer.workload else None
        if peer is None or other is None:
            return None
        end = next((i for i in other.interfaces if i.ifindex == peer.ifindex), None)
        return (other, end) if end is not None else None

    @property
    def rules_report(self) -> RulesReport | None:
        """The rules that concern its namespace (read once per owner: several checks ask)."""
        return self.shared.rules_report(self.owner.name)

    @property
    def uplink(self) -> Interface | None:
        """The host's uplink (its main IPv4 default route's device)."""
        return self.shared.uplink()

    @cached_property
    def ipv6(self) -> bool:
        """The namespace has a global (or unique local) IPv6 address on a link."""
        return any(addresses_of(link.iface.addresses, 6) for link in self.links)


def first_v4(addresses: Sequence[str]) -> ipaddress.IPv4Interface | None:
    for a in addresses:
        try:
            ip = ipaddress.ip_interface(a)
        except ValueError:
            continue
        if isinstance(ip, ipaddress.IPv4Interface):
            return ip
    return None


def addresses_of(addresses: Sequence[str], version: int) -> list[str]:
    """Bare addresses of one family, link-local and loopback left out, in order."""
    out: list[str] = []
    for a in addresses:
        try:
            ip = ipaddress.ip_interface(a).ip
        except ValueError:
            continue
        if ip.version == version and not ip.is_link_local and not ip.is_loopback:
            out.append(str(ip))
    return list(dict.fromkeys(out))


def bare_address(cidr: str) -> str:
    return cidr.split("/", 1)[0]


def bridge_holding(snapshot: Snapshot, gateway: str | None) -> Bridge | None:
    """The bridge that carries a network's gateway address (how Docker wires a network)."""
    if not gateway:
        return None
    return next(
        (b for b in snapshot.bridges if any(bare_address(a) == gateway for a in b.addresses)), None
    )


def _bridge_for_subnet(snapshot: Snapshot, subnet: IPNetwork | None) -> Bridge | None:
    if subnet is None:
        return None
    for b in snapshot.bridges:
        for a in b.addresses:
            ip = ipaddress.ip_interface(a)
            if ip.network == subnet:
                return b
    return None


def build_context(
    snapshot: Snapshot, container: Container, facts: DoctorFacts, shared: Shared
) -> Context:
    """Pair each container interface with Docker's endpoint, its veth, bridge and parent."""
    owner = namespace_owner(snapshot, container)
    links: list[Link] = []
    placed: set[str] = set()
    for iface in owner.interfaces:
        if iface.name == "lo" or (
            iface.iflink is None and iface.kind is None and iface.peer is None
        ):
            continue
        held = {bare_address(a) for a in iface.addresses}
        attachment = next((n for n in owner.networks if n.ip and n.ip in held), None)
        if attachment is not None:
            placed.add(attachment.name)
        v4 = first_v4(iface.addresses)
        subnet: IPNetwork | None = v4.network if v4 is not None else None
        host_end = snapshot.host_interface(iface.peer.name) if iface.peer else None
        master = host_end.master if host_end else None
        bridge = snapshot.bridge(master) if master else None
        expected = bridge_holding(snapshot, attachment.gateway if attachment else None)
        if expected is None and iface.peer is not None:
            expected = _bridge_for_subnet(snapshot, subnet)
        parent = snapshot.host_interface(iface.parent.name) if iface.parent else None
        links.append(Link(iface, attachment, host_end, bridge, expected, parent, subnet))
    unplaced = tuple(n for n in owner.networks if n.ip and n.name not in placed)
    return Context(snapshot, container, owner, facts, tuple(links), unplaced, shared)


def new_check(
    check_id: str,
    status: Status,
    summary: str,
    evidence: Sequence[tuple[str, str]] = (),
    fix: str | None = None,
) -> Check:
    return Check(check_id, status, summary, tuple(evidence), fix)


def worst_of(statuses: Sequence[Status]) -> Status:
    for s in ("fail", "warn", "pass"):
        if s in statuses:
            return s
    return "skip"


def sh(*words: object) -> str:
    """A command for the operator to paste: every word quoted for the shell, so a name
    such as ``a;echo${IFS}PWN`` or ``$(id)`` stays one argument and runs nothing."""
    return shlex.join(str(w) for w in words)


def nsenter(pid: int | None) -> str:
    """The prefix of a command run inside a process's network namespace."""
    return f"nsenter -t {int(pid)} -n " if pid else "nsenter -t PID -n "


def join_fixes(fixes: Sequence[str]) -> str | None:
    unique = list(dict.fromkeys(f for f in fixes if f))
    return " && ".join(unique) if unique else None


def is_internal(ctx: Context, link: Link) -> bool:
    """On a Docker ``--internal`` network: no way out of the host, by design."""
    if link.attachment is None:
        return False
    return "internal" in ctx.facts.no_nat.get(link.attachment.name, "")


def main_default_route(routes: Sequence[Route]) -> Route | None:
    return default_route(tuple(routes))
