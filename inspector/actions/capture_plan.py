"""What ``cnet capture ITEM`` listens on, resolved from a snapshot before any handle opens.

ITEM is a workload (every interface of its namespace, ``lo`` included, unless ``-i``
picks), a host interface (a veth, a bridge, an uplink), or an engine network (its
bridge).  Pure: the snapshot and Docker's network list in, a ``CapturePlan`` or one
line of ``CaptureError`` out, so the TUI can show the plan before anything is opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.model.paths import is_loopback
from inspector.model.queries import namespace_owner
from inspector.model.snapshot import Container, Snapshot

EXIT_FAILED = 1
EXIT_USAGE = 2

_NETNS_DIRS = {"netns": "/run/netns", "docker-sandbox": "/var/run/docker/netns"}
"""Where a workload with no process keeps its namespace (its id is ``netns:NAME``)."""


class CaptureError(Exception):
    """Why a capture cannot start or went on no further, as one line; ``code`` is the
    exit code (1: the state of the host, 2: usage, an unknown item, no privilege)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Tap:
    """One interface to read, in the namespace at ``netns`` (None: cnet's own).

    ``loopback``: libpcap gives each packet of ``lo`` once, with no direction.
    """

    workload: str
    iface: str
    netns: str | None
    loopback: bool = False

    @property
    def label(self) -> str:
        """``WORKLOAD/IFACE``: the interface's name in the pcapng file and the lines."""
        return f"{self.workload}/{self.iface}"


@dataclass(frozen=True)
class CapturePlan:
    item: str
    what: str
    """In words, for the first line: ``container web``, ``the host's docker0``..."""
    taps: tuple[Tap, ...]


def plan_capture(
    snapshot: Snapshot,
    item: str,
    interfaces: Sequence[str] = (),
    networks: Sequence[Mapping[str, Any]] = (),
) -> CapturePlan:
    """Resolve ITEM: a workload first, then a host interface, then an engine network
    (``networks``: Docker's list, asked only when the first two do not know the name)."""
    container = snapshot.container(item)
    if container is not None:
        return _workload(snapshot, container, interfaces)
    if interfaces:
        raise CaptureError(f"-i picks interfaces of a workload; {item!r} is not one", EXIT_USAGE)
    host = snapshot.host_interface(item)
    if host is not None:
        return CapturePlan(
            item, f"the host's {item}", (Tap("host", item, None, is_loopback(host)),)
        )
    bridge = network_bridge(snapshot, item, networks)
    if bridge is not None:
        return CapturePlan(item, f"network {item} (bridge {bridge})", (Tap("host", bridge, None),))
    raise CaptureError(f"no workload, host interface or engine network named {item!r}", EXIT_USAGE)


def _workload(snapshot: Snapshot, container: Container, chosen: Sequence[str]) -> CapturePlan:
    if not container.running:
        raise CaptureError(f"{container.name} is not running ({container.state})")
    owner = namespace_owner(snapshot, container)
    if owner.netns_shared_with == "host":
        if not chosen:
            raise CaptureError(
                f"{container.name} uses the host's network: name its interfaces with -i "
                "(they are the host's)",
                EXIT_USAGE,
            )
        known = {i.name: i for i in snapshot.host.interfaces}
        netns = None
    else:
        netns = namespace_path(owner)
        if netns is None:
            why = owner.problem or "cnet has not read its namespace yet"
            raise CaptureError(f"no way into the namespace of {container.name}: {why}")
        known = {i.name: i for i in owner.interfaces}
    if not known:
        raise CaptureError(f"cnet has read no interface of {container.name} (try again)")
    names = list(dict.fromkeys(chosen)) or list(known)
    missing = [n for n in names if n not in known]
    if missing:
        raise CaptureError(
            f"{container.name} has no interface {missing[0]!r} (it has {', '.join(known)})",
            EXIT_USAGE,
        )
    taps = tuple(Tap(container.name, n, netns, n == "lo" or is_loopback(known[n])) for n in names)
    where = f" (in the namespace of {owner.name})" if owner is not container else ""
    return CapturePlan(container.name, f"{container.name}{where}", taps)


def namespace_path(container: Container) -> str | None:
    """A path naming the workload's network namespace: its process's, else the bind
    mount an ``ip netns`` namespace or a Docker sandbox is kept by; None when neither."""
    if container.pid is not None:
        return f"/proc/{container.pid}/ns/net"
    kind, _, where = container.id.partition(":")
    if kind in _NETNS_DIRS and where and not where.startswith("net:["):
        return where if where.startswith("/") else f"{_NETNS_DIRS[kind]}/{where}"
    return None


def network_bridge(
    snapshot: Snapshot, name: str, networks: Sequence[Mapping[str, Any]]
) -> str | None:
    """The host bridge of the engine network ``name``: where its members' veths are
    enslaved, else what Docker's list says (its bridge option, or ``br-`` and the id)."""
    for c in snapshot.containers:
        attachment = next((n for n in c.networks if n.name == name), None)
        if attachment is None or not attachment.ip:
            continue
        for iface in c.interfaces:
            on_network = any(a.split("/", 1)[0] == attachment.ip for a in iface.addresses)
            if on_network and iface.peer is not None and iface.peer.bridge:
                return iface.peer.bridge
    for net in networks:
        if net.get("Name") != name or net.get("Driver") != "bridge":
            continue
        options = net.get("Options") or {}
        bridge = options.get("com.docker.network.bridge.name") or f"br-{str(net.get('Id'))[:12]}"
        if snapshot.host_interface(str(bridge)) is not None or not snapshot.host.interfaces:
            return str(bridge)
    return None
