"""Steps 6 to 8 of the path: forwarding, the FORWARD drops and the masquerade, read from the
rulesets in ``DoctorFacts``; a fix never deletes or edits a rule the engine owns.
"""

from __future__ import annotations

import shlex

from inspector.doctor.context import (
    NO_IPV6,
    Context,
    IPNetwork,
    addresses_of,
    first_v4,
    is_internal,
    join_fixes,
    new_check,
    sh,
)
from inspector.doctor.model import (
    Check,
    unchecked,
)
from inspector.rules import (
    Chain,
    RuleMatch,
    Rulesets,
    RulesReport,
    Table,
)
from inspector.rules.walk import NewConnection


def check_ip6_forward(ctx: Context) -> Check:
    if not ctx.ipv6:
        return new_check("ip6-forward", "skip", NO_IPV6)
    if not ctx.bridged:
        return new_check(
            "ip6-forward", "skip", "not on a bridge: its traffic is not forwarded by the host"
        )
    value = ctx.facts.ip6_forward
    key = "net.ipv6.conf.all.forwarding"
    evidence = [(key, value if value is not None else "(unreadable)")]
    if value is None:
        why = ctx.facts.missing or "/proc/sys/net/ipv6/conf/all/forwarding could not be read"
        return new_check("ip6-forward", "skip", unchecked(f"{key} was not read", why), evidence)
    if value.strip() == "1":
        return new_check("ip6-forward", "pass", "the host forwards IPv6", evidence)
    return new_check(
        "ip6-forward",
        "fail",
        f"{key} is {value.strip()}: the host forwards no IPv6, so its IPv6 traffic goes nowhere "
        "past the bridge (IPv4 is not affected)",
        evidence,
        f"sysctl -w {key}=1",
    )


def check_ip_forward(ctx: Context) -> Check:
    if not ctx.bridged:
        return new_check(
            "ip-forward", "skip", "not on a bridge: its traffic is not forwarded by the host"
        )
    internal = [
        link.attachment.name for link in ctx.bridged if link.attachment and is_internal(ctx, link)
    ]
    if len(internal) == len(ctx.bridged):
        return new_check(
            "ip-forward",
            "skip",
            f"only on internal networks ({', '.join(internal)}): nothing to forward",
        )
    value = ctx.facts.ip_forward
    evidence = [("net.ipv4.ip_forward", value if value is not None else "(unreadable)")]
    if value is None:
        why = ctx.facts.missing or "/proc/sys/net/ipv4/ip_forward could not be read"
        return new_check(
            "ip-forward", "skip", unchecked("net.ipv4.ip_forward was not read", why), evidence
        )
    if value.strip() == "1":
        return new_check("ip-forward", "pass", "the host forwards IPv4", evidence)
    bridge = ctx.bridged[0].bridge or ctx.bridged[0].expected
    where = f" out of {bridge.name}" if bridge else ""
    return new_check(
        "ip-forward",
        "fail",
        f"net.ipv4.ip_forward is {value.strip()}: the host forwards nothing{where}",
        evidence,
        "sysctl -w net.ipv4.ip_forward=1",
    )


# --- 7. and 8. the firewall ------------------------------------------------------------------


def _rules_unknown(ctx: Context, check_id: str) -> Check | None:
    if not ctx.bridged:
        return new_check(
            check_id, "skip", "not on a bridge: Docker's FORWARD and NAT rules do not apply"
        )
    if ctx.facts.rulesets is None:
        why = ctx.facts.rules_problem or ctx.facts.missing or "no tool could be run"
        return new_check(
            check_id, "skip", unchecked("the host's firewall rules were not read", why)
        )
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
        try:  # iptables-save's words, quoted again for the shell (its "..." would expand $)
            return sh(_tool(m), "-t", "filter", "-D", *shlex.split(spec))
        except ValueError:
            return sh(_tool(m), "-t", "filter", "-D", "DOCKER-USER", m.rule.position)
    # The same direction as the DROP: its -d (traffic to it) or else its -s (its own).
    direction = "-d" if m.reason.startswith("-d ") else "-s"
    return sh(_tool(m), "-t", "filter", "-I", "DOCKER-USER", direction, address, "-j", "ACCEPT")


def _forward_drop(ctx: Context, check_id: str, version: int) -> Check:
    unknown = _rules_unknown(ctx, check_id)
    if unknown is not None:
        return unknown
    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    family = "ip" if version == 4 else "ip6"
    if version == 6 and not any(t.family in ("ip6", "inet") for t in rulesets.tables):
        return new_check(
            check_id,
            "skip",
            unchecked("the IPv6 rules were not read", "neither ip6tables-save nor nft gave any"),
        )
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
        addresses = [a for a in addresses_of(link.iface.addresses, version)]
        if not addresses:
            continue
        evidence.append((f"{link.iface.name} addresses looked for", ", ".join(addresses)))
        for ip in addresses:
            for m in ctx.shared.blocking(ip):
                hits.setdefault((m.table, m.chain, m.rule.position), (m, ip))
    designed: list[RuleMatch] = []
    for m in _interface_drops(ctx, family):
        first = next(iter(addresses_of(ctx.bridged[0].iface.addresses, version)), "ADDRESS")
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
        return new_check(check_id, "pass", summary, evidence)
    if not hits:
        bridges = " and ".join(unaccepted)
        where = "FORWARD's policy"
        nft = [f"{t.label} {c.name}" for _, t, c in blocked if t.source == "nft"]
        if nft:
            where = f"the policy of {nft[0]}"
        return new_check(
            check_id,
            "fail",
            f"{where} is DROP and no rule accepts new connections from {bridges}",
            evidence,
            join_fixes(accept_fixes),
        )
    ordered = [hits[k] for k in sorted(hits)]
    for m, _ in ordered:
        evidence.append(
            (f"{m.chain} rule {m.rule.position}", f"{m.rule.text}  [{m.table}; {m.reason}]")
        )
    chains = " and ".join(dict.fromkeys(m.chain for m, _ in ordered))
    rules = "a rule" if len(ordered) == 1 else f"{len(ordered)} rules"
    verb = "drops" if len(ordered) == 1 else "drop"
    return new_check(
        check_id,
        "fail",
        f"{rules} in {chains} {verb} its traffic: {ordered[0][0].rule.text}",
        evidence,
        join_fixes([_drop_fix(m, ip) for m, ip in ordered] + accept_fixes),
    )


def check_forward_drop(ctx: Context) -> Check:
    return _forward_drop(ctx, "forward-drop", 4)


def check_forward_drop6(ctx: Context) -> Check:
    if not ctx.ipv6:
        return new_check("forward-drop6", "skip", NO_IPV6)
    return _forward_drop(ctx, "forward-drop6", 6)


ENGINE_TABLES = frozenset({"docker-bridges", "netavark"})


def _accept_fix(bridge: str, table: Table, chain: Chain) -> str:
    """Add (never edit) an ACCEPT ahead of the policy; an engine's own table is the
    engine's to rebuild."""
    if table.source != "nft":
        return (
            sh("iptables", "-t", "filter", "-I", chain.name, "-i", bridge)
            + f" ! -o {sh(bridge)} -j ACCEPT"
        )
    if table.name in ENGINE_TABLES:
        return "restart the engine (it rebuilds its own table)"
    # nft joins its arguments and parses them again: the rule is one quoted word
    rule = (
        f"insert rule {table.family} {table.name} {chain.name} "
        f'iifname "{bridge}" oifname != "{bridge}" accept'
    )
    return sh("nft", rule)


def _unaccepted_bridges(
    ctx: Context, evidence: list[tuple[str, str]]
) -> list[tuple[str, Table, Chain]]:
    """Bridges whose new connections to the uplink no rule may accept under a FORWARD DROP
    policy.

    Docker sets that policy and adds an ACCEPT per bridge; a firewall reload that flushes
    FORWARD removes the ACCEPTs and keeps the policy.  Checked in each iptables filter
    table (nft and legacy backends), since a packet must pass both.
    """
    rulesets = ctx.facts.rulesets
    assert rulesets is not None
    uplink = ctx.uplink
    if uplink is None:
        return []  # no way out of the host to accept (the route checks say so)
    unaccepted: list[tuple[str, Table, Chain]] = []
    for table, forward in _forward_base_chains(rulesets):
        if forward.policy != "DROP":
            continue
        for link in ctx.bridged:
            bridge = link.bridge or link.expected
            v4 = first_v4(link.iface.addresses)
            if bridge is None or v4 is None or is_internal(ctx, link):
                continue
            packet = NewConnection(bridge.name, v4.ip, out_interface=uplink.name)
            accept = ctx.shared.first_accept(table, forward.name, packet)
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
        found = ctx.shared.masquerade(str(link.subnet), bridge.name)
        key = f"{link.subnet} via {bridge.name}"
        if found:
            evidence.append((key, f"{found[0].rule.text}  [{found[0].table}]"))
            masqueraded.append(f"{link.subnet} ({bridge.name})")
        else:
            evidence.append((key, "(no MASQUERADE rule)"))
            missing.append((link.subnet, bridge.name))
    if not masqueraded and not missing:
        why = "; ".join(v for _, v in evidence) or "no subnet with a gateway to check"
        return new_check("masquerade", "skip", why, evidence)
    if missing:
        subnets = ", ".join(str(subnet) for subnet, _ in missing)
        fixes = [
            sh("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", subnet)
            + f" ! -o {sh(bridge)} -j MASQUERADE"
            for subnet, bridge in missing
        ]
        return new_check(
            "masquerade",
            "fail",
            f"no MASQUERADE rule for {subnets}: its packets leave with a private source "
            "address and replies from outside never come back",
            evidence,
            join_fixes(fixes),
        )
    summary = f"masqueraded on the way out: {', '.join(masqueraded)}"
    return new_check("masquerade", "pass", summary, evidence)
