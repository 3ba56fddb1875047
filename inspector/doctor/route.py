"""Steps 4 and 5 of the path: the default route (IPv4 and IPv6) and whether the gateway
answers a ping.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from inspector.doctor.context import (
    NO_IPV6,
    Context,
    addresses_of,
    main_default_route,
    new_check,
    sh,
)
from inspector.doctor.drops import DropContext, gateway_words
from inspector.doctor.model import (
    NOT_PINGED,
    Check,
    GatewayPing,
    unchecked,
)
from inspector.model.queries import default_route
from inspector.model.snapshot import (
    Route,
)


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
    default = main_default_route(routes)
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
            return new_check(
                "route",
                "skip",
                "no network with a gateway (internal): no default route by design",
                evidence,
            )
        return new_check(
            "route",
            "fail",
            f"no default route; Docker's gateway is {gateways[0]}",
            evidence,
            ctx.ns + sh("ip", "route", "add", "default", "via", gateways[0]),
        )
    assert default.gateway is not None
    if gateways and default.gateway not in gateways:
        return new_check(
            "route",
            "fail",
            f"the default route goes via {default.gateway}, not Docker's gateway {gateways[0]}",
            evidence,
            ctx.ns + sh("ip", "route", "replace", "default", "via", gateways[0]),
        )
    link_route = _on_link(routes, default.gateway, default.dev)
    evidence.append(
        (
            "route to the gateway",
            f"{link_route.dst} dev {link_route.dev}" if link_route else "(none)",
        )
    )
    if link_route is None:
        return new_check(
            "route",
            "fail",
            f"gateway {default.gateway} is not on any link of the namespace",
            evidence,
            ctx.ns + sh("ip", "route", "add", default.gateway, "dev", default.dev or "eth0"),
        )
    return new_check("route", "pass", f"default via {default.gateway} dev {default.dev}", evidence)


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
    if not ctx.ipv6:
        return new_check("route6", "skip", NO_IPV6)
    default = default_route(tuple(ctx.owner.routes), 6)
    gateways = _bridge_gateways6(ctx)
    evidence = [
        (
            "IPv6 addresses",
            ", ".join(a for link in ctx.links for a in addresses_of(link.iface.addresses, 6)),
        ),
        ("IPv6 gateways on its bridges", ", ".join(gateways) or "(none)"),
        ("IPv6 default route", f"via {default.gateway} dev {default.dev}" if default else "(none)"),
    ]
    if default is None:
        fix = (
            ctx.ns + sh("ip", "-6", "route", "add", "default", "via", gateways[0])
            if gateways
            else None
        )
        where = f"; its bridge holds {gateways[0]}" if gateways else ""
        return new_check(
            "route6",
            "fail",
            f"no IPv6 default route: its IPv6 traffic has no way out{where}",
            evidence,
            fix,
        )
    assert default.gateway is not None
    gw = ipaddress.ip_address(default.gateway)
    if gateways and not gw.is_link_local and default.gateway not in gateways:
        return new_check(
            "route6",
            "fail",
            f"the IPv6 default route goes via {default.gateway}, not its bridge's {gateways[0]}",
            evidence,
            ctx.ns + sh("ip", "-6", "route", "replace", "default", "via", gateways[0]),
        )
    return new_check(
        "route6", "pass", f"IPv6 default via {default.gateway} dev {default.dev}", evidence
    )


# --- 5. the gateway answers ------------------------------------------------------------------


def _why_unpinged(ctx: Context) -> str:
    """Why a run that pinged left this namespace out."""
    if ctx.facts.missing:
        return ctx.facts.missing
    if ctx.owner.pid is None:
        return f"cnet knows no process of {ctx.owner.name} to enter its namespace by"
    if not ctx.bridged and not any(link.parent for link in ctx.links):
        return "its namespace has no link to a gateway"
    return "the run was stopped before its ping"


def _gateway_check(check_id: str, ctx: Context, ping: GatewayPing | None) -> Check:
    if ping is None:
        if not ctx.facts.pinged:
            return new_check(check_id, "skip", NOT_PINGED)
        why = _why_unpinged(ctx)
        return new_check(check_id, "skip", unchecked("the gateway was not pinged", why))
    if ping.skipped:
        return new_check(check_id, "skip", f"nothing to ping: {ping.skipped}")
    evidence: list[tuple[str, str]] = [
        ("pinged", f"{ping.target} from inside {ctx.owner.name}'s namespace"),
        ("replies", f"{ping.received}/{ping.transmitted} within {ping.timeout_s:g} s"),
    ]
    if ping.error:
        evidence.append(("error", ping.error))
        return new_check(check_id, "fail", f"cannot ping {ping.target}: {ping.error}", evidence)
    if ping.received:
        rtt = f" in {ping.rtt_ms:.3f} ms" if ping.rtt_ms is not None else ""
        evidence.append(
            ("fastest reply", f"{ping.rtt_ms:.3f} ms" if ping.rtt_ms is not None else "?")
        )
        return new_check(check_id, "pass", f"{ping.target} answered{rtt}", evidence)
    summary = f"{ping.target} did not answer {ping.transmitted} pings from inside"
    bridge = next((link.bridge.name for link in ctx.bridged if link.bridge), None)
    if ping.drops:
        return _dropped(check_id, ctx, ping, bridge, summary, evidence)
    if ctx.facts.drops_problem:
        evidence.append(("kernel drops", ctx.facts.drops_problem))
    if bridge is not None:
        # The bridge holds the gateway: the host itself did not answer (INPUT rules?).
        return new_check(check_id, "fail", summary, evidence, f"cnet rules {bridge}")
    parent = next((link.parent.name for link in ctx.links if link.parent), None)
    if parent is not None:
        summary += f" (the gateway is a router on {parent}'s segment, outside this host)"
    return new_check(check_id, "fail", summary, evidence)


def _dropped(
    check_id: str,
    ctx: Context,
    ping: GatewayPing,
    bridge: str | None,
    summary: str,
    evidence: list[tuple[str, str]],
) -> Check:
    """A failing gateway check that names the kernel's drop reason and its fix."""
    words = DropContext(bridge, ctx.facts.rp_filter.get(bridge or ""), ctx.ns)
    counted, tail, fix = gateway_words(ping.drops, words, check_id)
    evidence.append(("kernel drops", f"{counted} ({ping.drops_scope})"))
    return new_check(check_id, "fail", f"{summary}: {tail}", evidence, fix)


def check_gateway(ctx: Context) -> Check:
    return _gateway_check("gateway", ctx, ctx.facts.pings.get(ctx.owner.name))


def check_gateway6(ctx: Context) -> Check:
    if not ctx.ipv6:
        return new_check("gateway6", "skip", NO_IPV6)
    return _gateway_check("gateway6", ctx, ctx.facts.pings6.get(ctx.owner.name))
