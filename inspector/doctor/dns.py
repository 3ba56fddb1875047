"""Step 11 of the path: the resolvers the container uses and whether it can reach them."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from inspector.doctor.context import Context, new_check, sh
from inspector.doctor.model import (
    Check,
    DnsFacts,
    unchecked,
)
from inspector.model.queries import default_route
from inspector.model.snapshot import (
    Route,
)

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
        why = ctx.facts.missing or f"cnet knows no process of {ctx.owner.name} to read it through"
        return new_check("dns", "skip", unchecked("its resolv.conf was not read", why))
    if dns.resolv_conf is None:
        why = dns.problem or ctx.facts.missing or "unknown"
        return new_check("dns", "skip", unchecked("its resolv.conf was not read", why))
    servers = nameservers(dns.resolv_conf)
    evidence: list[tuple[str, str]] = [("resolv.conf nameservers", ", ".join(servers) or "(none)")]
    user_defined = [n.name for n in ctx.owner.networks if n.name not in _DEFAULT_NETWORKS and n.ip]
    if not servers:
        return new_check("dns", "fail", "resolv.conf names no nameserver", evidence)
    if user_defined and EMBEDDED_DNS in servers:
        rules = _embedded_dns_rules(dns)
        for r in rules[:4]:
            evidence.append(("DNAT inside its namespace", r))
        if dns.rulesets is None:
            evidence.append(("rules inside its namespace", dns.rules_problem or "not read"))
            return new_check(
                "dns",
                "skip",
                unchecked(
                    f"the rules inside the namespace (the DNAT to Docker's embedded resolver "
                    f"{EMBEDDED_DNS}) were not read",
                    dns.rules_problem or ctx.facts.missing or "unknown",
                ),
                evidence,
            )
        if not rules:
            return new_check(
                "dns",
                "fail",
                f"resolv.conf uses Docker's embedded resolver {EMBEDDED_DNS} but no DNAT rule "
                "inside the namespace leads to it: name lookups time out",
                evidence,
                sh("docker", "restart", ctx.owner.name),
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
                return new_check(
                    "dns",
                    "fail",
                    f"the DNAT to Docker's resolver is there but nothing listens on "
                    f"{EMBEDDED_DNS} inside the namespace (dockerd's resolver is gone)",
                    evidence,
                    sh("docker", "restart", ctx.owner.name),
                )
        return new_check(
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
        return new_check("dns", "fail", "; ".join(problems), evidence)
    if problems:
        return new_check("dns", "warn", "; ".join(problems), evidence)
    return new_check(
        "dns", "pass", f"nameservers {', '.join(reachable)} reachable by a route", evidence
    )
