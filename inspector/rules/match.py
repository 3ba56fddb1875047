"""Which rules concern an item, and why: pure functions over a ``Snapshot`` and ``Rulesets``.

An item is a container, a bridge, a host interface or a Docker network.  It is first
resolved to what rules can name (``ItemSpec``): addresses, subnets, interface names.

A rule concerns the item *directly* when it names one of them: ``-s``/``-d`` (CIDR
containment both ways for subnets), ``-i``/``-o`` (and ``--physdev-in/out``, ``+``
wildcards, and ``! -o NAME`` since Docker's MASQUERADE says "leaving by any interface
but this bridge"), a DNAT/SNAT ``--to-destination``/``--to-source`` address, or a
verdict map's key.  For a container its veths and its bridges count as its interfaces.
nft rules read from JSON carry the same names, so they match the same way.

Context (``direct=False``): the rules of an engine's chain (``DOCKER*``, ``NETAVARK*``,
``CNI-*``, ``KUBE-*``, or any chain of a native nft table) that a shown rule jumps to (for
a verdict map, only the elements of the item's interfaces), except those that name other
addresses; and the rules without address or interface conditions that jump into a shown
engine chain (``FORWARD -j DOCKER-USER``, ``FORWARD -j NETAVARK_FORWARD``,
``PREROUTING -m addrtype --dst-type LOCAL -j DOCKER``).  nft's text (no JSON) gets direct
matches only.  The engine's own DROPs carry ``design`` and are never ``blocking``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Protocol

from inspector.model.paths import loopback_only
from inspector.model.snapshot import Container, Snapshot
from inspector.rules.design import engine_design
from inspector.rules.explain import explain
from inspector.rules.model import (
    BLOCKING_TARGETS,
    Chain,
    ChainReport,
    Rule,
    RuleMatch,
    Rulesets,
    RulesReport,
    Table,
    TableReport,
    UnknownItem,
    interface_matches,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NetworkRef:
    """A Docker network as the engine describes it (for networks no snapshot container shows)."""

    name: str
    bridge: str | None
    subnets: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemSpec:
    """What rules can say about an item."""

    item: str
    kind: str
    description: str
    addresses: tuple[IPAddress, ...] = ()
    subnets: tuple[IPNetwork, ...] = ()
    interfaces: tuple[tuple[str, str], ...] = ()  # (name, role in a few words)
    # Interfaces the item shares with others (a container's bridges): a rule that names
    # them but also names other addresses is about someone else.
    shared: frozenset[str] = frozenset()
    notes: tuple[str, ...] = field(default=(), compare=False)


# User chains an engine owns: a shown rule's jump into one is followed (its rules shown as
# context).  In a native nft table every chain belongs to the table's owner.
ENGINE_CHAIN_PREFIXES = ("DOCKER", "NETAVARK", "CNI-", "KUBE-")


def is_engine_chain(name: str) -> bool:
    return name.startswith(ENGINE_CHAIN_PREFIXES)


def _followable(table: Table, name: str) -> bool:
    return table.source == "nft" or is_engine_chain(name)


# --- resolving an item ------------------------------------------------------------------


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("/", 1)[0])
    except ValueError:
        return None


def _interface_net(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_interface(text).network
    except ValueError:
        return None


def _usable(addr: IPAddress) -> bool:
    return not (addr.is_link_local or addr.is_loopback)


def _uniq(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _bridge_for_gateway(snapshot: Snapshot, gateway: str | None) -> str | None:
    if not gateway:
        return None
    for b in snapshot.bridges:
        if any(a.split("/", 1)[0] == gateway for a in b.addresses):
            return b.name
    return None


def _bridge_subnets(snapshot: Snapshot, bridge: str | None) -> tuple[IPNetwork, ...]:
    b = snapshot.bridge(bridge) if bridge else None
    if b is None:
        return ()
    nets = [_interface_net(a) for a in b.addresses]
    return tuple(dict.fromkeys(n for n in nets if n is not None and _usable(n.network_address)))


def _container_spec(snapshot: Snapshot, c: Container) -> ItemSpec:
    notes: list[str] = []
    owner = c
    if c.netns_shared_with and c.netns_shared_with != "host":
        notes.append(f"shares the network namespace of container {c.netns_shared_with}")
        owner = snapshot.namespace_owner(c)
    addrs: list[IPAddress] = []
    for n in (*c.networks, *owner.networks):
        a = _address(n.ip) if n.ip else None
        if a is not None:
            addrs.append(a)
    interfaces: list[tuple[str, str]] = []
    for iface in c.interfaces or owner.interfaces:
        for text in iface.addresses:
            a = _address(text)
            if a is not None and _usable(a):
                addrs.append(a)
        if iface.peer is not None and iface.peer.workload is not None:
            notes.append(
                f"{iface.name} is a veth to {iface.peer.name} in {iface.peer.workload}: its "
                "traffic there does not cross the host"
            )
        elif iface.peer is not None:
            interfaces.append((iface.peer.name, f"its veth, {iface.name} inside"))
            if iface.peer.bridge:
                interfaces.append((iface.peer.bridge, "its bridge"))
        if iface.parent is not None:
            notes.append(
                f"{iface.name} is a macvlan on {iface.parent.name}: its traffic leaves by "
                "the parent without crossing a host bridge, so host rules see it rarely"
            )
    known = {name for name, _ in interfaces}
    for n in () if c.interfaces or owner.interfaces else owner.networks:
        # not root: no interfaces were read, but the engine gives the gateway; once they
        # are read, the bridge its veth is on is the truth (or none)
        bridge = _bridge_for_gateway(snapshot, n.gateway)
        if bridge and bridge not in known:
            interfaces.append((bridge, "its bridge"))
            known.add(bridge)
    if c.netns_shared_with == "host" or c.network_mode == "host":
        notes.append(
            "host network mode: it uses the host's own interfaces; see `cnet rules <interface>`"
        )
    elif loopback_only(c):
        notes.append("it has only loopback, which no host rule sees")
    if not c.running:
        notes.append(f"the container is {c.state}: it has no addresses now")
    addresses = tuple(dict.fromkeys(addrs))
    parts = [", ".join(str(a) for a in addresses) or "no address"]
    veths = [n for n, role in interfaces if role.startswith("its veth")]
    bridges = [n for n, role in interfaces if role == "its bridge"]
    if veths:
        parts.append(f"veth {', '.join(veths)}")
    if bridges:
        parts.append(f"on {', '.join(bridges)}")
    elif veths:
        parts.append("on no bridge")
    return ItemSpec(
        item=c.name,
        kind="container",
        description=f"container {c.name} ({'; '.join(parts)})",
        addresses=addresses,
        interfaces=tuple(dict.fromkeys(interfaces)),
        shared=frozenset(bridges),
        notes=tuple(notes),
    )


def resolve_item(snapshot: Snapshot, item: str, networks: Sequence[NetworkRef] = ()) -> ItemSpec:
    """A container, bridge, host interface or network name (in that order) as an ``ItemSpec``."""
    c = snapshot.container(item)
    if c is not None:
        return _container_spec(snapshot, c)
    b = snapshot.bridge(item)
    if b is not None:
        ports = tuple(
            (p.name, f"port of {b.name}" + (f", veth of {p.container}" if p.container else ""))
            for p in b.ports
        )
        own = tuple(a for a in (_address(x) for x in b.addresses) if a is not None and _usable(a))
        subnets = _bridge_subnets(snapshot, b.name)
        return ItemSpec(
            item=b.name,
            kind="bridge",
            description=f"bridge {b.name} ({', '.join(str(s) for s in subnets) or 'no subnet'})",
            addresses=own,
            subnets=subnets,
            interfaces=((b.name, "the bridge"), *ports),
        )
    i = snapshot.host_interface(item)
    if i is not None:
        notes = []
        if i.container:
            notes.append(
                f"the host end of container {i.container}'s {i.container_interface}; "
                f"`cnet rules {i.container}` shows the rules of its addresses"
            )
        if i.master:
            notes.append(
                f"a port of bridge {i.master}; `cnet rules {i.master}` shows the bridge's rules"
            )
        own = tuple(a for a in (_address(x) for x in i.addresses) if a is not None and _usable(a))
        return ItemSpec(
            item=i.name,
            kind="interface",
            description=f"interface {i.name}" + (f" ({', '.join(map(str, own))})" if own else ""),
            addresses=own,
            interfaces=((i.name, "the interface"),),
            notes=tuple(notes),
        )
    ref = next((n for n in networks if n.name == item), None)
    bridge: str | None = None
    nets: tuple[IPNetwork, ...] = ()
    if ref is not None:
        bridge = ref.bridge
        nets = tuple(n for n in (_net(s) for s in ref.subnets) if n is not None)
    else:
        attachments = [n for c in snapshot.containers for n in c.networks if n.name == item]
        if not attachments:
            raise UnknownItem(f"no container, bridge, interface or network named {item!r}")
        bridge = next(
            (b for b in (_bridge_for_gateway(snapshot, n.gateway) for n in attachments) if b), None
        )
    if bridge and not nets:
        nets = _bridge_subnets(snapshot, bridge)
    net_notes = (
        () if bridge else (f"network {item} has no bridge in the host (macvlan, host or none)",)
    )
    shown = ", ".join(map(str, nets)) or "no subnet"
    return ItemSpec(
        item=item,
        kind="network",
        description=f"network {item} (bridge {bridge or 'none'}; {shown})",
        subnets=nets,
        interfaces=((bridge, f"bridge of network {item}"),) if bridge else (),
        notes=net_notes,
    )


# --- matching one rule ------------------------------------------------------------------


def _net(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _address_reason(opt: str, net: IPNetwork, spec: ItemSpec) -> str | None:
    if net.prefixlen == 0:
        return None
    same = [a for a in spec.addresses if a.version == net.version]
    for a in same:
        if net.num_addresses == 1 and a in net:
            return f"{opt} {a}: its address"
    for s in spec.subnets:
        if s.version != net.version:
            continue
        if s == net:
            return f"{opt} {net}: its subnet"
        if net.subnet_of(s):  # type: ignore[arg-type]
            return f"{opt} {net} is inside its subnet {s}"
        if s.subnet_of(net):  # type: ignore[arg-type]
            return f"{opt} {net} contains its subnet {s}"
    for a in same:
        if a in net:
            return f"{opt} {net} contains its address {a}"
    return None


def _interface_role(pattern: str, spec: ItemSpec) -> tuple[str, str] | None:
    for name, role in spec.interfaces:
        if interface_matches(pattern, name):
            return name, role
    return None


def _split_nat_address(text: str) -> tuple[str, str | None]:
    """``172.17.0.2:80`` -> (``172.17.0.2``, ``80``); ``[fd00::2]:80``; ranges keep their first address."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    return host.split("-", 1)[0], port


def _dnat_reason(rule: Rule, to: str, spec: ItemSpec) -> str | None:
    host, _port = _split_nat_address(to)
    addr = _address(host)
    if addr is None:
        return None
    if addr in spec.addresses:
        where = ""
    else:
        inside = [s for s in spec.subnets if s.version == addr.version and addr in s]
        if not inside:
            return None
        where = f" (on its subnet {inside[0]})"
    dest = rule.selector("-d")
    published = (
        dest.value.removesuffix("/32").removesuffix("/128") if dest and not dest.negated else "*"
    )
    dports = rule.options("--dport") or rule.options("--dports")
    proto = rule.selector("-p")
    suffix = f"/{proto.value}" if proto and not proto.negated else ""
    if dports:
        return f"DNAT {published}:{dports[0].value} -> {to}{suffix}{where}"
    return f"DNAT {published} -> {to}{suffix}{where}"


def iptables_reasons(rule: Rule, spec: ItemSpec) -> list[str]:
    """Why an iptables rule names the item (empty: it does not)."""
    reasons: list[str] = []
    target = rule.target
    out = rule.selector("-o")
    masquerade = bool(target and target.name == "MASQUERADE" and out and out.negated)
    for opt in ("-s", "-d"):
        o = rule.selector(opt)
        values = o.values if o is not None and not o.negated else ()
        r = None
        for value in values:  # several only in an nft set: any of them
            net = _net(value)
            r = _address_reason(opt, net, spec) if net is not None else None
            if r is not None:
                break
        if r is None:
            continue
        if opt == "-s" and masquerade and out:
            r += f": MASQUERADE unless leaving by {out.value}"
        reasons.append(r)
    nat: list[str] = []
    if target is not None:
        for opt_name in ("--to-destination", "--to-source", "--to"):
            to = target.option(opt_name)
            if to is None:
                continue
            r = _dnat_reason(rule, to.value, spec) if target.name == "DNAT" else None
            if r is None and target.name in ("SNAT", "DNAT"):
                host, _ = _split_nat_address(to.value)
                addr = _address(host)
                if addr is not None and addr in spec.addresses:
                    r = f"{target.name} to its address {to.value}"
            if r:
                nat.append(r)
    names_others = _names_addresses(rule) and not reasons and not nat
    interfaces: list[str] = []
    by_name: dict[str, tuple[list[str], str]] = {}
    for o in (
        *(x for x in (rule.selector("-i"), rule.selector("-o")) if x),
        *rule.options("--physdev-in"),
        *rule.options("--physdev-out"),
    ):
        hit = next(
            (h for h in (_interface_role(v, spec) for v in (o.values or (o.value,))) if h), None
        )
        if hit is None or (masquerade and o is out and reasons):
            continue
        name, role = hit
        if name in spec.shared and names_others:
            continue
        text = str(o) if o.value == name else f"{o} (matches {name})"
        by_name.setdefault(name, ([], role))[0].append(text)
    for texts, role in by_name.values():
        interfaces.append(f"{' '.join(texts)} ({role})")
    return nat + reasons + interfaces


_NFT_IFACE = re.compile(
    r'\b(?P<key>iifname|oifname|iif|oif|ibrname|obrname)\s+(?P<neg>!=\s+)?(?P<val>"[^"]*"|\{[^}]*\})'
)
_NFT_ADDR = re.compile(
    r"\b(?P<key>saddr|daddr|to)\s+(?P<neg>!=\s+)?(?P<val>\{[^}]*\}|[0-9A-Fa-f:.\[\]/-]+)"
)


def nft_reasons(rule: Rule, spec: ItemSpec) -> list[str]:
    """Why a native nft rule names the item: interface names and addresses in its text."""
    reasons: list[str] = []
    for m in _NFT_IFACE.finditer(rule.text):
        if m["neg"]:
            continue
        for name in re.findall(r'"([^"]*)"', m["val"]):
            for iface, role in spec.interfaces:
                if fnmatchcase(iface, name):
                    reasons.append(f'{m["key"]} "{name}" ({role})')
    for m in _NFT_ADDR.finditer(rule.text):
        if m["neg"]:
            continue
        for value in m["val"].strip("{}").split(","):
            value = value.strip()
            if m["key"] == "to":
                value = _split_nat_address(value)[0]
            net = _net(value)
            r = _address_reason(m["key"], net, spec) if net is not None else None
            if r:
                reasons.append(r)
    return reasons


def _selective(rule: Rule) -> bool:
    """The rule has a positive address or interface condition (it is about something)."""
    if not rule.understood:
        return True
    for name in ("-s", "-d", "-i", "-o"):
        o = rule.selector(name)
        if o is not None and not o.negated:
            return True
    t = rule.target
    return bool(t and (t.option("--to-destination") or t.option("--to-source")))


def _names_addresses(rule: Rule) -> bool:
    for name in ("-s", "-d"):
        o = rule.selector(name)
        if o is not None and not o.negated:
            return True
    t = rule.target
    return bool(t and (t.option("--to-destination") or t.option("--to-source")))


def _blocking(rule: Rule, direct: bool) -> bool:
    if rule.verdict not in BLOCKING_TARGETS:
        return False
    return direct or not _selective(rule)


# --- the report -------------------------------------------------------------------------


def direct_reasons(rule: Rule, spec: ItemSpec) -> list[str]:
    """Every reason a rule names the item itself (empty: it does not)."""
    reasons = iptables_reasons(rule, spec) if rule.understood else nft_reasons(rule, spec)
    return reasons + [f"{why} (verdict map)" for why, _ in _vmap_hits(rule, spec)]


Direct = Iterable[tuple[Chain, Rule, Sequence[str]]]


@dataclass(frozen=True)
class Paths:
    """A table's rules that a path to a shown rule may add, read once per table: each
    chain's rules that name no address, and the rules without conditions that jump into
    a followable chain (chain, rule, destination), in ruleset order."""

    quiet: dict[str, tuple[Rule, ...]]
    jumps: tuple[tuple[Chain, Rule, str], ...]
    said: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)

    def words(self, table: Table, chain: str, rule: Rule) -> tuple[str, str]:
        """The engine's design of a rule (empty: not its own) and the rule in words."""
        key = (chain, rule.position)
        found = self.said.get(key)
        if found is None:
            found = self.said[key] = (engine_design(table, chain, rule), explain(rule))
        return found


def paths_of(table: Table) -> Paths:
    names = {c.name for c in table.chains}
    quiet = {
        c.name: tuple(r for r in c.rules if r.understood and not _names_addresses(r))
        for c in table.chains
    }
    jumps = tuple(
        (c, r, r.target.name)
        for c in table.chains
        for r in c.rules
        if r.target is not None
        and r.target.name in names
        and _followable(table, r.target.name)
        and not _selective(r)
    )
    return Paths(quiet, jumps)


def _table_matches(
    table: Table, spec: ItemSpec, direct: Direct | None = None, paths: Paths | None = None
) -> dict[tuple[str, int], RuleMatch]:
    """``direct``: the rules that name the item and why, in ruleset order (an index's
    answer); every rule is read when it is None.  ``paths``: ``paths_of(table)``."""
    chains = {c.name: c for c in table.chains}
    found: dict[tuple[str, int], RuleMatch] = {}
    words = paths.words if paths else lambda t, c, r: (engine_design(t, c, r), explain(r))

    def add(chain: Chain, rule: Rule, reason: str, direct: bool) -> bool:
        key = (chain.name, rule.position)
        if key in found:
            return False
        why, text = words(table, chain.name, rule)
        found[key] = RuleMatch(
            table.label,
            chain.name,
            rule,
            reason,
            not why and _blocking(rule, direct),
            direct,
            why,
            text,
        )
        return True

    if direct is None:
        direct = ((c, r, direct_reasons(r, spec)) for c in table.chains for r in c.rules)
    for chain, rule, reasons in direct:
        if reasons:
            add(chain, rule, "; ".join(dict.fromkeys(reasons)), True)
    if not found:
        return found
    paths = paths or paths_of(table)
    expanded: set[str] = set()
    changed = True
    while changed:
        changed = False
        shown = {chain for chain, _ in found}
        # Engine chains a shown rule jumps to: their rules that name nothing else.
        for m in list(found.values()):
            for dest in _destinations(m.rule, spec):
                if not _followable(table, dest) or dest in expanded or dest not in chains:
                    continue
                expanded.add(dest)
                changed = True
                # nft text (no JSON) cannot say what a rule names: only direct matches.
                for rule in paths.quiet[dest]:
                    add(chains[dest], rule, f"path: in {dest}, reached from {m.chain}", False)
                if not any(c == dest for c, _ in found):
                    # An empty chain still shows, with its policy (none): make it visible.
                    found[(dest, 0)] = RuleMatch(
                        table.label, dest, Rule(dest, 0, ""), "", False, False
                    )
        # Rules without address or interface conditions that jump into a shown chain,
        # from a shown chain or a built-in one (how packets get there).
        for chain, rule, dest in paths.jumps:
            if chain.name not in shown and not chain.builtin:
                continue
            if dest in shown or chain.name in shown:
                changed |= add(chain, rule, f"path: jumps to {dest}", False)
    return found


def _vmap_hits(rule: Rule, spec: ItemSpec) -> list[tuple[str, str]]:
    """A verdict map's elements keyed by one of the item's interfaces: (why, chain)."""
    if not rule.jumps or rule.target is None:
        return []
    key = rule.target.option("key")
    word = key.value if key else "key"
    hits: list[tuple[str, str]] = []
    for element, chain in rule.jumps:
        for name, role in spec.interfaces:
            if interface_matches(element, name) or fnmatchcase(name, element):
                hits.append((f'{word} "{element}" -> {chain} ({role})', chain))
                break
    return hits


def _destinations(rule: Rule, spec: ItemSpec) -> list[str]:
    """Where a shown rule sends the item's packets: its jump, or its verdict map's
    elements for the item's interfaces (not every bridge's)."""
    if rule.jumps:
        return [chain for _, chain in _vmap_hits(rule, spec)]
    return [rule.target.name] if rule.target else []


def rules_for(
    snapshot: Snapshot, rulesets: Rulesets, item: str, networks: Sequence[NetworkRef] = ()
) -> RulesReport:
    """The rules that concern ``item``, grouped by table and chain, with chain policies.

    Raises ``UnknownItem`` when nothing in the snapshot (or ``networks``) has that name.
    """
    return report_for_spec(resolve_item(snapshot, item, networks), rulesets)


class Index(Protocol):
    """The rules of a table that name an item, as a full scan finds them, and its paths."""

    def __call__(self, table: Table, spec: ItemSpec) -> Direct: ...

    def paths(self, table: Table) -> Paths: ...


def report_for_spec(spec: ItemSpec, rulesets: Rulesets, index: Index | None = None) -> RulesReport:
    tables: list[TableReport] = []
    for table in rulesets.tables:
        if index is None:
            found = _table_matches(table, spec)
        else:
            found = _table_matches(table, spec, index(table, spec), index.paths(table))
        if not found:
            continue
        chains: list[ChainReport] = []
        for chain in table.chains:
            ms = sorted(
                (m for (c, _), m in found.items() if c == chain.name), key=lambda m: m.rule.position
            )
            if not ms:
                continue
            real = tuple(m for m in ms if m.rule.position > 0)
            chains.append(
                ChainReport(
                    chain.name, chain.policy, chain.counters, real, chain.hook, len(chain.rules)
                )
            )
        tables.append(TableReport(table.label, table.family, table.source, tuple(chains)))
    return RulesReport(
        item=spec.item,
        kind=spec.kind,
        description=spec.description,
        tables=tuple(tables),
        notes=spec.notes,
        warnings=rulesets.warnings,
    )


# --- for the doctor ---------------------------------------------------------------------


def _family_tables(rulesets: Rulesets, name: str | None, version: int) -> Iterable[Table]:
    """iptables tables called ``name`` of the address family, and the native nft tables
    whose rules cnet understands (``inet`` serves both families)."""
    family = "ip" if version == 4 else "ip6"
    for t in rulesets.tables:
        if t.source != "nft":
            if t.family == family and (name is None or t.name == name):
                yield t
        elif t.family in (family, "inet") and any(r.structured for c in t.chains for r in c.rules):
            yield t


def _forward_chains(table: Table) -> list[Chain]:
    if table.source != "nft":
        return [c for c in (table.chain("FORWARD"), table.chain("DOCKER-USER")) if c]
    return [c for c in table.chains if c.hook and " hook forward " in f"{c.hook} "]


def _never_new(rule: Rule) -> bool:
    """Only packets of no valid new connection (``ct state invalid``, replies)."""
    states = [*rule.options("--ctstate"), *rule.options("--state")]
    return any(("NEW" in o.value.upper().split(",")) == o.negated for o in states)


def blocking_rules_for_address(rulesets: Rulesets, ip: str) -> list[RuleMatch]:
    """DROP/REJECT rules in filter ``FORWARD`` and ``DOCKER-USER`` (and native nft forward
    chains) that would hit ``ip``.

    A rule hits when its ``-s`` or ``-d`` contains the address, or when it has no address
    or interface condition at all (it drops every forwarded packet it sees).  The engine's
    own DROPs (isolation, ICC off) and DROPs of invalid packets are not faults: left out.
    """
    addr = ipaddress.ip_address(ip)
    spec = ItemSpec(item=ip, kind="address", description=ip, addresses=(addr,))
    out: list[RuleMatch] = []
    for table in _family_tables(rulesets, "filter", addr.version):
        for chain in _forward_chains(table):
            for rule in chain.rules:
                if rule.verdict not in BLOCKING_TARGETS or not rule.understood:
                    continue
                if _never_new(rule) or engine_design(table, chain.name, rule):
                    continue
                reasons = list(iptables_reasons(rule, spec))
                text = explain(rule)
                if reasons:
                    out.append(
                        RuleMatch(
                            table.label,
                            chain.name,
                            rule,
                            "; ".join(reasons),
                            True,
                            explanation=text,
                        )
                    )
                elif not _selective(rule):
                    out.append(
                        RuleMatch(
                            table.label,
                            chain.name,
                            rule,
                            "no address condition",
                            True,
                            False,
                            explanation=text,
                        )
                    )
    return out


def _callers(table: Table, chain: str) -> list[Rule]:
    return [
        r
        for c in table.chains
        for r in c.rules
        if (r.target is not None and r.target.name == chain) or any(j == chain for _, j in r.jumps)
    ]


def _masquerade_source(table: Table, rule: Rule, depth: int = 0) -> list[tuple[Rule, Rule]]:
    """``(rule holding the -s, rule holding the -o)`` pairs along the jumps into ``rule``'s
    chain: netavark puts ``-s SUBNET`` on the jump and the MASQUERADE in its own chain."""
    if rule.selector("-s") is not None or depth >= 3:
        return [(rule, rule)]
    found: list[tuple[Rule, Rule]] = []
    for caller in _callers(table, rule.chain):
        for src, _ in _masquerade_source(table, caller, depth + 1):
            found.append((src, rule if rule.selector("-o") is not None else src))
    return found or [(rule, rule)]


def masquerade_rules_for_subnet(rulesets: Rulesets, subnet: str, bridge: str) -> list[RuleMatch]:
    """MASQUERADE rules for packets from ``subnet`` (its ``-s``, or the ``-s`` of the jump
    into its chain, is or contains the subnet) that let packets leave by other interfaces
    than ``bridge`` (``! -o bridge`` or no ``-o``).  iptables' nat tables and native nft
    tables (Docker 29, netavark)."""
    net = ipaddress.ip_network(subnet, strict=False)
    out: list[RuleMatch] = []
    for table in _family_tables(rulesets, None, net.version):
        if table.source != "nft" and table.name != "nat":
            continue
        for chain in table.chains:
            for rule in chain.rules:
                if rule.verdict != "MASQUERADE" or not rule.understood:
                    continue
                for src_rule, out_rule in _masquerade_source(table, rule):
                    src = src_rule.selector("-s")
                    rnet = _net(src.value) if src and not src.negated else None
                    if rnet is None or rnet.version != net.version or not net.subnet_of(rnet):  # type: ignore[arg-type]
                        continue
                    out_if = out_rule.selector("-o")
                    if out_if is not None and not (out_if.negated and out_if.value == bridge):
                        continue
                    but = f" leaving by any interface but {bridge}" if out_if else ""
                    via = "" if src_rule is rule else f" (reached by {src_rule.spec})"
                    out.append(
                        RuleMatch(
                            table.label,
                            chain.name,
                            rule,
                            f"MASQUERADE of {rnet}{but}{via}",
                            explanation=explain(rule),
                        )
                    )
                    break
    return out
