"""The troubleshooting walk as pure functions over a snapshot and ``DoctorFacts``.

Each check looks at one step an expert would look at, in order, and says pass, warn,
fail or skip, with the evidence it read and a fix.  A fix never deletes or edits a rule
the engine owns, and the engine's own DROPs (isolation, ICC off, direct access) and
``--internal`` networks are never failures.  No I/O: the live facts (forwarding, the
rulesets, the gateway pings, sockets, resolvers) come in ``DoctorFacts``, so every check
runs on recorded data in tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from inspector.doctor.model import (
    CHECK_IDS,
    NOT_PINGED,
    Check,
    ContainerReport,
    DnsFacts,
    DoctorFacts,
    GatewayPing,
    Listener,
    Status,
)
from inspector.model import Bridge, Container, Interface, NetworkAttachment, Route, Snapshot
from inspector.paths import loopback_only
from inspector.rules import Chain, RuleMatch, Rulesets, RulesReport, Table

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_UP_STATES = ("up", "unknown")
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

    @property
    def ns(self) -> str:
        """The prefix of a command run inside the namespace."""
        return f"nsenter -t {self.owner.pid} -n " if self.owner.pid else "nsenter -t PID -n "

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

    @cached_property
    def rules_report(self) -> RulesReport | None:
        """The rules that concern its namespace (read once: several checks ask)."""
        from inspector.rules import UnknownItem, rules_for

        if self.facts.rulesets is None:
            return None
        try:
            return rules_for(self.snapshot, self.facts.rulesets, self.owner.name)
        except (UnknownItem, ValueError):
            return None

    @property
    def ipv6(self) -> bool:
        """The namespace has a global (or unique local) IPv6 address on a link."""
        return any(_addresses(link.iface.addresses, 6) for link in self.links)


def _v4(addresses: Sequence[str]) -> ipaddress.IPv4Interface | None:
    for a in addresses:
        try:
            ip = ipaddress.ip_interface(a)
        except ValueError:
            continue
        if isinstance(ip, ipaddress.IPv4Interface):
            return ip
    return None


def _addresses(addresses: Sequence[str], version: int) -> list[str]:
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


def _bare(cidr: str) -> str:
    return cidr.split("/", 1)[0]


def bridge_holding(snapshot: Snapshot, gateway: str | None) -> Bridge | None:
    """The bridge that carries a network's gateway address (how Docker wires a network)."""
    if not gateway:
        return None
    return next(
        (b for b in snapshot.bridges if any(_bare(a) == gateway for a in b.addresses)), None
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


def build_context(snapshot: Snapshot, container: Container, facts: DoctorFacts) -> Context:
    """Pair each container interface with Docker's endpoint, its veth, bridge and parent."""
    from inspector.ping import namespace_owner

    owner = namespace_owner(snapshot, container)
    links: list[Link] = []
    placed: set[str] = set()
    for iface in owner.interfaces:
        if iface.name == "lo" or (
            iface.iflink is None and iface.kind is None and iface.peer is None
        ):
            continue
        held = {_bare(a) for a in iface.addresses}
        attachment = next((n for n in owner.networks if n.ip and n.ip in held), None)
        if attachment is not None:
            placed.add(attachment.name)
        v4 = _v4(iface.addresses)
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
    return Context(snapshot, container, owner, facts, tuple(links), unplaced)


def _check(
    check_id: str,
    status: Status,
    summary: str,
    evidence: Sequence[tuple[str, str]] = (),
    fix: str | None = None,
) -> Check:
    return Check(check_id, status, summary, tuple(evidence), fix)


def _worst(statuses: Sequence[Status]) -> Status:
    for s in ("fail", "warn", "pass"):
        if s in statuses:
            return s
    return "skip"


def _join_fixes(fixes: Sequence[str]) -> str | None:
    unique = list(dict.fromkeys(f for f in fixes if f))
    return " && ".join(unique) if unique else None


# --- 1. the container's interface ----------------------------------------------------------


def check_interface(ctx: Context) -> Check:
    evidence: list[tuple[str, str]] = []
    problems: list[str] = []
    fixes: list[str] = []
    for link in ctx.links:
        i = link.iface
        evidence.append((f"{i.name} state", i.state))
        evidence.append((f"{i.name} addresses", ", ".join(i.addresses) or "(none)"))
        if link.attachment is not None:
            evidence.append(
                (f"Docker's address on {link.attachment.name}", link.attachment.ip or "")
            )
        other = ctx.other_end(link) if link.to_workload else None
        if i.state == "lowerlayerdown" and link.host_end is not None:
            problems.append(f"{i.name} has no carrier: its host end {link.host_end.name} is down")
            fixes.append(f"ip link set {link.host_end.name} up")
        elif i.state not in _UP_STATES and other is not None and other[1].state not in _UP_STATES:
            # a veth is down while its other end is: that end is what to bring up (veth
            # check's fix), this one may well be up already
            problems.append(
                f"{i.name} has no carrier: its other end {other[1].name} in {other[0].name} "
                f"is {other[1].state}"
            )
        elif i.state not in _UP_STATES:
            problems.append(f"{i.name} is {i.state}")
            fixes.append(f"{ctx.ns}ip link set {i.name} up")
        if not i.addresses:
            problems.append(f"{i.name} has no address")
    for n in ctx.unplaced:
        evidence.append((f"Docker's address on {n.name}", n.ip or ""))
        problems.append(f"Docker's address {n.ip} (network {n.name}) is on no interface")
        fixes.append(
            f"docker network disconnect {n.name} {ctx.owner.name} && "
            f"docker network connect {n.name} {ctx.owner.name}"
        )
    if not ctx.links and not ctx.unplaced:
        return _check("interface", "fail", "no interface but loopback in the namespace", evidence)
    if problems:
        return _check("interface", "fail", "; ".join(problems), evidence, _join_fixes(fixes))
    words = ", ".join(f"{link.iface.name} {', '.join(link.iface.addresses)}" for link in ctx.links)
    return _check("interface", "pass", f"up and addressed: {words}", evidence)


# --- 2. the veth's host end (or a macvlan's parent) ------------------------------------------


def check_veth(ctx: Context) -> Check:
    evidence: list[tuple[str, str]] = []
    problems: list[str] = []
    fixes: list[str] = []
    good: list[str] = []
    statuses: list[Status] = []
    for link in ctx.links:
        i = link.iface
        if link.parent is not None or i.parent is not None:
            parent = link.parent
            name = i.parent.name if i.parent else "?"
            evidence.append((f"{i.name} kind", i.kind or "?"))
            evidence.append((f"{i.name} parent", name))
            if parent is None:
                problems.append(f"{i.name}'s parent {name} is gone from the host")
                statuses.append("fail")
            else:
                evidence.append((f"{name} state", parent.state))
                if parent.state not in _UP_STATES:
                    problems.append(f"{i.name}'s parent {name} is {parent.state}")
                    fixes.append(f"ip link set {name} up")
                    statuses.append("fail")
                else:
                    good.append(
                        f"{i.name} is {i.kind or 'a link'} on {name} (no veth), which is up"
                    )
                    statuses.append("pass")
            continue
        if not link.is_veth:
            statuses.append("skip")
            continue
        if link.to_workload:
            assert i.peer is not None and i.peer.workload is not None
            where = f"{i.peer.name} in {i.peer.workload}"
            evidence.append((f"{i.name} other end", where))
            found = ctx.other_end(link)
            if found is not None and found[1].state not in _UP_STATES:
                other, end = found
                problems.append(f"the other end of {i.name}, {where}, is {end.state}")
                if other.runtime == "netns":  # ip netns NAME: no process may be in it
                    fixes.append(f"ip -n {other.name} link set {end.name} up")
                else:
                    prefix = f"nsenter -t {other.pid} -n " if other.pid else "nsenter -t PID -n "
                    fixes.append(f"{prefix}ip link set {end.name} up")
                statuses.append("fail")
            else:
                good.append(f"{i.name} is a veth to {where}, not through the host")
                statuses.append("pass")
            continue
        if i.peer is None or link.host_end is None:
            evidence.append((f"{i.name} peer ifindex in host", str(i.iflink)))
            problems.append(f"the host end of {i.name} was not found in the host")
            statuses.append("fail")
            continue
        veth = link.host_end
        expected = link.expected.name if link.expected else None
        evidence.append((f"{i.name} host end", veth.name))
        evidence.append((f"{veth.name} state", veth.state))
        evidence.append((f"{veth.name} master", veth.master or "(none)"))
        if link.expected is not None:
            why = f"holds gateway {link.gateway}" if link.gateway else "holds the subnet"
            evidence.append(("expected bridge", f"{expected} ({why})"))
        port = next(
            (p for b in ctx.snapshot.bridges for p in b.ports if p.ifindex == veth.ifindex), None
        )
        if port is not None:
            evidence.append((f"{veth.name} port state", port.state))
        bad = False
        if veth.state not in _UP_STATES:
            problems.append(f"{veth.name} (host end of {i.name}) is {veth.state}")
            fixes.append(f"ip link set {veth.name} up")
            bad = True
        if veth.master is None:
            target = expected or "BRIDGE"
            problems.append(f"{veth.name} is on no bridge; it should be on {target}")
            fixes.append(f"ip link set {veth.name} master {target}")
            bad = True
        elif expected is not None and veth.master != expected:
            problems.append(f"{veth.name} is on {veth.master}; it should be on {expected}")
            fixes.append(f"ip link set {veth.name} master {expected}")
            bad = True
        if bad:
            statuses.append("fail")
        elif port is not None and port.state not in ("forwarding", "unknown"):
            problems.append(f"bridge port {veth.name} is {port.state}, not forwarding")
            statuses.append("warn")
        else:
            good.append(f"{veth.name} is up on {veth.master}")
            statuses.append("pass")
    status = _worst(statuses)
    if status == "skip":
        return _check("veth", "skip", "no veth or macvlan link to check", evidence)
    if status == "pass":
        return _check("veth", "pass", "; ".join(good), evidence)
    return _check("veth", status, "; ".join(problems), evidence, _join_fixes(fixes))


# --- 3. the bridge ---------------------------------------------------------------------------


def check_bridge(ctx: Context) -> Check:
    evidence: list[tuple[str, str]] = []
    problems: list[str] = []
    fixes: list[str] = []
    good: list[str] = []
    for link in ctx.bridged:
        bridge = link.bridge or link.expected
        if bridge is None:
            problems.append(f"no bridge holds {link.iface.name}'s gateway {link.gateway or '?'}")
            continue
        if bridge.name in {b for b, _ in evidence}:
            continue
        evidence.append((bridge.name, bridge.state))
        evidence.append((f"{bridge.name} addresses", ", ".join(bridge.addresses) or "(none)"))
        evidence.append(
            (
                f"{bridge.name} ports",
                ", ".join(f"{p.name} {p.state}" for p in bridge.ports) or "(none)",
            )
        )
        if bridge.state not in _UP_STATES:
            forwarding = [p for p in bridge.ports if p.state == "forwarding"]
            # Operstate alone cannot tell "set down" from "no port up": say both.
            why = "" if forwarding else " and none of its ports forwards (no port up, or set down)"
            problems.append(f"bridge {bridge.name} is {bridge.state}{why}")
            fixes.append(f"ip link set {bridge.name} up")
        gateway = link.gateway
        if gateway and not any(_bare(a) == gateway for a in bridge.addresses):
            prefix = link.subnet.prefixlen if link.subnet else 16
            problems.append(f"bridge {bridge.name} does not hold the gateway {gateway}")
            fixes.append(f"ip addr add {gateway}/{prefix} dev {bridge.name}")
        elif not problems:
            good.append(f"{bridge.name} is up" + (f" and holds {gateway}" if gateway else ""))
    if not ctx.bridged:
        kinds = ", ".join(sorted({link.iface.kind or "link" for link in ctx.links}))
        return _check("bridge", "skip", f"not on a bridge ({kinds})", evidence)
    if problems:
        return _check("bridge", "fail", "; ".join(problems), evidence, _join_fixes(fixes))
    return _check("bridge", "pass", "; ".join(good), evidence)


# --- 4. the default route --------------------------------------------------------------------


def _default_route(routes: Sequence[Route]) -> Route | None:
    from inspector.ping import default_route

    return default_route(tuple(routes))


def _on_link(routes: Sequence[Route], gateway: str, dev: str | None) -> Route | None:
    ip = ipaddress.ip_address(gateway)
    for r in routes:
        if r.gateway is None and r.dst != "default" and (dev is None or r.dev == dev):
            try:
                if ip in ipaddress.ip_network(r.dst, strict=False):
                    return r
            except ValueError:
                continue
    return None


def check_route(ctx: Context) -> Check:
    routes = ctx.owner.routes
    gateways = [n.gateway for n in ctx.owner.networks if n.gateway]
    default = _default_route(routes)
    evidence: list[tuple[str, str]] = [
        (
            "Docker's gateways",
            ", ".join(f"{n.gateway} ({n.name})" for n in ctx.owner.networks if n.gateway)
            or "(none)",
        ),
        ("default route", f"via {default.gateway} dev {default.dev}" if default else "(none)"),
    ]
    if default is None:
        if not gateways:
            return _check(
                "route",
                "skip",
                "no network with a gateway (internal): no default route by design",
                evidence,
            )
        return _check(
            "route",
            "fail",
            f"no default route; Docker's gateway is {gateways[0]}",
            evidence,
            f"{ctx.ns}ip route add default via {gateways[0]}",
        )
    assert default.gateway is not None
    if gateways and default.gateway not in gateways:
        return _check(
            "route",
            "fail",
            f"the default route goes via {default.gateway}, not Docker's gateway {gateways[0]}",
            evidence,
            f"{ctx.ns}ip route replace default via {gateways[0]}",
        )
    link_route = _on_link(routes, default.gateway, default.dev)
    evidence.append(
        (
            "route to the gateway",
            f"{link_route.dst} dev {link_route.dev}" if link_route else "(none)",
        )
    )
    if link_route is None:
        return _check(
            "route",
            "fail",
            f"gateway {default.gateway} is not on any link of the namespace",
            evidence,
            f"{ctx.ns}ip route add {default.gateway} dev {default.dev or 'eth0'}",
        )
    return _check("route", "pass", f"default via {default.gateway} dev {default.dev}", evidence)


def _bridge_gateways6(ctx: Context) -> list[str]:
    """The IPv6 addresses its bridges hold in its IPv6 subnets: Docker's IPv6 gateways."""
    found: list[str] = []
    for link in ctx.bridged:
        bridge = link.bridge or link.expected
        if bridge is None:
            continue
        own = [ipaddress.ip_interface(a) for a in link.iface.addresses]
        for a in bridge.addresses:
            ip = ipaddress.ip_interface(a)
            if ip.version == 6 and not ip.ip.is_link_local and any(ip.ip in o.network for o in own):
                found.append(str(ip.ip))
    return found


def check_route6(ctx: Context) -> Check:
    from inspector.ping import default_route

    if not ctx.ipv6:
        return _check("route6", "skip", NO_IPV6)
    default = default_route(tuple(ctx.owner.routes), 6)
    gateways = _bridge_gateways6(ctx)
    evidence = [
        (
            "IPv6 addresses",
            ", ".join(a for link in ctx.links for a in _addresses(link.iface.addresses, 6)),
        ),
        ("IPv6 gateways on its bridges", ", ".join(gateways) or "(none)"),
        ("IPv6 default route", f"via {default.gateway} dev {default.dev}" if default else "(none)"),
    ]
    if default is None:
        fix = f"{ctx.ns}ip -6 route add default via {gateways[0]}" if gateways else None
        where = f"; its bridge holds {gateways[0]}" if gateways else ""
        return _check(
            "route6",
            "fail",
            f"no IPv6 default route: its IPv6 traffic has no way out{where}",
            evidence,
            fix,
        )
    assert default.gateway is not None
    gw = ipaddress.ip_address(default.gateway)
    if gateways and not gw.is_link_local and default.gateway not in gateways:
        return _check(
            "route6",
            "fail",
            f"the IPv6 default route goes via {default.gateway}, not its bridge's {gateways[0]}",
            evidence,
            f"{ctx.ns}ip -6 route replace default via {gateways[0]}",
        )
    return _check(
        "route6", "pass", f"IPv6 default via {default.gateway} dev {default.dev}", evidence
    )


# --- 5. the gateway answers ------------------------------------------------------------------


def _gateway_check(check_id: str, ctx: Context, ping: GatewayPing | None) -> Check:
    if ping is None:
        if not ctx.facts.pinged:
            return _check(check_id, "skip", NOT_PINGED)
        return _check(check_id, "skip", "not pinged (the gateway ping did not run)")
    if ping.skipped:
        return _check(check_id, "skip", f"nothing to ping: {ping.skipped}")
    evidence: list[tuple[str, str]] = [
        ("pinged", f"{ping.target} from inside {ctx.owner.name}'s namespace"),
        ("replies", f"{ping.received}/{ping.transmitted} within {ping.timeout_s:g} s"),
    ]
    if ping.error:
        evidence.append(("error", ping.error))
        return _check(check_id, "fail", f"cannot ping {ping.target}: {ping.error}", evidence)
    if ping.received:
        rtt = f" in {ping.rtt_ms:.3f} ms" if ping.rtt_ms is not None else ""
        evidence.append(
            ("fastest reply", f"{ping.rtt_ms:.3f} ms" if ping.rtt_ms is not None else "?")
        )
        return _check(check_id, "pass", f"{ping.target} answered{rtt}", evidence)
    summary = f"{ping.target} did not answer {ping.transmitted} pings from inside"
    bridge = next((link.bridge.name for link in ctx.bridged if link.bridge), None)
    if ping.drops:
        return _dropped(check_id, ctx, ping, bridge, summary, evidence)
    if ctx.facts.drops_problem:
        evidence.append(("kernel drops", ctx.facts.drops_problem))
    if bridge is not None:
        # The bridge holds the gateway: the host itself did not answer (INPUT rules?).
        return _check(check_id, "fail", summary, evidence, f"cnet rules {bridge}")
    parent = next((link.parent.name for link in ctx.links if link.parent), None)
    if parent is not None:
        summary += f" (the gateway is a router on {parent}'s segment, outside this host)"
    return _check(check_id, "fail", summary, evidence)


def _dropped(
    check_id: str,
    ctx: Context,
    ping: GatewayPing,
    bridge: str | None,
    summary: str,
    evidence: list[tuple[str, str]],
) -> Check:
    """A failing gateway check that names the kernel's drop reason and its fix."""
    from inspector.render.drops import DropContext, gateway_words

    words = DropContext(bridge, ctx.facts.rp_filter.get(bridge or ""), ctx.ns)
    counted, tail, fix = gateway_words(ping.drops, words, check_id)
    evidence.append(("kernel drops", f"{counted} ({ping.drops_scope})"))
    return _check(check_id, "fail", f"{summary}: {tail}", evidence, fix)


def check_gateway(ctx: Context) -> Check:
    return _gateway_check("gateway", ctx, ctx.facts.pings.get(ctx.owner.name))


def check_gateway6(ctx: Context) -> Check:
    if not ctx.ipv6:
        return _check("gateway6", "skip", NO_IPV6)
    return _gateway_check("gateway6", ctx, ctx.facts.pings6.get(ctx.owner.name))


# --- 6. forwarding ---------------------------------------------------------------------------


def _internal(ctx: Context, link: Link) -> bool:
    """On a Docker ``--internal`` network: no way out of the host, by design."""
    if link.attachment is None:
        return False
    return "internal" in ctx.facts.no_nat.get(link.attachment.name, "")


def check_ip6_forward(ctx: Context) -> Check:
    if not ctx.ipv6:
        return _check("ip6-forward", "skip", NO_IPV6)
    if not ctx.bridged:
        return _check(
            "ip6-forward", "skip", "not on a bridge: its traffic is not forwarded by the host"
        )
    value = ctx.facts.ip6_forward
    key = "net.ipv6.conf.all.forwarding"
    evidence = [(key, value if value is not None else "(unreadable)")]
    if value is None:
        return _check("ip6-forward", "skip", f"{key} could not be read", evidence)
    if value.strip() == "1":
        return _check("ip6-forward", "pass", "the host forwards IPv6", evidence)
    return _check(
        "ip6-forward",
        "fail",
        f"{key} is {value.strip()}: the host forwards no IPv6, so its IPv6 traffic goes nowhere "
        "past the bridge (IPv4 is not affected)",
        evidence,
        f"sysctl -w {key}=1",
    )


def check_ip_forward(ctx: Context) -> Check:
    if not ctx.bridged:
        return _check(
            "ip-forward", "skip", "not on a bridge: its traffic is not forwarded by the host"
        )
    internal = [
        link.attachment.name for link in ctx.bridged if link.attachment and _internal(ctx, link)
    ]
    if len(internal) == len(ctx.bridged):
        return _check(
            "ip-forward",
            "skip",
            f"only on internal networks ({', '.join(internal)}): nothing to forward",
        )
    value = ctx.facts.ip_forward
    evidence = [("net.ipv4.ip_forward", value if value is not None else "(unreadable)")]
    if value is None:
        return _check(
            "ip-forward", "skip", "/proc/sys/net/ipv4/ip_forward could not be read", evidence
        )
    if value.strip() == "1":
        return _check("ip-forward", "pass", "the host forwards IPv4", evidence)
    bridge = ctx.bridged[0].bridge or ctx.bridged[0].expected
    where = f" out of {bridge.name}" if bridge else ""
    return _check(
        "ip-forward",
        "fail",
        f"net.ipv4.ip_forward is {value.strip()}: the host forwards nothing{where}",
        evidence,
        "sysctl -w net.ipv4.ip_forward=1",
    )


# --- 7. and 8. the firewall ------------------------------------------------------------------


def _rules_unknown(ctx: Context, check_id: str) -> Check | None:
    if not ctx.bridged:
        return _check(
            check_id, "skip", "not on a bridge: Docker's FORWARD and NAT rules do not apply"
        )
    if ctx.facts.rulesets is None:
        why = ctx.facts.rules_problem or "the ruleset was not read"
        return _check(check_id, "skip", f"rules unknown: {why}")
    return None


def _tool(m: RuleMatch) -> str:
    tool = "ip6tables" if m.table.startswith("ip6 ") else "iptables"
    return tool + "-legacy" if m.table.endswith("(legacy)") else tool


def _drop_fix(m: RuleMatch, address: str) -> str:
    """What to do about a DROP that is not the engine's design: never edit the engine's
    rules.  A rule in DOCKER-USER is the operator's own; elsewhere, let the traffic through
    ahead of it (DOCKER-USER runs first in FORWARD) or change it where it was made."""
    if m.table.endswith("(nft)"):
        return (
            f"this nft rule is not Docker's: change it in the table that owns it ({m.table}, "
            f"chain {m.chain}) so it lets {address} through"
        )
    if m.chain == "DOCKER-USER":
        spec = m.rule.text[3:] if m.rule.text.startswith("-A ") else m.rule.text
        return f"{_tool(m)} -t filter -D {spec}"
    # The same direction as the DROP: its -d (traffic to it) or else its -s (its own).
    direction = "-d" if m.reason.startswith("-d ") else "-s"
    return f"{_tool(m)} -t filter -I DOCKER-USER {direction} {address} -j ACCEPT"


def _forward_drop(ctx: Context, check_id: str, version: int) -> Check:
    from inspector.rules import blocking_rules_for_address

    unknown = _rules_unknown(ctx, check_id)
    if unknown is not None:
        return unknown
    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    family = "ip" if version == 4 else "ip6"
    if version == 6 and not any(t.family in ("ip6", "inet") for t in rulesets.tables):
        return _check(check_id, "skip", "the IPv6 rules were not read (ip6tables-save, nft)")
    evidence: list[tuple[str, str]] = []
    filt = next(
        (
            t
            for t in rulesets.tables
            if t.family == family and t.name == "filter" and t.source != "nft"
        ),
        None,
    )
    forward = filt.chain("FORWARD") if filt else None
    if forward is not None:
        evidence.append(("FORWARD policy", forward.policy or "-"))
    hits: dict[tuple[str, str, int], tuple[RuleMatch, str]] = {}
    for link in ctx.bridged:
        addresses = [a for a in _addresses(link.iface.addresses, version)]
        if not addresses:
            continue
        evidence.append((f"{link.iface.name} addresses looked for", ", ".join(addresses)))
        for ip in addresses:
            for m in blocking_rules_for_address(rulesets, ip):
                hits.setdefault((m.table, m.chain, m.rule.position), (m, ip))
    designed: list[RuleMatch] = []
    for m in _interface_drops(ctx, family):
        first = next(iter(_addresses(ctx.bridged[0].iface.addresses, version)), "ADDRESS")
        hits.setdefault((m.table, m.chain, m.rule.position), (m, first))
    for m in _designed_drops(ctx, family):
        designed.append(m)
        evidence.append(
            (f"{m.chain} rule {m.rule.position} (by design)", f"{m.rule.spec}: {m.design}")
        )
    blocked = _unaccepted_bridges(ctx, evidence) if version == 4 else []
    unaccepted = list(dict.fromkeys(b for b, _, _ in blocked))
    accept_fixes = [_accept_fix(b, table, chain) for b, table, chain in blocked]
    if not hits and not unaccepted:
        what = "FORWARD or DOCKER-USER" if version == 4 else "the IPv6 forward chains"
        summary = f"no DROP or REJECT in {what} hits it"
        if designed:
            summary += "; the engine's own DROPs (isolation, ICC off) are by design"
        return _check(check_id, "pass", summary, evidence)
    if not hits:
        bridges = " and ".join(unaccepted)
        where = "FORWARD's policy"
        nft = [f"{t.label} {c.name}" for _, t, c in blocked if t.source == "nft"]
        if nft:
            where = f"the policy of {nft[0]}"
        return _check(
            check_id,
            "fail",
            f"{where} is DROP and no rule accepts new connections from {bridges}",
            evidence,
            _join_fixes(accept_fixes),
        )
    ordered = [hits[k] for k in sorted(hits)]
    for m, _ in ordered:
        evidence.append(
            (f"{m.chain} rule {m.rule.position}", f"{m.rule.text}  [{m.table}; {m.reason}]")
        )
    chains = " and ".join(dict.fromkeys(m.chain for m, _ in ordered))
    rules = "a rule" if len(ordered) == 1 else f"{len(ordered)} rules"
    verb = "drops" if len(ordered) == 1 else "drop"
    return _check(
        check_id,
        "fail",
        f"{rules} in {chains} {verb} its traffic: {ordered[0][0].rule.text}",
        evidence,
        _join_fixes([_drop_fix(m, ip) for m, ip in ordered] + accept_fixes),
    )


def check_forward_drop(ctx: Context) -> Check:
    return _forward_drop(ctx, "forward-drop", 4)


def check_forward_drop6(ctx: Context) -> Check:
    if not ctx.ipv6:
        return _check("forward-drop6", "skip", NO_IPV6)
    return _forward_drop(ctx, "forward-drop6", 6)


ENGINE_TABLES = frozenset({"docker-bridges", "netavark"})


def _accept_fix(bridge: str, table: Table, chain: Chain) -> str:
    """Add (never edit) an ACCEPT ahead of the policy; an engine's own table is the
    engine's to rebuild."""
    if table.source != "nft":
        return f"iptables -t filter -I {chain.name} -i {bridge} ! -o {bridge} -j ACCEPT"
    if table.name in ENGINE_TABLES:
        return "restart the engine (it rebuilds its own table)"
    return (
        f'nft insert rule {table.family} {table.name} {chain.name} iifname "{bridge}" '
        f'oifname != "{bridge}" accept'
    )


def _unaccepted_bridges(
    ctx: Context, evidence: list[tuple[str, str]]
) -> list[tuple[str, Table, Chain]]:
    """Bridges whose new connections to the uplink no rule may accept under a FORWARD DROP
    policy.

    Docker sets that policy and adds an ACCEPT per bridge; a firewall reload that flushes
    FORWARD removes the ACCEPTs and keeps the policy.  Checked in each iptables filter
    table (nft and legacy backends), since a packet must pass both.
    """
    from inspector.rules.walk import NewConnection, first_accept

    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    uplink = _uplink(ctx.snapshot)
    if uplink is None:
        return []  # no way out of the host to accept (the route checks say so)
    unaccepted: list[tuple[str, Table, Chain]] = []
    for table, forward in _forward_base_chains(rulesets):
        if forward.policy != "DROP":
            continue
        for link in ctx.bridged:
            bridge = link.bridge or link.expected
            v4 = _v4(link.iface.addresses)
            if bridge is None or v4 is None or _internal(ctx, link):
                continue
            packet = NewConnection(bridge.name, v4.ip, out_interface=uplink.name)
            accept = first_accept(table, forward.name, packet)
            key = f"new connections from {bridge.name} to {uplink.name} [{table.label}]"
            if accept is not None:
                evidence.append((key, f"may be accepted by {accept.text}"))
            else:
                evidence.append((key, "no rule accepts them; the policy drops them"))
                unaccepted.append((bridge.name, table, forward))
    return unaccepted


def _own_report(ctx: Context) -> RulesReport | None:
    return ctx.rules_report


def _on_forward_path(m: RuleMatch, family: str) -> bool:
    if not m.table.startswith(f"{family} ") and not m.table.startswith("inet "):
        return False
    if m.table.endswith("(nft)"):
        return not m.chain.startswith(("raw-", "nat-")) and "INPUT" not in m.chain
    return " filter" in m.table


def _forward_base_chains(rulesets: Rulesets) -> list[tuple[Table, Chain]]:
    """Each IPv4 table's forward chain: iptables' filter FORWARD, and the base chains of
    native nft tables hooked on forward (Docker 29, firewalld, netavark...)."""
    found: list[tuple[Table, Chain]] = []
    for table in rulesets.tables:
        if table.source != "nft":
            forward = table.chain("FORWARD")
            if (table.family, table.name) == ("ip", "filter") and forward is not None:
                found.append((table, forward))
            continue
        if table.family not in ("ip", "inet"):
            continue
        for chain in table.chains:
            understood = any(r.structured for r in chain.rules) or not chain.rules
            if chain.hook and " hook forward " in f"{chain.hook} " and understood:
                found.append((table, chain))
    return found


def _interface_drops(ctx: Context, family: str = "ip") -> list[RuleMatch]:
    """DROP/REJECT on its forward path that name its veth or bridge (-i/-o) and that are
    not the engine's design."""
    report = _own_report(ctx)
    if report is None:
        return []
    return [
        m
        for m in report.blocking
        if _on_forward_path(m, family)
        and (m.chain in ("FORWARD", "DOCKER-USER") or m.table.endswith("(nft)"))
    ]


def _designed_drops(ctx: Context, family: str) -> list[RuleMatch]:
    """The engine's own DROPs that name its bridge directly (ICC off, isolation)."""
    report = _own_report(ctx)
    if report is None:
        return []
    return [m for m in report.by_design if m.direct and _on_forward_path(m, family)]


def check_masquerade(ctx: Context) -> Check:
    from inspector.rules import masquerade_rules_for_subnet

    unknown = _rules_unknown(ctx, "masquerade")
    if unknown is not None:
        return unknown
    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    evidence: list[tuple[str, str]] = []
    missing: list[tuple[IPNetwork, str]] = []
    masqueraded: list[str] = []
    for link in ctx.bridged:
        bridge = link.bridge or link.expected
        if link.subnet is None or bridge is None:
            continue
        network = link.attachment.name if link.attachment else ""
        if network in ctx.facts.no_nat:
            evidence.append((f"{link.subnet} ({network})", ctx.facts.no_nat[network]))
            continue
        if not link.gateway:
            evidence.append((str(link.subnet), "no gateway: no NAT by design"))
            continue
        found = masquerade_rules_for_subnet(rulesets, str(link.subnet), bridge.name)
        key = f"{link.subnet} via {bridge.name}"
        if found:
            evidence.append((key, f"{found[0].rule.text}  [{found[0].table}]"))
            masqueraded.append(f"{link.subnet} ({bridge.name})")
        else:
            evidence.append((key, "(no MASQUERADE rule)"))
            missing.append((link.subnet, bridge.name))
    if not masqueraded and not missing:
        why = "; ".join(v for _, v in evidence) or "no subnet with a gateway to check"
        return _check("masquerade", "skip", why, evidence)
    if missing:
        subnets = ", ".join(str(subnet) for subnet, _ in missing)
        fixes = [
            f"iptables -t nat -A POSTROUTING -s {subnet} ! -o {bridge} -j MASQUERADE"
            for subnet, bridge in missing
        ]
        return _check(
            "masquerade",
            "fail",
            f"no MASQUERADE rule for {subnets}: its packets leave with a private source "
            "address and replies from outside never come back",
            evidence,
            _join_fixes(fixes),
        )
    summary = f"masqueraded on the way out: {', '.join(masqueraded)}"
    return _check("masquerade", "pass", summary, evidence)


# --- 9. MTU ----------------------------------------------------------------------------------


def _uplink(snapshot: Snapshot) -> Interface | None:
    route = _default_route(snapshot.host.routes)
    return snapshot.host_interface(route.dev) if route and route.dev else None


def check_mtu(ctx: Context) -> Check:
    evidence: list[tuple[str, str]] = []
    problems: list[str] = []
    fixes: list[str] = []
    checked = False
    for link in ctx.links:
        i = link.iface
        evidence.append((f"{i.name} mtu", str(i.mtu)))
        if link.host_end is not None:
            checked = True
            veth = link.host_end
            evidence.append((f"{veth.name} mtu", str(veth.mtu)))
            bridge_if = ctx.snapshot.host_interface(link.bridge.name) if link.bridge else None
            if bridge_if is not None:
                evidence.append((f"{bridge_if.name} mtu", str(bridge_if.mtu)))
            reference = bridge_if.mtu if bridge_if is not None else veth.mtu
            where = bridge_if.name if bridge_if is not None else veth.name
            if i.mtu != reference:
                problems.append(f"{i.name} has MTU {i.mtu} but {where} has {reference}")
                fixes.append(f"{ctx.ns}ip link set dev {i.name} mtu {reference}")
            if bridge_if is not None and veth.mtu != bridge_if.mtu:
                problems.append(
                    f"{veth.name} has MTU {veth.mtu} but {bridge_if.name} has {bridge_if.mtu}"
                )
                fixes.append(f"ip link set dev {veth.name} mtu {bridge_if.mtu}")
        elif link.to_workload and (found := ctx.other_end(link)) is not None:
            checked = True
            other, end = found
            evidence.append((f"{end.name} in {other.name} mtu", str(end.mtu)))
            if i.mtu is not None and end.mtu is not None and i.mtu != end.mtu:
                problems.append(
                    f"{i.name} has MTU {i.mtu} but its other end {end.name} in {other.name} "
                    f"has {end.mtu}"
                )
                fixes.append(f"{ctx.ns}ip link set dev {i.name} mtu {min(i.mtu, end.mtu)}")
        elif link.parent is not None:
            checked = True
            evidence.append((f"{link.parent.name} mtu", str(link.parent.mtu)))
            if i.mtu is not None and link.parent.mtu is not None and i.mtu > link.parent.mtu:
                problems.append(
                    f"{i.name} has MTU {i.mtu}, above {link.parent.name}'s {link.parent.mtu}"
                )
                fixes.append(f"{ctx.ns}ip link set dev {i.name} mtu {link.parent.mtu}")
    uplink = _uplink(ctx.snapshot)
    if uplink is not None:
        evidence.append((f"host uplink {uplink.name} mtu", str(uplink.mtu)))
        above = [
            link
            for link in ctx.bridged
            if link.iface.mtu is not None
            and uplink.mtu is not None
            and link.iface.mtu > uplink.mtu
            and not _internal(ctx, link)
        ]
        if above:
            checked = True
            names = " and ".join(link.iface.name for link in above)
            values = "/".join(sorted({str(link.iface.mtu) for link in above}))
            verb = "has" if len(above) == 1 else "have"
            problems.append(
                f"{names} {verb} MTU {values}, above the host uplink {uplink.name}'s {uplink.mtu}: "
                f"packets over {uplink.mtu} bytes leaving the host are dropped unless path MTU "
                "discovery works (ping works, large transfers such as HTTPS hang)"
            )
        for link in above:
            network = link.attachment.name if link.attachment else None
            if network and network != "bridge":
                fixes.append(
                    f"recreate network {network} with -o com.docker.network.driver.mtu={uplink.mtu}"
                )
            else:
                fixes.append(
                    f'set "mtu": {uplink.mtu} in /etc/docker/daemon.json and restart Docker'
                )
    if not checked:
        return _check("mtu", "skip", "no host end to compare with", evidence)
    if problems:
        summary = "; ".join(problems)
        if "path MTU" not in summary:
            summary += ": larger packets are dropped on the way"
        return _check("mtu", "warn", summary, evidence, _join_fixes(fixes))
    mtus = sorted({str(link.iface.mtu) for link in ctx.links})
    upto = f", within the uplink's {uplink.mtu}" if uplink is not None and uplink.mtu else ""
    return _check("mtu", "pass", f"MTU {', '.join(mtus)} all along{upto}", evidence)


# --- 10. published ports ---------------------------------------------------------------------


_ANY = frozenset({"0.0.0.0", "::"})


def _dnat_rules(ctx: Context, ips: Sequence[str], port: int, host_port: int) -> list[RuleMatch]:
    """DNAT rules that send ``host_port`` to one of its addresses at ``port``."""
    from inspector.rules import explain

    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    wanted = {f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}" for ip in ips}
    found: list[RuleMatch] = []
    for table in rulesets.tables:
        for chain in table.chains:
            for rule in chain.rules:
                if rule.verdict != "DNAT" or rule.target is None:
                    continue
                to = rule.target.option("--to-destination")
                if to is None or to.value not in wanted:
                    continue
                dports = [o for o in (*rule.options("--dport"), *rule.options("--dports"))]
                if dports and not any(str(host_port) in o.values for o in dports):
                    continue
                found.append(
                    RuleMatch(table.label, chain.name, rule, "", explanation=explain(rule))
                )
    return found


def _listening(listeners: Sequence[Listener], protocol: str, port: int) -> list[Listener]:
    return [x for x in listeners if x.protocol == protocol and x.port == port]


def check_ports(ctx: Context) -> Check:
    ports = [p for p in (ctx.container.ports or ctx.owner.ports) if p.host_port is not None]
    if not ports:
        return _check("ports", "skip", "no published port")
    ips = [a for link in ctx.links for v in (4, 6) for a in _addresses(link.iface.addresses, v)]
    ips += [ip for ip in ctx.owner.ips if ip not in ips]
    inside = ctx.facts.listeners.get(ctx.owner.name)
    host = ctx.facts.host_listeners
    evidence: list[tuple[str, str]] = []
    problems: list[str] = []
    statuses: list[Status] = []
    good: list[str] = []
    for p in ports:
        assert p.host_port is not None
        name = f"{p.host_port}->{p.container_port}/{p.protocol}"
        forwarded = False
        if ctx.facts.rulesets is not None:
            dnat = _dnat_rules(ctx, ips, p.container_port, p.host_port)
            for m in dnat[:2]:
                evidence.append((f"{name} DNAT", f"{m.rule.spec}  [{m.table} {m.chain}]"))
            forwarded = bool(dnat)
        proxies = _listening(host, p.protocol, p.host_port) if host is not None else []
        if proxies:
            where = ", ".join(f"{x.address}:{x.port}" for x in proxies)
            evidence.append((f"{name} on the host", f"{where} (docker-proxy or another process)"))
            forwarded = True
        if not forwarded and ctx.facts.rulesets is not None and host is not None:
            evidence.append((f"{name} DNAT", "(none, and nothing listens on the host port)"))
            problems.append(
                f"port {p.host_port} is published but neither a DNAT rule nor docker-proxy "
                f"forwards it to {ctx.owner.name}"
            )
            statuses.append("fail")
            continue
        if inside is None:
            evidence.append((f"{name} inside", "(listeners not read)"))
            statuses.append("skip")
            continue
        here = _listening(inside, p.protocol, p.container_port)
        reachable = [x for x in here if x.address in _ANY or x.address in ips]
        if reachable:
            words = ", ".join(f"{x.address}:{x.port}/{x.protocol}" for x in reachable)
            evidence.append((f"{name} listener inside", words))
            good.append(f"{p.host_port} -> {words}")
            statuses.append("pass")
        elif here:
            words = ", ".join(f"{x.address}:{x.port}" for x in here)
            evidence.append((f"{name} listener inside", words))
            problems.append(
                f"port {p.container_port}/{p.protocol} listens only on {words} inside "
                f"{ctx.owner.name}: connections forwarded to {ips[0] if ips else 'it'} are refused"
            )
            statuses.append("fail")
        else:
            listed = ", ".join(f"{x.address}:{x.port}/{x.protocol}" for x in inside) or "none"
            evidence.append((f"{name} listener inside", "(nothing)"))
            evidence.append(("listening inside", listed))
            problems.append(
                f"nothing listens on {p.container_port}/{p.protocol} inside {ctx.owner.name}: "
                f"connections to host port {p.host_port} are refused or reset"
            )
            statuses.append("fail")
    status = _worst(statuses)
    if status == "skip":
        return _check("ports", "skip", "the sockets inside the namespace were not read", evidence)
    if problems:
        return _check("ports", status, "; ".join(problems), evidence)
    return _check("ports", "pass", "published and listening: " + "; ".join(good), evidence)


# --- 11. DNS -----------------------------------------------------------------------------------

EMBEDDED_DNS = "127.0.0.11"
_DEFAULT_NETWORKS = frozenset({"bridge", "host", "none", "default"})


def nameservers(resolv_conf: str) -> list[str]:
    """The ``nameserver`` lines of a resolv.conf, in order."""
    out: list[str] = []
    for line in resolv_conf.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            out.append(words[1].split("%", 1)[0])
    return out


def _route_to(routes: Sequence[Route], address: str) -> Route | None:
    from inspector.ping import default_route

    ip = ipaddress.ip_address(address)
    best: tuple[int, Route] | None = None
    for r in routes:
        if r.dst == "default":
            continue
        try:
            net = ipaddress.ip_network(r.dst, strict=False)
        except ValueError:
            continue
        if net.version == ip.version and ip in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, r)
    if best is not None:
        return best[1]
    return default_route(tuple(routes), ip.version)


def _embedded_dns_rules(dns: DnsFacts) -> list[str]:
    """Docker's DNAT of 127.0.0.11:53 to its resolver, inside the namespace (iptables' nat
    DOCKER_OUTPUT, or Docker 29's nft table)."""
    if dns.rulesets is None:
        return []
    found: list[str] = []
    for table in dns.rulesets.tables:
        for chain in table.chains:
            for rule in chain.rules:
                if rule.verdict != "DNAT" or rule.target is None:
                    continue
                dest = rule.selector("-d")
                to = rule.target.option("--to-destination")
                to_embedded = to is not None and to.value.startswith(EMBEDDED_DNS + ":")
                if (dest is not None and dest.value.startswith(EMBEDDED_DNS)) or to_embedded:
                    found.append(rule.spec)
    return found


def check_dns(ctx: Context) -> Check:
    dns = ctx.facts.dns.get(ctx.owner.name)
    if dns is None:
        return _check("dns", "skip", "its resolver was not read")
    if dns.resolv_conf is None:
        return _check("dns", "skip", f"resolv.conf unreadable: {dns.problem or 'unknown'}")
    servers = nameservers(dns.resolv_conf)
    evidence: list[tuple[str, str]] = [("resolv.conf nameservers", ", ".join(servers) or "(none)")]
    user_defined = [n.name for n in ctx.owner.networks if n.name not in _DEFAULT_NETWORKS and n.ip]
    if not servers:
        return _check("dns", "fail", "resolv.conf names no nameserver", evidence)
    if user_defined and EMBEDDED_DNS in servers:
        rules = _embedded_dns_rules(dns)
        for r in rules[:4]:
            evidence.append(("DNAT inside its namespace", r))
        if dns.rulesets is None:
            evidence.append(("rules inside its namespace", dns.rules_problem or "not read"))
            return _check(
                "dns",
                "skip",
                f"uses Docker's embedded resolver {EMBEDDED_DNS}; its DNAT inside the namespace "
                f"could not be read ({dns.rules_problem or 'unknown'})",
                evidence,
            )
        if not rules:
            return _check(
                "dns",
                "fail",
                f"resolv.conf uses Docker's embedded resolver {EMBEDDED_DNS} but no DNAT rule "
                "inside the namespace leads to it: name lookups time out",
                evidence,
                f"docker restart {ctx.owner.name}",
            )
        inside = ctx.facts.listeners.get(ctx.owner.name)
        if inside is not None:
            resolver = [x for x in inside if x.address == EMBEDDED_DNS]
            evidence.append(
                (
                    "resolver sockets inside",
                    ", ".join(f"{x.address}:{x.port}/{x.protocol}" for x in resolver) or "(none)",
                )
            )
            if not resolver:
                return _check(
                    "dns",
                    "fail",
                    f"the DNAT to Docker's resolver is there but nothing listens on "
                    f"{EMBEDDED_DNS} inside the namespace (dockerd's resolver is gone)",
                    evidence,
                    f"docker restart {ctx.owner.name}",
                )
        return _check(
            "dns",
            "pass",
            f"Docker's embedded resolver {EMBEDDED_DNS} on network {user_defined[0]}, "
            "with its DNAT inside the namespace",
            evidence,
        )
    problems: list[str] = []
    reachable: list[str] = []
    for server in servers:
        try:
            ip = ipaddress.ip_address(server)
        except ValueError:
            problems.append(f"nameserver {server!r} is not an address")
            continue
        if ip.is_loopback:
            evidence.append((f"nameserver {server}", "loopback inside the container"))
            problems.append(
                f"nameserver {server} is loopback inside the container: nothing answers there "
                "(the host's local resolver is not in its namespace)"
            )
            continue
        route = _route_to(ctx.owner.routes, server)
        if route is None:
            evidence.append((f"nameserver {server}", "no route"))
            problems.append(f"no route to nameserver {server}")
        else:
            via = f"via {route.gateway}" if route.gateway else "on-link"
            evidence.append((f"nameserver {server}", f"{via} dev {route.dev}"))
            reachable.append(server)
    if user_defined:
        evidence.append(
            (
                "note",
                f"not Docker's {EMBEDDED_DNS}: container names on {user_defined[0]} do not resolve",
            )
        )
    if problems and not reachable:
        return _check("dns", "fail", "; ".join(problems), evidence)
    if problems:
        return _check("dns", "warn", "; ".join(problems), evidence)
    return _check(
        "dns", "pass", f"nameservers {', '.join(reachable)} reachable by a route", evidence
    )


# --- the host's own network, for host-mode containers ----------------------------------------


def _host_interface_check(snapshot: Snapshot) -> Check:
    route = _default_route(snapshot.host.routes)
    if route is None or route.dev is None:
        return _check(
            "interface", "skip", "host network mode: the host has no default route to follow"
        )
    uplink = snapshot.host_interface(route.dev)
    if uplink is None:
        return _check("interface", "fail", f"host network mode: the uplink {route.dev} is gone")
    evidence = [
        (f"{uplink.name} state", uplink.state),
        (f"{uplink.name} addresses", ", ".join(uplink.addresses) or "(none)"),
    ]
    if uplink.state not in _UP_STATES or not uplink.addresses:
        return _check(
            "interface",
            "fail",
            f"host network mode: the host's uplink {uplink.name} is {uplink.state}",
            evidence,
            f"ip link set {uplink.name} up",
        )
    return _check(
        "interface",
        "pass",
        f"host network mode: the host's uplink {uplink.name} is up and addressed",
        evidence,
    )


def _host_route_check(snapshot: Snapshot) -> Check:
    route = _default_route(snapshot.host.routes)
    if route is None:
        return _check("route", "warn", "host network mode: the host has no IPv4 default route")
    return _check(
        "route",
        "pass",
        f"host network mode: the host's default route is via {route.gateway} dev {route.dev}",
        [("default route", f"via {route.gateway} dev {route.dev}")],
    )


def _all_skip(reason: str, keep: Sequence[Check] = ()) -> tuple[Check, ...]:
    kept = {c.id: c for c in keep}
    return tuple(kept.get(i) or _check(i, "skip", reason) for i in CHECK_IDS)


WALK: tuple[tuple[str, Callable[[Context], Check]], ...] = (
    ("interface", check_interface),
    ("veth", check_veth),
    ("bridge", check_bridge),
    ("route", check_route),
    ("route6", check_route6),
    ("gateway", check_gateway),
    ("gateway6", check_gateway6),
    ("ip-forward", check_ip_forward),
    ("ip6-forward", check_ip6_forward),
    ("forward-drop", check_forward_drop),
    ("forward-drop6", check_forward_drop6),
    ("masquerade", check_masquerade),
    ("mtu", check_mtu),
    ("ports", check_ports),
    ("dns", check_dns),
)


def run_checks(
    snapshot: Snapshot, container: Container | str, facts: DoctorFacts | None = None
) -> ContainerReport:
    """The whole walk for one container (pure: the live facts come in ``facts``).

    Raises KeyError for a name the snapshot does not know.
    """
    facts = facts or DoctorFacts()
    if isinstance(container, str):
        found = snapshot.container(container)
        if found is None:
            raise KeyError(container)
        container = found
    from inspector.ping import namespace_owner

    if not container.running:
        return ContainerReport(
            container.name,
            container.state,
            _all_skip(f"not running ({container.state})"),
        )
    owner = namespace_owner(snapshot, container)
    note = ""
    if owner is not container:
        note = f"shares the network namespace of {owner.name}: these are {owner.name}'s checks"
        if not owner.running:
            return ContainerReport(
                container.name,
                container.state,
                _all_skip(f"{owner.name}, whose namespace it uses, is not running"),
                note,
            )
    if owner.netns_shared_with == "host":
        reason = "host network mode: no veth, bridge, NAT or forwarding of its own"
        checks = _all_skip(reason, [_host_interface_check(snapshot), _host_route_check(snapshot)])
        checks = tuple(
            _check(
                "gateway",
                "skip",
                "host network mode: cnet pings only a container's own Docker gateway",
            )
            if c.id == "gateway"
            else c
            for c in checks
        )
        return ContainerReport(
            container.name,
            container.state,
            checks,
            "host network mode: uses the host's network stack",
        )
    if loopback_only(owner):
        return ContainerReport(
            container.name,
            container.state,
            _all_skip(f"only loopback in its namespace (network mode {owner.network_mode})"),
            f"only loopback (network mode {owner.network_mode}): no network by design, "
            "not a failure"
            if owner.network_mode == "none"
            else f"only loopback (network mode {owner.network_mode}): no network to check",
        )
    if not owner.interfaces:
        return ContainerReport(
            container.name,
            container.state,
            _all_skip("its namespace was not read (cnet needs root to enter namespaces)"),
            note,
        )
    ctx = build_context(snapshot, container, facts)
    return ContainerReport(
        container.name, container.state, tuple(check(ctx) for _, check in WALK), note
    )
