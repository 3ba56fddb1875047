"""The join: match the two ends of every veth, wherever they are, by kernel facts only.

A container link C and a host link H are the two ends of one veth only when all of
these hold (never by name, never by "@ifN" text, since most containers' eth0 has the
same ifindex):

- ``C.iflink == H.ifindex`` and ``H.iflink == C.ifindex``;
- ``H.link_netnsid`` is the id the host gives C's namespace, and
  ``C.link_netnsid`` is the id C's namespace gives the host.

Between two namespaces A and B (a veth from one container to another) the same holds
with the ids A and B give each other (``NamespaceView.peers``, read from the kernel in A);
where those ids are unknown, the index pair alone is taken only when no other pair of
namespaces fits it.  A veth with both ends in one namespace names the other end.

A macvlan-like link (not a veth) whose ``iflink`` points into the host names its parent
device there; it has no peer.  A bridge port whose veth leads nowhere cnet read says why
(``BridgePort.note``).  Pure: no I/O, so it is tested on recorded data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from inspector.model.snapshot import (
    Bridge,
    BridgePort,
    Container,
    HostNetwork,
    Interface,
    ParentRef,
    PeerRef,
    Route,
    Snapshot,
)


class NamespaceView(NamedTuple):
    """What was read inside one container network namespace.

    ``nsid_in_host``: the id the host gives this namespace; ``host_nsid``: the id this
    namespace gives the host.  Either may be None when the kernel assigned none.
    """

    nsid_in_host: int | None
    host_nsid: int | None
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    identity: tuple[int, int] | None = None
    """(st_dev, st_ino) of the namespace."""
    peers: tuple[tuple[int, tuple[int, int]], ...] = ()
    """(the id this namespace gives another, that one's identity) for its veths' far ends."""


def _bridge_of(h: Interface, bridge_names: set[str]) -> str | None:
    return h.master if h.master in bridge_names else None


def _is_veth_pair(c: Interface, h: Interface, view: NamespaceView) -> bool:
    return (
        c.kind == "veth"
        and h.kind == "veth"
        and c.iflink == h.ifindex
        and h.iflink == c.ifindex
        and view.nsid_in_host is not None
        and h.link_netnsid == view.nsid_in_host
        and view.host_nsid is not None
        and c.link_netnsid == view.host_nsid
    )


def _points_into_host(c: Interface, view: NamespaceView) -> bool:
    return c.iflink is not None and view.host_nsid is not None and c.link_netnsid == view.host_nsid


def join(
    *,
    taken_at: str,
    hostname: str,
    host: HostNetwork,
    bridges: Sequence[Bridge],
    containers: Sequence[Container],
    namespaces: Mapping[str, NamespaceView],
    warnings: Sequence[str] = (),
    in_transition: Sequence[str] = (),
) -> Snapshot:
    """Build the snapshot: peers, parents, bridge ports' containers.

    ``in_transition`` names the workloads starting or going (engine states such as
    ``created``, ``restarting``, ``removing``), for the note of a port that leads nowhere.

    ``namespaces`` maps a container id to the view of its namespace; containers that
    share a namespace map to the same view, and its owner is the one that does not
    borrow it (``netns_shared_with`` is None).
    """
    host_by_index = {i.ifindex: i for i in host.interfaces}
    bridge_names = {b.name for b in bridges}

    owner: dict[int, str] = {}  # a view's owner: the container that does not borrow it
    for c in containers:
        view = namespaces.get(c.id)
        if view is not None and (c.netns_shared_with is None or id(view) not in owner):
            owner[id(view)] = c.name
    for cid, view in namespaces.items():  # only borrowers known (the owner unread): any
        owner.setdefault(id(view), next((c.name for c in containers if c.id == cid), cid))

    host_side: dict[int, tuple[str, Interface]] = {}  # host ifindex -> (container, its link)
    joined_views: dict[int, tuple[Interface, ...]] = {}
    views = list({id(v): v for v in namespaces.values()}.values())
    for view in views:
        joined: list[Interface] = []
        for c_if in view.interfaces:
            h = host_by_index.get(c_if.iflink) if c_if.iflink is not None else None
            if h is not None and _is_veth_pair(c_if, h, view):
                c_if = replace(
                    c_if, peer=PeerRef(h.name, h.ifindex, _bridge_of(h, bridge_names)), parent=None
                )
                host_side[h.ifindex] = (owner[id(view)], c_if)
            elif h is not None and c_if.kind != "veth" and _points_into_host(c_if, view):
                c_if = replace(c_if, parent=ParentRef(h.name, h.ifindex), peer=None)
            elif c_if.kind == "veth" and c_if.iflink is not None:
                far = _far_end(c_if, view, views)
                if far is not None:
                    other, o_if = far
                    c_if = replace(
                        c_if, peer=PeerRef(o_if.name, o_if.ifindex, None, owner[id(other)])
                    )
            joined.append(c_if)
        joined_views[id(view)] = tuple(joined)

    host_ifs = tuple(_host_link(h, host_by_index, host_side, bridge_names) for h in host.interfaces)
    read_nsids = {v.nsid_in_host for v in views if v.nsid_in_host is not None}
    notes: list[str] = []
    joined_bridges = tuple(
        replace(
            b,
            ports=tuple(
                replace(
                    p,
                    container=host_side[p.ifindex][0],
                    container_interface=host_side[p.ifindex][1].name,
                )
                if p.ifindex in host_side
                else _unjoined_port(p, host_by_index, read_nsids, in_transition, b.name, notes)
                for p in b.ports
            ),
        )
        for b in bridges
    )
    joined_containers = tuple(
        replace(c, interfaces=joined_views[id(namespaces[c.id])], routes=namespaces[c.id].routes)
        if c.id in namespaces
        else c
        for c in containers
    )
    return Snapshot(
        taken_at=taken_at,
        hostname=hostname,
        host=replace(host, interfaces=host_ifs),
        bridges=joined_bridges,
        containers=joined_containers,
        warnings=(*warnings, *notes),
    )


def _far_end(
    c_if: Interface, view: NamespaceView, views: Sequence[NamespaceView]
) -> tuple[NamespaceView, Interface] | None:
    """The other end of a veth of ``view`` that does not lead to the host."""
    if c_if.link_netnsid is None:  # both ends in this namespace
        other = next((i for i in view.interfaces if i.ifindex == c_if.iflink), None)
        if other is not None and other.kind == "veth" and other.iflink == c_if.ifindex:
            return view, other
        return None
    if view.host_nsid is not None and c_if.link_netnsid == view.host_nsid:
        return None
    target = dict(view.peers).get(c_if.link_netnsid)
    candidates = [v for v in views if v.identity == target] if target is not None else views
    found = [
        (v, o)
        for v in candidates
        if v is not view
        for o in v.interfaces
        if o.kind == "veth"
        and o.ifindex == c_if.iflink
        and o.iflink == c_if.ifindex
        and o.link_netnsid is not None
        and o.link_netnsid != v.host_nsid
        and (
            view.identity is None
            or not v.peers
            or dict(v.peers).get(o.link_netnsid) == view.identity
        )
    ]
    return found[0] if len(found) == 1 else None


def _unjoined_port(
    p: BridgePort,
    host_by_index: Mapping[int, Interface],
    read_nsids: set[int],
    in_transition: Sequence[str],
    bridge: str,
    notes: list[str],
) -> BridgePort:
    """A port with no container behind it: say why, when its veth leads somewhere."""
    h = host_by_index.get(p.ifindex)
    if h is None or h.kind != "veth":
        return p
    names = [
        *in_transition[:3],
        *([f"{len(in_transition) - 3} more"] if len(in_transition) > 3 else []),
    ]
    churn = f" ({', '.join(names)} starting or going)" if names else ""
    if h.iflink is None:
        note = f"its other end is gone: going{churn}"
    elif h.link_netnsid is None:
        other = host_by_index.get(h.iflink)
        where = other.name if other is not None else f"if{h.iflink}"
        note = f"its other end {where} is still in the host: being plumbed, or left over{churn}"
    elif h.link_netnsid not in read_nsids:
        note = f"its other end is in a namespace cnet has not read: starting or going{churn}"
    else:
        return p
    notes.append(f"bridge {bridge} port {p.name}: {note}")
    return replace(p, note=note)


def _host_link(
    h: Interface,
    host_by_index: Mapping[int, Interface],
    host_side: Mapping[int, tuple[str, Interface]],
    bridge_names: set[str],
) -> Interface:
    if h.ifindex in host_side:
        container, c_if = host_side[h.ifindex]
        return replace(
            h,
            peer=PeerRef(c_if.name, c_if.ifindex, None, container),
            container=container,
            container_interface=c_if.name,
        )
    # Both ends of a veth pair in the host itself: no netnsid, and each points at the other.
    other = host_by_index.get(h.iflink) if h.iflink is not None and h.link_netnsid is None else None
    if (
        h.kind == "veth"
        and other is not None
        and other.kind == "veth"
        and other.iflink == h.ifindex
    ):
        return replace(h, peer=PeerRef(other.name, other.ifindex, _bridge_of(other, bridge_names)))
    if other is not None and h.kind not in (None, "veth", "bridge"):
        return replace(h, parent=ParentRef(other.name, other.ifindex))
    return h
