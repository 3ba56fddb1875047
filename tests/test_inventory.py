"""The inventory on recorded data: the lab replayed as events, then what events change.

The recorded lab snapshot (made by the real collector from the real lab) is turned back
into the events a collector would have emitted; replaying them must give the same
picture, and each later event must change exactly what it says.
"""

from __future__ import annotations

import dataclasses
import socket

import pytest

from inspector.inventory import events as ev
from inspector.inventory import state as inventory
from inspector.model.records import AddressRecord, LinkRecord, NamespaceDump, RouteRecord
from inspector.model.snapshot import Container, Interface, Route, Snapshot


def _dump(
    interfaces: tuple[Interface, ...], routes: tuple[Route, ...], ports: dict[str, str]
) -> NamespaceDump:
    index = {i.name: i.ifindex for i in interfaces}
    links = tuple(
        LinkRecord(
            interface=dataclasses.replace(
                i,
                addresses=(),
                master=None,
                peer=None,
                parent=None,
                container=None,
                container_interface=None,
            ),
            master_index=index.get(i.master) if i.master else None,
            port_state=ports.get(i.name),
            stp=False if i.kind == "bridge" else None,
        )
        for i in interfaces
    )
    addresses = tuple(AddressRecord(i.ifindex, a) for i in interfaces for a in i.addresses)
    route_records = tuple(
        RouteRecord(
            family=socket.AF_INET6 if ":" in (r.gateway or r.dst) else socket.AF_INET,
            dst=r.dst,
            gateway=r.gateway,
            oif=index.get(r.dev) if r.dev else None,
            scope=r.scope,
            protocol=r.protocol,
            metric=r.metric,
        )
        for r in routes
    )
    return NamespaceDump(links, addresses, route_records)


def replay(recorded: Snapshot) -> tuple[inventory.State, list[ev.Event]]:
    """The events a collector would have emitted for ``recorded``, applied in order."""
    ports = {p.name: p.state for b in recorded.bridges for p in b.ports}
    host_by_index = {i.ifindex: i for i in recorded.host.interfaces}
    events: list[ev.Event] = [
        ev.HostDumped(_dump(recorded.host.interfaces, recorded.host.routes, ports)),
        ev.ContainersListed(
            tuple(
                dataclasses.replace(c, pid=None, netns_shared_with=None, interfaces=(), routes=())
                for c in recorded.containers
            )
        ),
    ]
    seen: dict[int, tuple[int, int]] = {}
    for n, c in enumerate(recorded.containers):
        if c.pid is None:
            continue
        if c.netns_shared_with == "host":
            events.append(ev.NamespaceRead(c.id, c.pid, None))
            continue
        ns = seen.setdefault(c.pid if c.netns_shared_with is None else -1, (1, 1000 + n))
        owner = recorded.container(c.netns_shared_with or "") if c.netns_shared_with else None
        if owner is not None:
            ns = seen[owner.pid or 0]
            events.append(ev.NamespaceRead(c.id, c.pid, ns))
            continue
        seen[c.pid] = ns
        peered = [i for i in c.interfaces if i.peer is not None]
        nsid_in_host = host_by_index[peered[0].peer.ifindex].link_netnsid if peered else None  # type: ignore[union-attr]
        host_nsid = next((i.link_netnsid for i in c.interfaces if i.link_netnsid is not None), None)
        events.append(
            ev.NamespaceRead(
                c.id, c.pid, ns, _dump(c.interfaces, c.routes, {}), nsid_in_host, host_nsid
            )
        )
    state = inventory.State()
    for e in events:
        state = inventory.apply(state, e)
    return state, events


def snap(state: inventory.State) -> Snapshot:
    return inventory.snapshot(state, taken_at="2026-01-01T00:00:00Z", hostname="lab")


def strip(s: Snapshot) -> Snapshot:
    """Without what a replay cannot know: the time, the host, and the namespaces' inodes
    (the recorded lab's are not kept; the replay makes up its own)."""
    return dataclasses.replace(
        s,
        taken_at="",
        hostname="",
        warnings=(),
        containers=tuple(dataclasses.replace(c, netns=None) for c in s.containers),
    )


def container(s: Snapshot, name: str) -> Container:
    c = s.container(name)
    assert c is not None
    return c


def test_replaying_the_recorded_lab_gives_the_recorded_snapshot(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    assert strip(snap(state)) == strip(recorded)


def test_apply_never_changes_the_state_it_was_given(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    before = snap(state)
    bridge = container(recorded, "cnetlab-bridge")
    inventory.apply(state, ev.ContainerRemoved(bridge.id))
    inventory.apply(state, ev.EngineLost("gone"))
    assert snap(state) == before


def test_a_restarted_container_gets_its_new_veth(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    c = container(recorded, "cnetlab-bridge")
    old = c.interfaces[1] if c.interfaces[0].name == "lo" else c.interfaces[0]
    assert old.peer is not None
    host_old = next(i for i in recorded.host.interfaces if i.ifindex == old.peer.ifindex)
    new_host = dataclasses.replace(
        host_old,
        name="vethnew0",
        ifindex=999,
        addresses=(),
        master=None,
        peer=None,
        container=None,
        container_interface=None,
    )
    docker0 = next(i.ifindex for i in recorded.host.interfaces if i.name == "docker0")
    new_inside = dataclasses.replace(old, iflink=999, peer=None)
    lo = next(i for i in c.interfaces if i.name == "lo")
    for e in (
        ev.LinkRemoved(host_old.ifindex),
        ev.LinkChanged(LinkRecord(new_host, master_index=docker0, port_state="forwarding")),
        ev.ContainerListed(
            dataclasses.replace(c, pid=None, interfaces=(), routes=(), state="running")
        ),
        ev.NamespaceRead(
            c.id,
            4242,
            (1, 5555),
            _dump((lo, new_inside), c.routes, {}),
            new_host.link_netnsid,
            new_inside.link_netnsid,
        ),
    ):
        state = inventory.apply(state, e)
    s = snap(state)
    eth0 = {i.name: i for i in container(s, c.name).interfaces}[old.name]
    assert eth0.peer is not None and eth0.peer.name == "vethnew0" and eth0.peer.bridge == "docker0"
    assert container(s, c.name).pid == 4242
    assert all(i.name != host_old.name for i in s.host.interfaces)
    # the container sharing its namespace stays in the old one, whose veth is gone
    shared = {i.name: i for i in container(s, "cnetlab-shared").interfaces}
    assert shared.keys() == {i.name for i in container(recorded, "cnetlab-shared").interfaces}
    assert shared[old.name].peer is None


def test_a_container_whose_namespace_cannot_be_read_keeps_what_was_read_and_is_named(
    recorded: Snapshot,
) -> None:
    state, _ = replay(recorded)
    c = container(recorded, "cnetlab-multi")
    problem = "the engine did not answer its inspect within 2 s"
    s = snap(inventory.apply(state, ev.ContainerUnread(c.id, problem)))
    assert container(s, c.name).interfaces == c.interfaces
    assert container(s, c.name).problem == problem
    assert any(c.name in w and problem in w for w in s.warnings)
    assert all(container(s, o.name).problem is None for o in s.containers if o.name != c.name)


def test_an_engine_that_stops_answering_keeps_the_containers_as_last_seen(
    recorded: Snapshot,
) -> None:
    state, _ = replay(recorded)
    s = snap(inventory.apply(state, ev.EngineLost("the engine did not answer in time")))
    assert strip(s) == strip(recorded)
    assert s.warnings[0] == "Docker is not reachable: the engine did not answer in time"
    back = snap(inventory.apply(inventory.apply(state, ev.EngineLost("x")), ev.EngineBack()))
    assert back.warnings == ()


def test_a_new_list_drops_what_is_gone_with_its_namespace(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    gone = container(recorded, "cnetlab-multi")
    kept = tuple(
        dataclasses.replace(c, pid=None, interfaces=(), routes=())
        for c in recorded.containers
        if c.id != gone.id
    )
    after = inventory.apply(state, ev.ContainersListed(kept))
    assert gone.id not in after.containers and gone.id not in after.namespace_of
    assert len(after.views) == len(state.views) - 1
    s = snap(after)
    assert s.container(gone.name) is None
    assert all(p.container != gone.name for b in s.bridges for p in b.ports)


def test_a_container_that_stopped_has_no_pid_and_no_interfaces(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    c = container(recorded, "cnetlab-multi")
    stopped = dataclasses.replace(c, pid=None, interfaces=(), routes=(), state="exited")
    s = snap(inventory.apply(state, ev.ContainerListed(stopped)))
    assert container(s, c.name).pid is None and container(s, c.name).interfaces == ()


def test_a_borrowed_namespace_whose_owner_was_not_read_still_joins(recorded: Snapshot) -> None:
    """Only the borrower's read arrived (the owner's inspect hung): no KeyError, peers set."""
    _, events = replay(recorded)
    owner = container(recorded, "cnetlab-bridge")
    shared = container(recorded, "cnetlab-shared")
    owner_read = next(
        e for e in events if isinstance(e, ev.NamespaceRead) and e.container_id == owner.id
    )
    state = inventory.State()
    for e in events:
        if isinstance(e, ev.NamespaceRead) and e.container_id in (owner.id, shared.id):
            continue
        state = inventory.apply(state, e)
    state = inventory.apply(state, dataclasses.replace(owner_read, container_id=shared.id))
    state = inventory.apply(state, ev.ContainerUnread(owner.id, "its inspect hung"))
    s = snap(state)
    assert any(i.peer is not None for i in container(s, shared.name).interfaces)
    assert any(i.container == shared.name for i in s.host.interfaces)


def test_link_removed_takes_its_addresses_and_routes(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    docker0 = next(i for i in recorded.host.interfaces if i.name == "docker0")
    s = snap(inventory.apply(state, ev.LinkRemoved(docker0.ifindex)))
    assert all(r.dev != "docker0" for r in s.host.routes)
    assert all(b.name != "docker0" for b in s.bridges)


def test_addresses_and_routes_come_and_go(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    eth = next(i for i in recorded.host.interfaces if i.kind is None and i.name != "lo")
    added = AddressRecord(eth.ifindex, "198.51.100.7/32")
    route = RouteRecord(
        socket.AF_INET, "198.51.100.0/24", None, eth.ifindex, "link", "static", None
    )
    state = inventory.apply(state, ev.AddressAdded(added))
    state = inventory.apply(state, ev.AddressAdded(added))  # twice: once in the picture
    state = inventory.apply(state, ev.RouteAdded(route))
    s = snap(state)
    host_eth = next(i for i in s.host.interfaces if i.ifindex == eth.ifindex)
    assert host_eth.addresses.count("198.51.100.7/32") == 1
    assert Route("198.51.100.0/24", None, eth.name, "link", "static", None) in s.host.routes
    state = inventory.apply(state, ev.AddressRemoved(added))
    state = inventory.apply(state, ev.RouteRemoved(route))
    assert strip(snap(state)) == strip(recorded)


def test_a_bridge_port_state_change_shows_on_the_bridge(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    port = recorded.bridges[0].ports[0]
    record = state.host.links[port.ifindex]
    state = inventory.apply(
        state, ev.LinkChanged(dataclasses.replace(record, port_state="blocking"))
    )
    s = snap(state)
    assert (
        next(p for b in s.bridges for p in b.ports if p.ifindex == port.ifindex).state == "blocking"
    )


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("host", "host"), ("default", None), ("container:cnetlab-bridge", "cnetlab-bridge")],
)
def test_shared_namespaces_are_named(recorded: Snapshot, mode: str, expected: str | None) -> None:
    state, _ = replay(recorded)
    c = container(recorded, "cnetlab-stopped")
    state = inventory.apply(state, ev.ContainerListed(dataclasses.replace(c, network_mode=mode)))
    assert container(snap(state), c.name).netns_shared_with == expected


def test_notices_are_warnings_until_cleared(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    state = inventory.apply(state, ev.Notice("root", "not running as root"))
    assert "not running as root" in snap(state).warnings
    state = inventory.apply(state, ev.Notice("root", None))
    assert snap(state).warnings == ()


# --- facts over labels, and every other namespace on the host ---------------------------

HOST_NS = (4, 4026531833)


def test_container_x_whose_x_restarted_is_alone_and_says_so(recorded: Snapshot) -> None:
    """cnetlab-shared was started as container:cnetlab-bridge; bridge restarted into a
    new namespace, shared stayed in the old one, which lost its veth (only lo is left)."""
    state, _ = replay(recorded)
    bridge, shared = container(recorded, "cnetlab-bridge"), container(recorded, "cnetlab-shared")
    lo = next(i for i in shared.interfaces if i.name == "lo")
    old_ns = state.namespace_of[shared.id]
    assert old_ns is not None
    for e in (
        ev.NamespaceRead(
            bridge.id, 5001, (1, 7777), _dump(bridge.interfaces, bridge.routes, {}), 0, 0
        ),
        ev.NamespaceRead(shared.id, shared.pid or 0, old_ns, _dump((lo,), (), {}), None, None),
    ):
        state = inventory.apply(state, e)
    s = snap(state)
    alone = container(s, "cnetlab-shared")
    assert alone.netns_shared_with is None
    assert [i.name for i in alone.interfaces] == ["lo"] and alone.routes == ()
    assert (alone.netns, container(s, "cnetlab-bridge").netns) == (
        f"net:[{old_ns[1]}]",
        "net:[7777]",
    )
    assert any(
        w.startswith("container cnetlab-shared: network mode container:cnetlab-bridge, but")
        for w in s.warnings
    )
    from inspector.model.paths import loopback_only
    from inspector.model.words import network_label

    assert loopback_only(alone)
    assert network_label(alone, s) == "container:cnetlab-bridge (not shared)"
    assert network_label(container(snap(replay(recorded)[0]), "cnetlab-shared")) == (
        "container:cnetlab-bridge"
    )


def test_container_x_in_xs_namespace_shares_it(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    s = snap(state)
    shared = container(s, "cnetlab-shared")
    assert shared.netns_shared_with == "cnetlab-bridge"
    assert shared.netns == container(s, "cnetlab-bridge").netns is not None
    assert container(s, "cnetlab-host").netns == "host"


def _found(identity, owner, pid=None, paths=()):
    from inspector.model.records import Attribution, FoundNamespace

    runtime, wid, name = owner
    return FoundNamespace(
        identity, pid, 1 if pid else 0, paths=paths, owner=Attribution(runtime, wid, name)
    )


def _veth_dump(name: str, ifindex: int, iflink: int, netnsid: int, cidr: str) -> NamespaceDump:
    lo = Interface("lo", 1, state="unknown")
    eth = Interface(name, ifindex, iflink=iflink, kind="veth", state="up", link_netnsid=netnsid)
    return NamespaceDump(
        (LinkRecord(lo), LinkRecord(eth)),
        (AddressRecord(ifindex, cidr),),
        (
            RouteRecord(
                socket.AF_INET, "default", "10.254.1.1", ifindex, "universe", "static", None
            ),
        ),
    )


def test_a_namespace_discovery_found_is_a_workload_with_its_runtime(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    docker0 = next(i.ifindex for i in recorded.host.interfaces if i.name == "docker0")
    host_end = Interface("cnns-ha", 900, iflink=2, kind="veth", state="up", link_netnsid=42)
    ns = (4, 4026540001)
    for e in (
        ev.LinkChanged(LinkRecord(host_end, master_index=docker0, port_state="forwarding")),
        ev.NamespacesFound(
            HOST_NS,
            (
                _found(ns, ("netns", "netns:cnns-a", "cnns-a"), paths=("/run/netns/cnns-a",)),
                _found((4, 4026540002), ("process", "pid:77", "process unshare (pid 77)"), 77),
                _found(HOST_NS, ("process", "pid:2", "process kthreadd (pid 2)"), 2),
            ),
        ),
    ):
        state = inventory.apply(state, e)
    assert inventory.unread_namespaces(state) == [ns, (4, 4026540002)]
    before = snap(state)
    port = next(p for b in before.bridges for p in b.ports if p.name == "cnns-ha")
    assert port.container is None and port.note is not None  # found, not read yet
    state = inventory.apply(
        state, ev.NamespaceDumped(ns, _veth_dump("eth0", 2, 900, 0, "10.254.1.2/24"), 42, 0)
    )
    s = snap(state)
    a = container(s, "cnns-a")
    assert (a.runtime, a.id, a.pid, a.netns, a.network_mode) == (
        "netns",
        "netns:cnns-a",
        None,
        "net:[4026540001]",
        "namespace",
    )
    eth0 = next(i for i in a.interfaces if i.name == "eth0")
    assert eth0.peer is not None and (eth0.peer.name, eth0.peer.bridge) == ("cnns-ha", "docker0")
    port = next(p for b in s.bridges for p in b.ports if p.name == "cnns-ha")
    assert (port.container, port.container_interface, port.note) == ("cnns-a", "eth0", None)
    unread = container(s, "process unshare (pid 77)")
    assert (unread.runtime, unread.pid, unread.interfaces) == ("process", 77, ())
    assert all(c.name != "process kthreadd (pid 2)" for c in s.containers)  # the host's own
    assert {c.runtime for c in s.containers} == {"docker", "netns", "process"}
    # gone: no longer found
    state = inventory.apply(state, ev.NamespacesFound(HOST_NS, ()))
    assert snap(state).container("cnns-a") is None and ns not in state.views


def test_a_namespace_read_after_it_was_lost_is_dropped(recorded: Snapshot) -> None:
    state, _ = replay(recorded)
    ns = (4, 4026540009)
    state = inventory.apply(
        state, ev.NamespacesFound(HOST_NS, (_found(ns, ("netns", "netns:x", "x")),))
    )
    state = inventory.apply(state, ev.NamespaceGone(ns))
    assert state.found == {}
    dumped = inventory.apply(state, ev.NamespaceDumped(ns, _veth_dump("e", 2, 9, 0, "10.0.0.2/24")))
    assert dumped is state


def test_podmans_list_and_a_namespace_discovery_also_found_are_one_workload(
    recorded: Snapshot,
) -> None:
    state, _ = replay(recorded)
    pid_ns = (4, 4026534428)
    pod = Container(
        "42f3" * 16, "cnns-pod1", "busybox", "running", 7934, "bridge", runtime="podman"
    )
    stopped = Container(
        "9b1c" * 16, "cnns-old", "busybox", "exited", None, "bridge", runtime="podman"
    )
    for e in (
        ev.NamespacesFound(HOST_NS, (_found(pid_ns, ("podman", pod.id, "podman 42f3"), 7934),)),
        ev.WorkloadsListed("podman", (pod, stopped), ((pod.id, pid_ns),)),
        ev.NamespaceDumped(pid_ns, _veth_dump("eth0", 2, 3433, 0, "10.88.0.4/16"), 30, 0),
    ):
        state = inventory.apply(state, e)
    assert not inventory.podman_changed(state)
    s = snap(state)
    podmans = [c for c in s.containers if c.runtime == "podman"]
    assert [c.name for c in podmans] == ["cnns-old", "cnns-pod1"]
    running = container(s, "cnns-pod1")
    assert running.netns == "net:[4026534428]" and [i.name for i in running.interfaces] == [
        "lo",
        "eth0",
    ]
    assert container(s, "cnns-old").interfaces == ()
    # Docker's list does not remove Podman's containers, and Podman's does not remove Docker's
    state = inventory.apply(state, ev.ContainersListed(tuple(state.containers.values())))
    assert snap(state).container("cnns-pod1") is not None
    state = inventory.apply(state, ev.WorkloadsListed("podman", ()))
    assert inventory.podman_changed(state)  # found running, listed no more: ask again
    s = snap(state)  # the namespace is still there: named by its cgroup until it goes
    assert [c.name for c in s.containers if c.runtime == "podman"] == ["podman 42f3"]
    state = inventory.apply(state, ev.NamespacesFound(HOST_NS, ()))
    s = snap(state)
    assert all(c.runtime != "podman" for c in s.containers)
    assert s.container("cnetlab-bridge") is not None
