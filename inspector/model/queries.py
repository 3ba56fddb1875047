"""The questions every floor asks of a snapshot: whose namespace, which default route, which gateway.

They lived with the ping action; the doctor and the TUI ask them of saved snapshots too,
so they sit on the ground floor where judging a snapshot needs nothing that sends packets.
"""

from __future__ import annotations

import ipaddress

from inspector.model.snapshot import Container, Route, Snapshot


def namespace_owner(snapshot: Snapshot, container: Container) -> Container:
    """The container whose namespace ``container`` uses (itself unless ``container:X``),
    at the end of a chain of them, by inode (``Snapshot.namespace_owner``)."""
    return snapshot.namespace_owner(container)


def default_route(routes: tuple[Route, ...], version: int = 4) -> Route | None:
    """The default route of one family with the lowest metric, if any."""
    candidates = [
        r
        for r in routes
        if r.dst == "default"
        and r.table == "main"
        and r.gateway is not None
        and ipaddress.ip_address(r.gateway).version == version
    ]
    candidates.sort(key=lambda r: r.metric or 0)
    return candidates[0] if candidates else None


def container_gateway(snapshot: Snapshot, container: Container) -> tuple[str, str] | None:
    """(address, words) of the gateway the container's traffic leaves through.

    The kernel's default route inside the namespace is the truth; Docker's idea of the
    gateway is the fallback when the namespace was not read.  None for host networking:
    the host's gateway is another machine, never a target cnet picks by itself.
    """
    owner = namespace_owner(snapshot, container)
    if owner.netns_shared_with == "host":
        return None
    route = default_route(owner.routes) or default_route(owner.routes, 6)
    if route is not None and route.gateway is not None:
        bridge = bridge_behind(owner, route.dev)
        where = f" on {bridge}" if bridge else (f" via {route.dev}" if route.dev else "")
        return route.gateway, f"gateway of {owner.name}{where}"
    for net in owner.networks:
        if net.gateway:
            return net.gateway, f"gateway of {owner.name} on network {net.name} (Docker's)"
    return None


def bridge_behind(container: Container, dev: str | None) -> str | None:
    """The bridge behind the host end of the container's interface ``dev``, if known."""
    for iface in container.interfaces:
        if iface.name == dev and iface.peer is not None:
            return iface.peer.bridge
    return None
