"""Step 9 of the path: MTUs along the veth, the bridge and the uplink."""

from __future__ import annotations

from inspector.doctor.context import (
    Context,
    Link,
    is_internal,
    join_fixes,
    new_check,
    sh,
)
from inspector.doctor.model import (
    Check,
)


def _mtu_fix(ctx: Context, link: Link, mtu: int) -> str:
    """Lowering a network's MTU in its runtime's own terms: Docker's daemon.json or network
    option, Podman's containers.conf or network option, a CNI config's ``mtu``, or the link
    itself for a namespace made by hand.  Names are quoted for the shell (``sh``)."""
    network = link.attachment.name if link.attachment else None
    runtime = ctx.owner.runtime
    if runtime == "docker" and network and network != "bridge":
        return f"recreate network {sh(network)} with -o com.docker.network.driver.mtu={mtu}"
    if runtime == "docker":
        return f'set "mtu": {mtu} in /etc/docker/daemon.json and restart Docker'
    if runtime == "podman" and network and network != "podman":
        return (
            f"recreate network {sh(network)} with "
            f"{sh('podman', 'network', 'create', '-o', f'mtu={mtu}', network)}"
        )
    if runtime == "podman":
        return (
            f'podman network create -o mtu={mtu} NAME, and set default_network = "NAME" '
            "in the [network] table of /etc/containers/containers.conf"
        )
    if runtime == "cri":
        where = f"network {sh(network)}" if network else "its network"
        return f'set "mtu": {mtu} in the CNI config of {where} (/etc/cni/net.d/)'
    if runtime == "netns":
        name = ctx.owner.name
        if name.startswith("/"):
            return sh(
                "nsenter", f"--net={name}", "ip", "link", "set", "dev", link.iface.name, "mtu", mtu
            )
        return sh("ip", "-n", name, "link", "set", "dev", link.iface.name, "mtu", mtu)
    return f"{ctx.ns}{sh('ip', 'link', 'set', 'dev', link.iface.name, 'mtu', mtu)}"


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
                fixes.append(ctx.ns + sh("ip", "link", "set", "dev", i.name, "mtu", reference))
            if bridge_if is not None and veth.mtu != bridge_if.mtu:
                problems.append(
                    f"{veth.name} has MTU {veth.mtu} but {bridge_if.name} has {bridge_if.mtu}"
                )
                fixes.append(sh("ip", "link", "set", "dev", veth.name, "mtu", bridge_if.mtu))
        elif link.to_workload and (found := ctx.other_end(link)) is not None:
            checked = True
            other, end = found
            evidence.append((f"{end.name} in {other.name} mtu", str(end.mtu)))
            if i.mtu is not None and end.mtu is not None and i.mtu != end.mtu:
                problems.append(
                    f"{i.name} has MTU {i.mtu} but its other end {end.name} in {other.name} "
                    f"has {end.mtu}"
                )
                fixes.append(
                    ctx.ns + sh("ip", "link", "set", "dev", i.name, "mtu", min(i.mtu, end.mtu))
                )
        elif link.parent is not None:
            checked = True
            evidence.append((f"{link.parent.name} mtu", str(link.parent.mtu)))
            if i.mtu is not None and link.parent.mtu is not None and i.mtu > link.parent.mtu:
                problems.append(
                    f"{i.name} has MTU {i.mtu}, above {link.parent.name}'s {link.parent.mtu}"
                )
                fixes.append(
                    ctx.ns + sh("ip", "link", "set", "dev", i.name, "mtu", link.parent.mtu)
                )
    uplink = ctx.uplink
    if uplink is not None:
        evidence.append((f"host uplink {uplink.name} mtu", str(uplink.mtu)))
        above = [
            link
            for link in ctx.bridged
            if link.iface.mtu is not None
            and uplink.mtu is not None
            and link.iface.mtu > uplink.mtu
            and not is_internal(ctx, link)
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
            fixes.append(_mtu_fix(ctx, link, uplink.mtu or 0))
    if not checked:
        return new_check("mtu", "skip", "no host end to compare with", evidence)
    if problems:
        summary = "; ".join(problems)
        if "path MTU" not in summary:
            summary += ": larger packets are dropped on the way"
        return new_check("mtu", "warn", summary, evidence, join_fixes(fixes))
    mtus = sorted({str(link.iface.mtu) for link in ctx.links})
    upto = f", within the uplink's {uplink.mtu}" if uplink is not None and uplink.mtu else ""
    return new_check("mtu", "pass", f"MTU {', '.join(mtus)} all along{upto}", evidence)
