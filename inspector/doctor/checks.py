"""The troubleshooting walk as pure functions over a snapshot and ``DoctorFacts``.

Each check looks at one step an expert would look at, in order, and says pass, warn,
fail or skip, with the evidence it read and a command that would fix it.  No I/O: the
live facts (ip_forward, the ruleset, the gateway ping) come in ``DoctorFacts``, so every
check runs on recorded data in tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.doctor.model import (
    CHECK_IDS,
    Check,
    ContainerReport,
    DoctorFacts,
    GatewayPing,
    Status,
)
from inspector.model import Bridge, Container, Interface, NetworkAttachment, Route, Snapshot
from inspector.paths import loopback_only
from inspector.rules import RuleMatch

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_UP_STATES = ("up", "unknown")  # "unknown": links without carrier detection (lo, some tunnels)


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
        return tuple(link for link in self.links if link.is_veth)


def _v4(addresses: Sequence[str]) -> ipaddress.IPv4Interface | None:
    for a in addresses:
        try:
            ip = ipaddress.ip_interface(a)
        except ValueError:
            continue
        if isinstance(ip, ipaddress.IPv4Interface):
            return ip
    return None


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
        if i.state == "lowerlayerdown" and link.host_end is not None:
            problems.append(f"{i.name} has no carrier: its host end {link.host_end.name} is down")
            fixes.append(f"ip link set {link.host_end.name} up")
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


# --- 5. the gateway answers ------------------------------------------------------------------


def check_gateway(ctx: Context) -> Check:
    ping: GatewayPing | None = ctx.facts.pings.get(ctx.owner.name)
    if ping is None:
        return _check("gateway", "skip", "not pinged (the gateway ping did not run)")
    if ping.skipped:
        return _check("gateway", "skip", f"nothing to ping: {ping.skipped}")
    evidence: list[tuple[str, str]] = [
        ("pinged", f"{ping.target} from inside {ctx.owner.name}'s namespace"),
        ("replies", f"{ping.received}/{ping.transmitted} within {ping.timeout_s:g} s"),
    ]
    if ping.error:
        evidence.append(("error", ping.error))
        return _check("gateway", "fail", f"cannot ping {ping.target}: {ping.error}", evidence)
    if ping.received:
        rtt = f" in {ping.rtt_ms:.3f} ms" if ping.rtt_ms is not None else ""
        evidence.append(
            ("fastest reply", f"{ping.rtt_ms:.3f} ms" if ping.rtt_ms is not None else "?")
        )
        return _check("gateway", "pass", f"{ping.target} answered{rtt}", evidence)
    summary = f"{ping.target} did not answer {ping.transmitted} pings from inside"
    bridge = next((link.bridge.name for link in ctx.bridged if link.bridge), None)
    if bridge is not None:
        # The bridge holds the gateway: the host itself did not answer (INPUT rules?).
        return _check("gateway", "fail", summary, evidence, f"cnet rules {bridge}")
    parent = next((link.parent.name for link in ctx.links if link.parent), None)
    if parent is not None:
        summary += f" (the gateway is a router on {parent}'s segment, outside this host)"
    return _check("gateway", "fail", summary, evidence)


# --- 6. forwarding ---------------------------------------------------------------------------


def _internal(ctx: Context, link: Link) -> bool:
    """On a Docker ``--internal`` network: no way out of the host, by design."""
    if link.attachment is None:
        return False
    return "internal" in ctx.facts.no_nat.get(link.attachment.name, "")


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


def _delete_command(m: RuleMatch) -> str:
    """The command that removes exactly this rule (by its text, which survives renumbering)."""
    tool = "ip6tables" if m.table.startswith("ip6 ") else "iptables"
    if m.table.endswith("(legacy)"):
        tool += "-legacy"
    spec = m.rule.text[3:] if m.rule.text.startswith("-A ") else m.rule.text
    return f"{tool} -t filter -D {spec}"


def check_forward_drop(ctx: Context) -> Check:
    from inspector.rules import blocking_rules_for_address

    unknown = _rules_unknown(ctx, "forward-drop")
    if unknown is not None:
        return unknown
    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    evidence: list[tuple[str, str]] = []
    filt = next(
        (
            t
            for t in rulesets.tables
            if t.family == "ip" and t.name == "filter" and t.source != "nft"
        ),
        None,
    )
    forward = filt.chain("FORWARD") if filt else None
    if forward is not None:
        evidence.append(("FORWARD policy", forward.policy or "-"))
    hits: dict[tuple[str, str, int], RuleMatch] = {}
    for link in ctx.bridged:
        addresses = list(dict.fromkeys(_bare(a) for a in link.iface.addresses))
        evidence.append((f"{link.iface.name} addresses looked for", ", ".join(addresses)))
        for ip in addresses:
            for m in blocking_rules_for_address(rulesets, ip):
                hits.setdefault((m.table, m.chain, m.rule.position), m)
    for m in _interface_drops(ctx):
        hits.setdefault((m.table, m.chain, m.rule.position), m)
    unaccepted = _unaccepted_bridges(ctx, evidence)
    accept_fixes = [f"iptables -t filter -I FORWARD -i {b} ! -o {b} -j ACCEPT" for b in unaccepted]
    if not hits and not unaccepted:
        summary = "no DROP or REJECT in FORWARD or DOCKER-USER hits it"
        return _check("forward-drop", "pass", summary, evidence)
    if not hits:
        bridges = " and ".join(unaccepted)
        return _check(
            "forward-drop",
            "fail",
            f"FORWARD's policy is DROP and no rule accepts new connections from {bridges}",
            evidence,
            _join_fixes(accept_fixes),
        )
    ordered = [hits[k] for k in sorted(hits)]
    for m in ordered:
        evidence.append(
            (f"{m.chain} rule {m.rule.position}", f"{m.rule.text}  [{m.table}; {m.reason}]")
        )
    chains = " and ".join(dict.fromkeys(m.chain for m in ordered))
    rules = "a rule" if len(ordered) == 1 else f"{len(ordered)} rules"
    verb = "drops" if len(ordered) == 1 else "drop"
    return _check(
        "forward-drop",
        "fail",
        f"{rules} in {chains} {verb} its traffic: {ordered[0].rule.text}",
        evidence,
        _join_fixes([_delete_command(m) for m in ordered] + accept_fixes),
    )


def _unaccepted_bridges(ctx: Context, evidence: list[tuple[str, str]]) -> list[str]:
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
    unaccepted: list[str] = []
    for table in rulesets.tables:
        if (table.family, table.name) != ("ip", "filter") or table.source == "nft":
            continue
        forward = table.chain("FORWARD")
        if forward is None or forward.policy != "DROP":
            continue
        for link in ctx.bridged:
            bridge = link.bridge or link.expected
            v4 = _v4(link.iface.addresses)
            if bridge is None or v4 is None or _internal(ctx, link):
                continue
            packet = NewConnection(bridge.name, v4.ip, out_interface=uplink.name)
            accept = first_accept(table, "FORWARD", packet)
            key = f"new connections from {bridge.name} to {uplink.name} [{table.label}]"
            if accept is not None:
                evidence.append((key, f"may be accepted by {accept.text}"))
            else:
                evidence.append((key, "no rule accepts them; the policy drops them"))
                if bridge.name not in unaccepted:
                    unaccepted.append(bridge.name)
    return unaccepted


def _interface_drops(ctx: Context) -> list[RuleMatch]:
    """DROP/REJECT in filter FORWARD or DOCKER-USER that name its veth or bridge (-i/-o)."""
    from inspector.rules import UnknownItem, rules_for

    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    try:
        report = rules_for(ctx.snapshot, rulesets, ctx.owner.name)
    except (UnknownItem, ValueError):
        return []
    return [
        m
        for m in report.blocking
        if m.chain in ("FORWARD", "DOCKER-USER") and " filter" in m.table and "(nft)" not in m.table
    ]


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
    if not checked:
        return _check("mtu", "skip", "no host end to compare with", evidence)
    if problems:
        return _check(
            "mtu",
            "warn",
            "; ".join(problems) + ": larger packets are dropped on the way",
            evidence,
            _join_fixes(fixes),
        )
    mtus = sorted({str(link.iface.mtu) for link in ctx.links})
    return _check("mtu", "pass", f"MTU {', '.join(mtus)} all along", evidence)


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
    ("gateway", check_gateway),
    ("ip-forward", check_ip_forward),
    ("forward-drop", check_forward_drop),
    ("masquerade", check_masquerade),
    ("mtu", check_mtu),
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
