"""Step 3 of the path: the bridge the host end is a port of."""

from __future__ import annotations

from inspector.doctor.context import UP_STATES, Context, bare_address, join_fixes, new_check, sh
from inspector.doctor.model import (
    Check,
)


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
        # its own port and a count: every port of a bridge of thousands, for each of its
        # containers, made the walk quadratic (and its evidence megabytes)
        own = ctx.snapshot.bridge_port(link.host_end.ifindex) if link.host_end else None
        mine = f"; {own.name} {own.state}" if own is not None else ""
        evidence.append((f"{bridge.name} ports", f"{len(bridge.ports)}{mine}"))
        if bridge.state not in UP_STATES:
            forwarding = [p for p in bridge.ports if p.state == "forwarding"]
            # Operstate alone cannot tell "set down" from "no port up": say both.
            why = "" if forwarding else " and none of its ports forwards (no port up, or set down)"
            problems.append(f"bridge {bridge.name} is {bridge.state}{why}")
            fixes.append(sh("ip", "link", "set", bridge.name, "up"))
        gateway = link.gateway
        if gateway and not any(bare_address(a) == gateway for a in bridge.addresses):
            prefix = link.subnet.prefixlen if link.subnet else 16
            problems.append(f"bridge {bridge.name} does not hold the gateway {gateway}")
            fixes.append(sh("ip", "addr", "add", f"{gateway}/{prefix}", "dev", bridge.name))
        elif not problems:
            good.append(f"{bridge.name} is up" + (f" and holds {gateway}" if gateway else ""))
    if not ctx.bridged:
        kinds = ", ".join(sorted({link.iface.kind or "link" for link in ctx.links}))
        return new_check("bridge", "skip", f"not on a bridge ({kinds})", evidence)
    if problems:
        return new_check("bridge", "fail", "; ".join(problems), evidence, join_fixes(fixes))
    return new_check("bridge", "pass", "; ".join(good), evidence)
