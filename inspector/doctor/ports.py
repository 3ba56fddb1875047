"""Step 10 of the path: published ports, their DNAT rules and a listener behind them."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.doctor.context import Context, addresses_of, new_check, worst_of
from inspector.doctor.model import (
    Check,
    Listener,
    Status,
    unchecked,
)
from inspector.rules import (
    RuleMatch,
    explain,
)

_ANY = frozenset({"0.0.0.0", "::"})


def _dnat_rules(ctx: Context, ips: Sequence[str], port: int, host_port: int) -> list[RuleMatch]:
    """DNAT rules that send ``host_port`` to one of its addresses at ``port``."""
    by_destination = ctx.shared.dnats()
    wanted = {f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}" for ip in ips}
    found: list[tuple[int, RuleMatch]] = []
    for destination in wanted:
        for n, table, chain, rule in by_destination.get(destination, ()):
            dports = [o for o in (*rule.options("--dport"), *rule.options("--dports"))]
            if dports and not any(str(host_port) in o.values for o in dports):
                continue
            found.append((n, RuleMatch(table.label, chain, rule, "", explanation=explain(rule))))
    return [m for _, m in sorted(found, key=lambda f: f[0])]


def _listening(listeners: Sequence[Listener], protocol: str, port: int) -> list[Listener]:
    return [x for x in listeners if x.protocol == protocol and x.port == port]


def check_ports(ctx: Context) -> Check:
    ports = [p for p in (ctx.container.ports or ctx.owner.ports) if p.host_port is not None]
    if not ports:
        return new_check("ports", "skip", "no published port")
    ips = [a for link in ctx.links for v in (4, 6) for a in addresses_of(link.iface.addresses, v)]
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
    status = worst_of(statuses)
    if status == "skip":
        why = ctx.facts.missing or f"/proc/{ctx.owner.pid}/net could not be read"
        return new_check(
            "ports",
            "skip",
            unchecked("the sockets listening inside the namespace were not read", why),
            evidence,
        )
    if problems:
        return new_check("ports", status, "; ".join(problems), evidence)
    return new_check("ports", "pass", "published and listening: " + "; ".join(good), evidence)
