"""The join on hand-recorded data: the facts a real host gives, including the hard cases."""

from __future__ import annotations

from inspector.inventory.join import NamespaceView, join
from inspector.model.snapshot import Bridge, BridgePort, Container, HostNetwork, Interface, PeerRef

# Every container's eth0 has ifindex 2 here, so every host veth says "@if2": only the
# netnsid tells them apart.  Host veth 11 -> ns with host-side id 0, veth 13 -> id 1.
HOST = HostNetwork(
    interfaces=(
        Interface("lo", 1, state="unknown", addresses=("127.0.0.1/8",)),
        Interface("eth0", 4, state="up", mac="02:fc:00:00:00:01"),
        Interface("docker0", 5, kind="bridge", state="up", addresses=("172.17.0.1/16",)),
        Interface(
            "vethaaa", 11, iflink=2, kind="veth", master="docker0", link_netnsid=0, state="up"
        ),
        Interface(
            "vethbbb", 13, iflink=2, kind="veth", master="docker0", link_netnsid=1, state="up"
        ),
        Interface("mvparent", 9, iflink=8, kind="veth", state="up"),
        Interface("mvpeer", 8, iflink=9, kind="veth", state="up"),
        Interface("vethccc", 15, iflink=2, kind="veth", link_netnsid=7, state="up"),
    )
)
BRIDGES = (
    Bridge(
        "docker0",
        5,
        "up",
        ("172.17.0.1/16",),
        ports=(BridgePort("vethaaa", 11, "forwarding"), BridgePort("vethbbb", 13, "forwarding")),
    ),
)


LO = Interface("lo", 1, state="unknown", addresses=("127.0.0.1/8",))
# Namespace A: the host calls it 1 and it calls the host 0; namespace B: the host calls it 0.
VIEW_A = NamespaceView(
    nsid_in_host=1,
    host_nsid=0,
    interfaces=(
        LO,
        Interface(
            "eth0",
            2,
            iflink=13,
            kind="veth",
            state="up",
            link_netnsid=0,
            addresses=("172.17.0.3/16",),
        ),
    ),
)
VIEW_B = NamespaceView(
    nsid_in_host=0,
    host_nsid=0,
    interfaces=(
        LO,
        Interface(
            "eth0",
            2,
            iflink=11,
            kind="veth",
            state="up",
            link_netnsid=0,
            addresses=("172.17.0.2/16",),
        ),
    ),
)
VIEW_MACVLAN = NamespaceView(
    nsid_in_host=3,
    host_nsid=0,
    interfaces=(LO, Interface("eth0", 2, iflink=9, kind="macvlan", state="up", link_netnsid=0)),
)
# Same indexes as A, but the host end (vethccc, id 7) does not name this namespace's id (4).
VIEW_STRAY = NamespaceView(
    nsid_in_host=4,
    host_nsid=0,
    interfaces=(LO, Interface("eth0", 2, iflink=15, kind="veth", state="up", link_netnsid=0)),
)


def container(cid: str, name: str, mode: str = "default", shared: str | None = None) -> Container:
    return Container(cid, name, "img", "running", 100, mode, netns_shared_with=shared)


def build(**extra: NamespaceView):
    containers = [
        container("a", "alpha"),
        container("b", "bravo"),
        container("m", "mike", "mvnet"),
        container("s", "sierra", "container:b", shared="bravo"),
        container("x", "xray"),
    ]
    namespaces = {
        "a": VIEW_A,
        "b": VIEW_B,
        "m": VIEW_MACVLAN,
        "s": VIEW_B,
        "x": VIEW_STRAY,
        **extra,
    }
    return join(
        taken_at="2026-01-01T00:00:00Z",
        hostname="h",
        host=HOST,
        bridges=BRIDGES,
        containers=containers,
        namespaces=namespaces,
    )


def iface(snapshot, cname: str, ifname: str) -> Interface:
    c = snapshot.container(cname)
    assert c is not None
    return next(i for i in c.interfaces if i.name == ifname)


def test_same_ifindex_in_many_namespaces_is_told_apart_by_netnsid() -> None:
    s = build()
    assert iface(s, "alpha", "eth0").peer.name == "vethbbb"
    assert iface(s, "bravo", "eth0").peer.name == "vethaaa"
    assert iface(s, "alpha", "eth0").peer.bridge == "docker0"


def test_host_ends_know_their_container() -> None:
    s = build()
    a = s.host_interface("vethaaa")
    assert (a.container, a.container_interface) == ("bravo", "eth0")
    assert a.peer.name == "eth0" and a.peer.ifindex == 2
    ports = {p.name: (p.container, p.container_interface) for p in s.bridges[0].ports}
    assert ports == {"vethaaa": ("bravo", "eth0"), "vethbbb": ("alpha", "eth0")}


def test_netnsid_mismatch_is_not_a_match() -> None:
    s = build()
    assert iface(s, "xray", "eth0").peer is None
    assert s.host_interface("vethccc").container is None


def test_one_direction_is_not_enough() -> None:
    # The container link points at vethaaa, but vethaaa's iflink (2) is not this link's ifindex (5).
    view = NamespaceView(
        nsid_in_host=0,
        host_nsid=0,
        interfaces=(Interface("eth9", 5, iflink=11, kind="veth", link_netnsid=0),),
    )
    s = build(x=view)
    assert iface(s, "xray", "eth9").peer is None


def test_unknown_host_id_inside_the_namespace_is_not_a_match() -> None:
    view = NamespaceView(nsid_in_host=0, host_nsid=None, interfaces=VIEW_B.interfaces)
    s = build(b=view, s=view)
    assert iface(s, "bravo", "eth0").peer is None


def test_macvlan_points_at_its_parent_and_has_no_peer() -> None:
    s = build()
    mv = iface(s, "mike", "eth0")
    assert mv.parent is not None and mv.parent.name == "mvparent" and mv.parent.ifindex == 9
    assert mv.peer is None


def test_shared_namespace_has_the_owners_interfaces_and_owner_keeps_the_port() -> None:
    s = build()
    assert s.container("sierra").interfaces == s.container("bravo").interfaces
    assert s.host_interface("vethaaa").container == "bravo"


def test_veth_pair_inside_the_host_points_at_each_other() -> None:
    s = build()
    assert s.host_interface("mvparent").peer.name == "mvpeer"
    assert s.host_interface("mvpeer").peer.name == "mvparent"
    assert s.host_interface("mvparent").container is None


def test_stopped_container_has_no_interfaces() -> None:
    s = join(
        taken_at="t",
        hostname="h",
        host=HOST,
        bridges=BRIDGES,
        containers=[Container("z", "zulu", "img", "exited", None, "default")],
        namespaces={},
    )
    assert s.container("zulu").interfaces == ()
    assert all(p.container is None for p in s.bridges[0].ports)


def test_recorded_lab_snapshot_is_consistent(recorded) -> None:
    """Every peer in the recorded lab points back at its container end."""
    host = {i.ifindex: i for i in recorded.host.interfaces}
    peers = 0
    for c in recorded.containers:
        for i in c.interfaces:
            if i.peer is not None:
                peers += 1
                h = host[i.peer.ifindex]
                assert h.iflink == i.ifindex and i.iflink == h.ifindex
                assert h.container in (c.name, c.netns_shared_with)
    assert peers >= 4


# --- veths between two namespaces (no host end), and ports that lead nowhere read --------

P_ID, Q_ID, R_ID = (4, 4026532100), (4, 4026532200), (4, 4026532300)
# P calls Q 1, Q calls P 2; R has the same index pair as Q, but P's id 1 names Q, not R.
VIEW_P = NamespaceView(
    nsid_in_host=5,
    host_nsid=0,
    interfaces=(LO, Interface("toq", 3, iflink=4, kind="veth", state="up", link_netnsid=1)),
    identity=P_ID,
    peers=((1, Q_ID),),
)
VIEW_Q = NamespaceView(
    nsid_in_host=6,
    host_nsid=0,
    interfaces=(LO, Interface("top", 4, iflink=3, kind="veth", state="up", link_netnsid=2)),
    identity=Q_ID,
    peers=((2, P_ID),),
)
VIEW_R = NamespaceView(
    nsid_in_host=7,
    host_nsid=0,
    interfaces=(LO, Interface("tox", 4, iflink=3, kind="veth", state="up", link_netnsid=3)),
    identity=R_ID,
    peers=((3, (4, 4026532999)),),
)


def join_views(views: dict[str, NamespaceView], **kw):
    return join(
        taken_at="t",
        hostname="h",
        host=HOST,
        bridges=BRIDGES,
        containers=[container(cid, f"w-{cid}") for cid in views],
        namespaces=views,
        **kw,
    )


def test_a_veth_between_two_namespaces_names_the_other_workload() -> None:
    s = join_views({"p": VIEW_P, "q": VIEW_Q, "r": VIEW_R})
    assert iface(s, "w-p", "toq").peer == PeerRef("top", 4, None, "w-q")
    assert iface(s, "w-q", "top").peer == PeerRef("toq", 3, None, "w-p")
    assert iface(s, "w-r", "tox").peer is None  # same indexes, but its id names another


def test_without_the_ids_the_index_pair_is_taken_only_when_one_pair_fits() -> None:
    bare = {k: v._replace(identity=None, peers=()) for k, v in (("p", VIEW_P), ("q", VIEW_Q))}
    s = join_views(bare)
    assert iface(s, "w-p", "toq").peer == PeerRef("top", 4, None, "w-q")
    decoy = VIEW_R._replace(identity=None, peers=())
    s = join_views({**bare, "r": decoy})
    assert iface(s, "w-p", "toq").peer is None  # q and r both fit: no guess


def test_a_veth_with_both_ends_in_one_namespace() -> None:
    view = NamespaceView(
        nsid_in_host=8,
        host_nsid=0,
        interfaces=(
            Interface("in0", 5, iflink=6, kind="veth"),
            Interface("in1", 6, iflink=5, kind="veth"),
        ),
    )
    s = join_views({"i": view})
    assert iface(s, "w-i", "in0").peer == PeerRef("in1", 6, None, "w-i")


def test_a_host_veth_names_the_workload_at_its_far_end() -> None:
    s = build()
    assert s.host_interface("vethaaa").peer == PeerRef("eth0", 2, None, "bravo")
    assert iface(s, "alpha", "eth0").peer.workload is None  # the far end is the host


def test_a_port_into_a_namespace_not_read_says_so_and_warns() -> None:
    host = HostNetwork(
        interfaces=(
            *HOST.interfaces,
            Interface("vethnew", 30, iflink=2, kind="veth", master="docker0", link_netnsid=9),
            Interface("vethhalf", 31, iflink=32, kind="veth", master="docker0"),
            Interface("eth0tmp", 32, iflink=31, kind="veth"),
            Interface("vethgone", 33, kind="veth", master="docker0"),
        )
    )
    bridges = (
        Bridge(
            "docker0",
            5,
            "up",
            ports=(
                *BRIDGES[0].ports,
                BridgePort("vethnew", 30, "forwarding"),
                BridgePort("vethhalf", 31, "disabled"),
                BridgePort("vethgone", 33, "disabled"),
            ),
        ),
    )
    s = join(
        taken_at="t",
        hostname="h",
        host=host,
        bridges=bridges,
        containers=[
            container("a", "alpha"),
            Container("n", "nova", "img", "created", None, "default"),
        ],
        namespaces={"a": VIEW_A},
        in_transition=["nova"],
    )
    ports = {p.name: p for p in s.bridges[0].ports}
    assert ports["vethbbb"].note is None and ports["vethbbb"].container == "alpha"
    assert ports["vethaaa"].note is not None  # bravo's namespace (id 0) was not read here
    assert "not read" in (ports["vethnew"].note or "") and "nova" in (ports["vethnew"].note or "")
    assert "still in the host" in (ports["vethhalf"].note or "")
    assert "gone" in (ports["vethgone"].note or "")
    assert any(w.startswith("bridge docker0 port vethnew:") for w in s.warnings)


def test_a_ports_note_names_a_few_workloads_in_transition_not_all() -> None:
    host = HostNetwork(
        interfaces=(
            *HOST.interfaces,
            Interface("vethnew", 30, iflink=2, kind="veth", link_netnsid=9),
        )
    )
    bridges = (Bridge("docker0", 5, "up", ports=(BridgePort("vethnew", 30, "forwarding"),)),)
    s = join(
        taken_at="t",
        hostname="h",
        host=host,
        bridges=bridges,
        containers=[],
        namespaces={},
        in_transition=[f"c{n}" for n in range(10)],
    )
    note = s.bridges[0].ports[0].note or ""
    assert "c0, c1, c2, 7 more starting or going" in note and "c3" not in note
