"""Steps 1 and 2 of the path: the container's interface, and the veth's host end (or a
macvlan's parent).
"""

from __future__ import annotations

from inspector.doctor.context import (
    UP_STATES,
    Context,
    join_fixes,
    new_check,
    nsenter,
    sh,
    worst_of,
)
from inspector.doctor.model import (
    Check,
    Status,
)


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
            fixes.append(sh("ip", "link", "set", link.host_end.name, "up"))
        elif i.state not in UP_STATES and other is not None and other[1].state not in UP_STATES:
            # a veth is down while its other end is: that end is what to bring up (veth
            # check's fix), this one may well be up already
            problems.append(
                f"{i.name} has no carrier: its other end {other[1].name} in {other[0].name} "
                f"is {other[1].state}"
            )
        elif i.state not in UP_STATES:
            problems.append(f"{i.name} is {i.state}")
            fixes.append(ctx.ns + sh("ip", "link", "set", i.name, "up"))
        if not i.addresses:
            problems.append(f"{i.name} has no address")
    for n in ctx.unplaced:
        evidence.append((f"Docker's address on {n.name}", n.ip or ""))
        problems.append(f"Docker's address {n.ip} (network {n.name}) is on no interface")
        fixes.append(
            sh("docker", "network", "disconnect", n.name, ctx.owner.name)
            + " && "
            + sh("docker", "network", "connect", n.name, ctx.owner.name)
        )
    if not ctx.links and not ctx.unplaced:
        return new_check(
            "interface", "fail", "no interface but loopback in the namespace", evidence
        )
    if problems:
        return new_check("interface", "fail", "; ".join(problems), evidence, join_fixes(fixes))
    words = ", ".join(f"{link.iface.name} {', '.join(link.iface.addresses)}" for link in ctx.links)
    return new_check("interface", "pass", f"up and addressed: {words}", evidence)


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
                if parent.state not in UP_STATES:
                    problems.append(f"{i.name}'s parent {name} is {parent.state}")
                    fixes.append(sh("ip", "link", "set", name, "up"))
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
            if found is not None and found[1].state not in UP_STATES:
                other, end = found
                problems.append(f"the other end of {i.name}, {where}, is {end.state}")
                if other.runtime == "netns":  # ip netns NAME: no process may be in it
                    fixes.append(sh("ip", "-n", other.name, "link", "set", end.name, "up"))
                else:
                    fixes.append(nsenter(other.pid) + sh("ip", "link", "set", end.name, "up"))
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
        port = ctx.snapshot.bridge_port(veth.ifindex)
        if port is not None:
            evidence.append((f"{veth.name} port state", port.state))
        bad = False
        if veth.state not in UP_STATES:
            problems.append(f"{veth.name} (host end of {i.name}) is {veth.state}")
            fixes.append(sh("ip", "link", "set", veth.name, "up"))
            bad = True
        if veth.master is None:
            target = expected or "BRIDGE"
            problems.append(f"{veth.name} is on no bridge; it should be on {target}")
            fixes.append(sh("ip", "link", "set", veth.name, "master", target))
            bad = True
        elif expected is not None and veth.master != expected:
            problems.append(f"{veth.name} is on {veth.master}; it should be on {expected}")
            fixes.append(sh("ip", "link", "set", veth.name, "master", expected))
            bad = True
        if bad:
            statuses.append("fail")
        elif port is not None and port.state not in ("forwarding", "unknown"):
            problems.append(f"bridge port {veth.name} is {port.state}, not forwarding")
            statuses.append("warn")
        else:
            good.append(f"{veth.name} is up on {veth.master}")
            statuses.append("pass")
    status = worst_of(statuses)
    if status == "skip":
        return new_check("veth", "skip", "no veth or macvlan link to check", evidence)
    if status == "pass":
        return new_check("veth", "pass", "; ".join(good), evidence)
    return new_check("veth", status, "; ".join(problems), evidence, join_fixes(fixes))
