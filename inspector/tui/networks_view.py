"""What the networks view shows, as plain data: no Textual here.

Docker's network list gives each network's driver, subnets, gateway, bridge and options;
its members (the list leaves them out since API 1.28) come from the snapshot's
containers.  A saved snapshot has no network list: its containers' attachments and
interfaces still give each network's members, addresses, gateway, subnet and bridge,
and the view says the rest was not recorded.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.model.natural import natural_key, natural_sorted
from inspector.model.snapshot import Container, Interface, Snapshot
from inspector.tui.view import Column, Row, sort_cycle

BRIDGE_NAME = "com.docker.network.bridge.name"
ICC = "com.docker.network.bridge.enable_icc"
MASQUERADE = "com.docker.network.bridge.enable_ip_masquerade"
MTU = "com.docker.network.driver.mtu"
DOCKER_BUILTIN = {"host": "host", "none": "null"}
"""Drivers of Docker's built-in networks, known by name alone."""


@dataclass(frozen=True)
class Member:
    container: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    driver: str
    """``?`` when only the snapshot is known."""
    subnets: tuple[str, ...] = ()
    """IPv4 first, then IPv6."""
    gateways: tuple[str, ...] = ()
    bridge: str = ""
    options: tuple[str, ...] = ()
    """The ones that matter, and only when not the default: internal, icc off, mtu, ..."""
    members: tuple[Member, ...] = ()


def _family_order(text: str) -> tuple[int, str]:
    return (6 if ":" in text else 4, text)


def _options(net: Mapping[str, Any]) -> tuple[str, ...]:
    opts = net.get("Options") or {}
    out: list[str] = []
    if net.get("Internal"):
        out.append("internal")
    if str(opts.get(ICC, "true")).lower() == "false":
        out.append("icc off")
    if str(opts.get(MASQUERADE, "true")).lower() == "false":
        out.append("no masquerade")
    if opts.get(MTU):
        out.append(f"mtu {opts[MTU]}")
    if net.get("EnableIPv6"):
        out.append("ipv6")
    if net.get("Attachable"):
        out.append("attachable")
    return tuple(out)


def _attached(c: Container, network: str) -> tuple[Interface | None, tuple[str, ...]]:
    """The interface of ``c`` on ``network`` (the one holding its address) and the
    addresses it has there."""
    attachment = next((n for n in c.networks if n.name == network), None)
    if attachment is None or not attachment.ip:
        return None, ()
    for i in c.interfaces:
        if any(a.split("/", 1)[0] == attachment.ip for a in i.addresses):
            extra = tuple(
                a.split("/", 1)[0]
                for a in i.addresses
                if ":" in a and not a.lower().startswith("fe80:")
            )
            return i, (attachment.ip, *extra)
    return None, (attachment.ip,)


def _members(snapshot: Snapshot, network: str) -> tuple[Member, ...]:
    found = [
        Member(c.name, _attached(c, network)[1])
        for c in snapshot.containers
        if any(n.name == network for n in c.networks)
    ]
    return tuple(sorted(found, key=lambda m: natural_key(m.container)))


def _seen_in_snapshot(snapshot: Snapshot, network: str) -> tuple[str, str, str, str]:
    """(driver, subnet, gateway, bridge) as the containers on ``network`` show them."""
    driver = subnet = gateway = bridge = ""
    for c in snapshot.containers:
        attachment = next((n for n in c.networks if n.name == network), None)
        if attachment is None:
            continue
        gateway = gateway or (attachment.gateway or "")
        i, _ = _attached(c, network)
        if i is None:
            continue
        if i.peer is not None:
            driver, bridge = driver or "bridge", bridge or (i.peer.bridge or "")
        elif i.kind:
            driver = driver or i.kind
        for a in i.addresses:
            if a.split("/", 1)[0] == attachment.ip and "/" in a:
                subnet = subnet or str(ipaddress.ip_interface(a).network)
    return driver, subnet, gateway, bridge


def networks_from_engine(
    listed: Iterable[Mapping[str, Any]], snapshot: Snapshot
) -> list[NetworkInfo]:
    """Docker's list (``read_networks()``), with the members the snapshot knows."""
    out: list[NetworkInfo] = []
    for net in listed:
        name = str(net.get("Name") or "")
        if not name:
            continue
        configs = (net.get("IPAM") or {}).get("Config") or []
        subnets = sorted((str(c["Subnet"]) for c in configs if c.get("Subnet")), key=_family_order)
        gateways = sorted(
            (str(c["Gateway"]) for c in configs if c.get("Gateway")), key=_family_order
        )
        driver = str(net.get("Driver") or "")
        bridge = str((net.get("Options") or {}).get(BRIDGE_NAME) or "")
        if not bridge and driver == "bridge":
            bridge = "br-" + str(net.get("Id") or "")[:12]
        _, seen_subnet, seen_gateway, seen_bridge = _seen_in_snapshot(snapshot, name)
        out.append(
            NetworkInfo(
                name,
                driver,
                tuple(subnets) or ((seen_subnet,) if seen_subnet else ()),
                tuple(gateways) or ((seen_gateway,) if seen_gateway else ()),
                bridge or seen_bridge,
                _options(net),
                _members(snapshot, name),
            )
        )
    return sorted(out, key=lambda n: natural_key(n.name))


def networks_from_snapshot(snapshot: Snapshot) -> list[NetworkInfo]:
    """What a snapshot alone says: every network some container is attached to."""
    names = natural_sorted(list({n.name for c in snapshot.containers for n in c.networks}))
    out = []
    for name in names:
        driver, subnet, gateway, bridge = _seen_in_snapshot(snapshot, name)
        out.append(
            NetworkInfo(
                name,
                driver or DOCKER_BUILTIN.get(name, "?"),
                (subnet,) if subnet else (),
                (gateway,) if gateway else (),
                bridge,
                (),
                _members(snapshot, name),
            )
        )
    return out


NETWORK_COLUMNS = (
    Column("Network / member", 22, 12, middle=True),
    Column("Driver", 7, 6, priority=2),
    Column("Subnets / address", 34, 14, priority=1),
    Column("Gateway", 28, 9, priority=3),
    Column("Bridge", 15, 7, middle=True, priority=4, optional=True),
    Column("Options", 36, 8, priority=5, optional=True),
)
NETWORK_SORTS = sort_cycle(NETWORK_COLUMNS, None)
MEMBER_PREFIX = "member:"


def network_rows(networks: Sequence[NetworkInfo]) -> tuple[Row, ...]:
    """A line per network, its members under it (``member:NETWORK/CONTAINER`` keys)."""
    rows: list[Row] = []
    for n in networks:
        rows.append(
            Row(
                f"net:{n.name}",
                (
                    n.name,
                    n.driver,
                    " ".join(n.subnets),
                    " ".join(n.gateways),
                    n.bridge,
                    ", ".join(n.options),
                ),
                "heading",
            )
        )
        for m in n.members:
            cells = (f"  {m.container}", "", " ".join(m.addresses), "", "", "")
            rows.append(Row(f"{MEMBER_PREFIX}{n.name}/{m.container}", cells, child=True))
        if not n.members:
            rows.append(
                Row(f"empty:{n.name}", ("  (no members)", "", "", "", "", ""), "muted", child=True)
            )
    return tuple(rows)


def member_of(key: str | None) -> str | None:
    """The container a member row's key names (None: a network row)."""
    if key is None or not key.startswith(MEMBER_PREFIX):
        return None
    return key.removeprefix(MEMBER_PREFIX).split("/", 1)[1]
