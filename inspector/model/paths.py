"""Where a container's traffic goes, in words, for reports and the TUI.

Pure functions over the model, so Markdown, HTML and the TUI say the same thing.
"""

from __future__ import annotations

import ipaddress

from inspector.model.snapshot import Container, Interface, Route, Snapshot


def bare_address(cidr: str) -> str:
    """``172.17.0.2/16`` -> ``172.17.0.2``."""
    return cidr.split("/", 1)[0]


def primary_address(addresses: tuple[str, ...]) -> str | None:
    """The address a person means: the first IPv4, else the first non-link-local IPv6."""
    parsed = []
    for a in addresses:
        try:
            parsed.append((a, ipaddress.ip_interface(a)))
        except ValueError:
            continue
    for text, ip in parsed:
        if ip.version == 4:
            return bare_address(text)
    for text, ip in parsed:
        if not ip.is_link_local:
            return bare_address(text)
    return bare_address(parsed[0][0]) if parsed else None


def is_loopback(iface: Interface) -> bool:
    return iface.name == "lo" and iface.iflink is None and iface.kind is None


def loopback_only(container: Container) -> bool:
    """Whether the namespace, as read, holds nothing but loopback: decided from its
    interfaces, never from a mode's name (a ``--net=none`` container a CNI plugin or a
    person plumbed has a network; a ``container:X`` left alone when X restarted has none).
    False when the namespace was not read: that is not known."""
    return bool(container.interfaces) and all(is_loopback(i) for i in container.interfaces)


def addresses(container: Container) -> tuple[str, ...]:
    """Its addresses: the engine's, else those read on its interfaces (a workload no engine
    plumbed), link-local ones last."""
    if container.ips:
        return container.ips
    found = [
        bare_address(a) for i in container.interfaces if not is_loopback(i) for a in i.addresses
    ]
    return tuple(sorted(found, key=lambda a: ipaddress.ip_address(a).is_link_local))


def _with_address(name: str, addresses: tuple[str, ...]) -> str:
    addr = primary_address(addresses)
    return f"{name} {addr}" if addr else name


def interface_path(snapshot: Snapshot, container: Container, iface: Interface) -> str:
    """``eth0 172.17.0.2 -> veth6e4ddd7 -> docker0 172.17.0.1`` and its variants."""
    head = _with_address(iface.name, iface.addresses)
    if is_loopback(iface):
        return f"{head} (loopback)"
    if iface.peer is not None:
        if iface.peer.workload is not None:
            return f"{head} -> {iface.peer.name} in {iface.peer.workload}"
        if iface.peer.bridge is None:
            return f"{head} -> {iface.peer.name} (on no bridge)"
        bridge = snapshot.bridge(iface.peer.bridge)
        tail = _with_address(bridge.name, bridge.addresses) if bridge else iface.peer.bridge
        return f"{head} -> {iface.peer.name} -> {tail}"
    if iface.parent is not None:
        return f"{head} -> {iface.kind or 'link'} on {iface.parent.name}"
    if iface.iflink is not None:
        return f"{head} -> (host end not found)"
    return head


def container_summary(snapshot: Snapshot, container: Container) -> str:
    """How a container is connected, in one sentence."""
    if container.state == "paused":
        return "paused: its interfaces exist, but its processes are frozen and answer nothing"
    if not container.running:
        return f"not running ({container.state}): no interfaces"
    if container.netns_shared_with == "host":
        return "host network mode: shares the host's network stack (no veth of its own)"
    if container.netns_shared_with is not None:
        return f"shares the network namespace of container {container.netns_shared_with}"
    if loopback_only(container):
        return f"loopback only (network mode {container.network_mode})"
    if not container.interfaces:
        return "running, but its namespace was not read (see warnings)"
    nets = ", ".join(n.name for n in container.networks)
    if not nets:
        links = [i.name for i in container.interfaces if not is_loopback(i)]
        return f"{container.runtime}: plumbed by hand or by a plugin ({', '.join(links)})"
    return f"on {nets}"


def container_paths(snapshot: Snapshot, container: Container) -> list[str]:
    """One path line per non-loopback interface of a container."""
    return [
        interface_path(snapshot, container, i) for i in container.interfaces if not is_loopback(i)
    ]


def route_destination(r: Route) -> str:
    """The destination, with its table when it is not ``main`` (policy routing)."""
    return r.dst if r.table == "main" else f"{r.dst} (table {r.table})"


def route_gateway(r: Route) -> str:
    """What a Gateway column says: the gateway, every nexthop of a multipath route, the
    type of a route that leads nowhere (``blackhole``, ``unreachable``, ...), or direct."""
    if r.nexthops:
        return ", ".join(
            f"{bare_address(n.gateway) if n.gateway else 'direct'} dev {n.dev or '?'}"
            f" weight {n.weight}"
            for n in r.nexthops
        )
    if r.type != "unicast":
        return r.type
    return bare_address(r.gateway) if r.gateway else "direct"


def route_words(r: Route) -> str:
    """A route's way out in a few words: ``via 10.0.0.1 dev eth0``, ``direct on eth0``,
    ``blackhole``, ``multipath: via A dev X weight 1, via B dev Y weight 2``."""
    if r.nexthops:
        return "multipath: " + ", ".join(
            f"via {bare_address(n.gateway)} dev {n.dev or '?'} weight {n.weight}"
            if n.gateway
            else f"direct on {n.dev or '?'} weight {n.weight}"
            for n in r.nexthops
        )
    if r.type not in ("unicast",):
        return r.type + (f" dev {r.dev}" if r.dev else "")
    if r.gateway:
        return f"via {bare_address(r.gateway)} dev {r.dev or '-'}"
    return f"direct on {r.dev or '-'}"
