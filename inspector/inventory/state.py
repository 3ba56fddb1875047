"""The live inventory: events in, a new state out; a state in, an immutable Snapshot out.

Pure: ``apply(state, event)`` never mutates ``state`` and does no I/O, and
``snapshot(state, ...)`` joins what the state holds (``join.join``).  The live runner
(``inspector.live.runner``), the one-shot collector and the tests all go through these two
functions, so what a restart, a vanished engine or a stuck container does to the picture
is decided here and tested as data.

What it keeps when something cannot be refreshed: a container the engine lists but whose
namespace could not be read keeps the interfaces read before and is marked; an engine
that stops answering keeps the containers as last seen, with a warning.

Besides Docker's containers it keeps every other namespace discovery found
(``NamespacesFound``) and Podman's list (``WorkloadsListed``); each becomes a workload of
the snapshot with its ``runtime``.  Facts over labels: two workloads share a namespace when
their pids' namespaces are one, whatever a ``container:X`` mode says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from inspector.inventory import events as ev
from inspector.inventory.join import NamespaceView, join
from inspector.model.records import FoundNamespace, LinkRecord, NamespaceDump, RouteRecord
from inspector.model.snapshot import Bridge, BridgePort, Container, HostNetwork, Snapshot

LIVE_STATES = ("running", "paused")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class HostState:
    """The host namespace as the kernel last described it."""

    links: Mapping[int, LinkRecord] = field(default_factory=dict)
    addresses: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    routes: tuple[RouteRecord, ...] = ()


@dataclass(frozen=True)
class State:
    """Everything known now.  Mappings are never changed in place: each event makes new
    ones, so a state handed to another thread stays as it was."""

    host: HostState = field(default_factory=HostState)
    containers: Mapping[str, Container] = field(default_factory=dict)
    """As the engine lists them (no pid, no interfaces)."""
    pids: Mapping[str, int] = field(default_factory=dict)
    namespace_of: Mapping[str, ev.NamespaceId | None] = field(default_factory=dict)
    """Container id -> the namespace its pid is in; None for the host's own."""
    views: Mapping[ev.NamespaceId, NamespaceView] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)
    engine_problem: str | None = None
    notices: Mapping[str, str] = field(default_factory=dict)
    host_identity: ev.NamespaceId | None = None
    found: Mapping[ev.NamespaceId, FoundNamespace] = field(default_factory=dict)
    """Every other namespace discovery found, with what made it."""
    others: Mapping[str, Container] = field(default_factory=dict)
    """Other engines' containers (Podman), as listed (pid known, no interfaces)."""
    others_ns: Mapping[str, ev.NamespaceId] = field(default_factory=dict)


def host_state(dump: NamespaceDump) -> HostState:
    addresses: dict[int, tuple[str, ...]] = {}
    for a in dump.addresses:
        addresses[a.ifindex] = (*addresses.get(a.ifindex, ()), a.cidr)
    return HostState(
        links={link.interface.ifindex: link for link in dump.links},
        addresses=addresses,
        routes=dump.routes,
    )


def _route_key(r: RouteRecord) -> tuple[object, ...]:
    """What tells two routes apart for a RTM_DELROUTE: the kernel's own key, roughly."""
    return (r.family, r.table, r.type, r.dst, r.gateway, r.oif, r.metric, r.nexthops)


def _apply_host(host: HostState, event: ev.Event) -> HostState:
    match event:
        case ev.HostDumped(dump):
            return host_state(dump)
        case ev.HostRoutesDumped(routes):
            return replace(host, routes=routes)
        case ev.LinkChanged(link):
            return replace(host, links={**host.links, link.interface.ifindex: link})
        case ev.LinkRemoved(ifindex):
            return HostState(
                links={i: link for i, link in host.links.items() if i != ifindex},
                addresses={i: a for i, a in host.addresses.items() if i != ifindex},
                routes=tuple(r for r in host.routes if r.oif != ifindex),
            )
        case ev.AddressAdded(a):
            known = host.addresses.get(a.ifindex, ())
            if a.cidr in known:
                return host
            return replace(host, addresses={**host.addresses, a.ifindex: (*known, a.cidr)})
        case ev.AddressRemoved(a):
            left = tuple(c for c in host.addresses.get(a.ifindex, ()) if c != a.cidr)
            return replace(host, addresses={**host.addresses, a.ifindex: left})
        case ev.RouteAdded(route):
            key = _route_key(route)
            kept = tuple(r for r in host.routes if _route_key(r) != key)
            return replace(host, routes=(*kept, route))
        case ev.RouteRemoved(route):
            key = _route_key(route)
            return replace(host, routes=tuple(r for r in host.routes if _route_key(r) != key))
    return host


def _without(mapping: Mapping[K, V], key: K) -> dict[K, V]:
    return {k: v for k, v in mapping.items() if k != key}


def _used_views(state: State) -> State:
    """Drop namespace views no workload points to any more."""
    used = {ns for ns in state.namespace_of.values() if ns is not None}
    used |= state.found.keys() | set(state.others_ns.values())
    if used >= state.views.keys():
        return state
    return replace(state, views={k: v for k, v in state.views.items() if k in used})


def _listed(state: State, c: Container) -> State:
    """A container (re)listed: a stopped one loses its pid, namespace and problem."""
    containers = {**state.containers, c.id: c}
    if c.state in LIVE_STATES:
        return replace(state, containers=containers)
    return _used_views(
        replace(
            state,
            containers=containers,
            pids=_without(state.pids, c.id),
            namespace_of=_without(state.namespace_of, c.id),
            problems=_without(state.problems, c.id),
        )
    )


def _removed(state: State, container_id: str) -> State:
    return _used_views(
        replace(
            state,
            containers=_without(state.containers, container_id),
            pids=_without(state.pids, container_id),
            namespace_of=_without(state.namespace_of, container_id),
            problems=_without(state.problems, container_id),
        )
    )


def apply(state: State, event: ev.Event) -> State:
    """The state after ``event``; ``state`` itself is left as it was."""
    match event:
        case ev.ContainersListed(listed):
            ids = {c.id for c in listed}
            for gone in [cid for cid in state.containers if cid not in ids]:
                state = _removed(state, gone)
            for c in listed:
                state = _listed(state, c)
            return replace(state, engine_problem=None)
        case ev.ContainerListed(c):
            return _listed(state, c)
        case ev.ContainerRemoved(cid):
            return _removed(state, cid)
        case ev.NamespaceRead(cid, pid, namespace, dump, nsid_in_host, host_nsid, peers):
            if cid not in state.containers:
                return state  # removed while it was being read
            views = dict(state.views)
            if namespace is not None and dump is not None:
                views[namespace] = namespace_view(dump, nsid_in_host, host_nsid, namespace, peers)
            return _used_views(
                replace(
                    state,
                    pids={**state.pids, cid: pid},
                    namespace_of={**state.namespace_of, cid: namespace},
                    views=views,
                    problems=_without(state.problems, cid),
                )
            )
        case ev.NamespacesFound(host, found):
            return _used_views(
                replace(state, host_identity=host, found={f.identity: f for f in found})
            )
        case ev.NamespaceDumped(namespace, dump, nsid_in_host, host_nsid, peers):
            if namespace not in state.found and namespace not in state.others_ns.values():
                return state  # gone while it was being read
            view = namespace_view(dump, nsid_in_host, host_nsid, namespace, peers)
            return replace(state, views={**state.views, namespace: view})
        case ev.NamespaceGone(namespace):
            return _used_views(replace(state, found=_without(state.found, namespace)))
        case ev.WorkloadsListed(runtime, listed, namespaces):
            others = {k: c for k, c in state.others.items() if c.runtime != runtime}
            others.update({c.id: c for c in listed})
            ids = {c.id for c in listed}
            others_ns = {
                k: n
                for k, n in state.others_ns.items()
                if k in others and others[k].runtime != runtime
            }
            others_ns.update({cid: n for cid, n in namespaces if cid in ids})
            return _used_views(replace(state, others=others, others_ns=others_ns))
        case ev.PidKnown(cid, pid):
            if cid not in state.containers:
                return state
            return replace(state, pids={**state.pids, cid: pid})
        case ev.ContainerUnread(cid, problem):
            if cid not in state.containers:
                return state
            return replace(state, problems={**state.problems, cid: problem})
        case ev.EngineLost(problem):
            return replace(state, engine_problem=problem)
        case ev.EngineBack():
            return replace(state, engine_problem=None)
        case ev.Notice(key, text):
            notices = _without(state.notices, key)
            if text is not None:
                notices[key] = text
            return replace(state, notices=notices)
    return replace(state, host=_apply_host(state.host, event))


def namespace_owners(state: State) -> dict[ev.NamespaceId, list[str]]:
    """Container ids per namespace, for re-reading a namespace that changed."""
    owners: dict[ev.NamespaceId, list[str]] = {}
    for cid, ns in state.namespace_of.items():
        if ns is not None:
            owners.setdefault(ns, []).append(cid)
    return owners


def unread_namespaces(state: State) -> list[ev.NamespaceId]:
    """Namespaces found (or listed by another engine) but not read yet, and not Docker's."""
    skip = {ns for ns in state.namespace_of.values() if ns is not None} | {state.host_identity}
    wanted = [*state.found, *state.others_ns.values()]
    return list(dict.fromkeys(n for n in wanted if n not in state.views and n not in skip))


def podman_changed(state: State) -> bool:
    """Whether discovery found Podman containers running other than those listed (one
    started or stopped): only then is Podman's CLI asked again, it costs a process."""
    found = {f.owner.id for f in state.found.values() if f.owner and f.owner.runtime == "podman"}
    listed = {cid for cid, c in state.others.items() if c.runtime == "podman" and c.running}
    return found != listed


def _referent(mode: str, containers: Mapping[str, Container]) -> Container | None:
    """The container a ``container:<ref>`` mode names, if listed."""
    ref = mode.split(":", 1)[1]
    for c in containers.values():
        if c.id == ref or c.name == ref:
            return c
    matches = [c for c in containers.values() if c.id.startswith(ref)]
    return matches[0] if len(matches) == 1 else None


def _shared_with(c: Container, state: State, warnings: list[str]) -> str | None:
    """Whose namespace ``c`` is in, decided by the namespaces its pid and the other's are
    in when both were read; by the mode only when they were not (cnet not root)."""
    mode = c.network_mode
    read = state.namespace_of
    if mode == "host":
        if c.id in read and read[c.id] is not None:
            warnings.append(
                f"container {c.name}: network mode host, but it is in a namespace of its own"
                f" ({netns_name(read[c.id])})"
            )
            return None
        return "host"
    if not mode.startswith("container:"):
        return None
    other = _referent(mode, state.containers)
    if other is None:
        return mode.split(":", 1)[1]
    if c.id not in read or other.id not in read or read[c.id] == read[other.id]:
        return other.name
    warnings.append(
        f"container {c.name}: network mode container:{other.name}, but its namespace"
        f" ({netns_name(read[c.id])}) is not {other.name}'s ({netns_name(read[other.id])}):"
        f" {other.name} was restarted or re-created; {c.name} is alone in its own"
    )
    return None


def netns_name(identity: ev.NamespaceId | None) -> str:
    """A namespace as lsns and ``readlink /proc/PID/ns/net`` name it."""
    return "the host's" if identity is None else f"net:[{identity[1]}]"


def _host_network(host: HostState) -> tuple[HostNetwork, tuple[Bridge, ...]]:
    names = {i: link.interface.name for i, link in host.links.items()}
    interfaces = tuple(
        replace(
            link.interface,
            addresses=host.addresses.get(i, ()),
            master=names.get(link.master_index) if link.master_index else None,
        )
        for i, link in sorted(host.links.items())
    )
    ports: dict[int, list[BridgePort]] = {}
    for i, link in sorted(host.links.items()):
        if link.master_index is not None and link.port_state is not None:
            ports.setdefault(link.master_index, []).append(
                BridgePort(name=link.interface.name, ifindex=i, state=link.port_state)
            )
    bridges = tuple(
        Bridge(
            name=link.interface.name,
            ifindex=i,
            state=link.interface.state,
            addresses=host.addresses.get(i, ()),
            stp=bool(link.stp),
            ports=tuple(ports.get(i, ())),
        )
        for i, link in sorted(host.links.items())
        if link.stp is not None
    )
    routes = tuple(r.route(names) for r in host.routes)
    return HostNetwork(interfaces=interfaces, routes=routes), bridges


def namespace_view(
    dump: NamespaceDump,
    nsid_in_host: int | None,
    host_nsid: int | None,
    identity: ev.NamespaceId | None = None,
    peers: ev.Peers = (),
) -> NamespaceView:
    """A container namespace's dump, resolved like the host's (masters, route devices)."""
    network, _bridges = _host_network(host_state(dump))
    return NamespaceView(
        nsid_in_host=nsid_in_host,
        host_nsid=host_nsid,
        interfaces=network.interfaces,
        routes=network.routes,
        identity=identity,
        peers=peers,
    )


TRANSITIONAL = ("created", "restarting", "removing")


def _discovered(state: State, taken: set[ev.NamespaceId]) -> list[tuple[Container, ev.NamespaceId]]:
    """A workload for each found namespace no engine's container is in."""
    out = []
    for identity, f in sorted(state.found.items()):
        if identity in taken or identity == state.host_identity or f.owner is None:
            continue
        owner = f.owner
        if owner.id in state.containers or owner.id in state.others:
            continue  # an engine's container whose namespace was read another way
        workload = Container(
            id=owner.id,
            name=owner.name,
            image="",
            state="running",
            pid=f.pid,
            network_mode="namespace",
            networks=owner.networks,
            runtime=owner.runtime,
            netns=netns_name(identity),
        )
        out.append((workload, identity))
    return out


def _netns(namespace_of: Mapping[str, ev.NamespaceId | None], c: Container) -> str | None:
    if c.id not in namespace_of:
        return None
    return netns_name(namespace_of[c.id]) if namespace_of[c.id] is not None else "host"


def snapshot(state: State, *, taken_at: str, hostname: str) -> Snapshot:
    """The joined, immutable picture of ``state``."""
    host, bridges = _host_network(state.host)
    warnings = list(state.notices.values())
    if state.engine_problem is not None:
        warnings.insert(0, f"Docker is not reachable: {state.engine_problem}")
    docker = [
        replace(
            c,
            pid=state.pids.get(c.id) if c.state in LIVE_STATES else None,
            netns_shared_with=_shared_with(c, state, warnings),
            problem=state.problems.get(c.id),
            netns=_netns(state.namespace_of, c) if c.state in LIVE_STATES else None,
        )
        for c in state.containers.values()
    ]
    others = [replace(c, netns=_netns(state.others_ns, c)) for c in state.others.values()]
    namespace_of: dict[str, ev.NamespaceId] = {
        **{k: v for k, v in state.namespace_of.items() if v is not None},
        **state.others_ns,
    }
    found = _discovered(state, set(namespace_of.values()))
    namespace_of.update({w.id: identity for w, identity in found})
    full = sorted([*docker, *others, *(w for w, _ in found)], key=lambda c: (c.name, c.runtime))
    ids = {c.id for c in full}
    namespaces = {
        cid: state.views[ns] for cid, ns in namespace_of.items() if ns in state.views and cid in ids
    }
    warnings.extend(
        f"container {c.name}: {c.problem}; shown as last read" for c in full if c.problem
    )
    return join(
        taken_at=taken_at,
        hostname=hostname,
        host=host,
        bridges=bridges,
        containers=tuple(full),
        namespaces=namespaces,
        warnings=warnings,
        in_transition=[c.name for c in full if c.state in TRANSITIONAL],
    )
