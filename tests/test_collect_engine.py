"""Collection against the real engine, checked against iproute2 (`ip -j`) and the docker CLI."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from inspector.live.runner import Collector
from inspector.model.snapshot import Container, Interface, Snapshot
from tests.cli import cnet, cnet_unprivileged
from tests.lab import PREFIX, Lab, host_links, host_routes, sh


@pytest.fixture(scope="module")
def live(lab: Lab) -> Snapshot:
    return Collector().collect()


def _container(s: Snapshot, name: str) -> Container:
    c = s.container(name)
    assert c is not None, f"{name} missing from the snapshot"
    return c


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["ifname"]: i for i in items}


def _ifaces(c: Container) -> dict[str, Interface]:
    return {i.name: i for i in c.interfaces}


def test_every_lab_container_is_listed_as_docker_reports_it(lab: Lab, live: Snapshot) -> None:
    ps = sh(
        "docker", "ps", "-a", "--no-trunc", "--filter", f"name=^/{PREFIX}", "--format", "{{json .}}"
    )
    rows = [json.loads(line) for line in ps.splitlines()]
    assert {r["Names"] for r in rows} == {
        c.name for c in live.containers if c.name.startswith(PREFIX)
    }
    for row in rows:
        c = _container(live, row["Names"])
        detail = lab.inspect(c.name)
        assert c.id == detail["Id"]
        assert c.state == detail["State"]["Status"]
        assert c.pid == (detail["State"]["Pid"] or None)
        assert c.network_mode == detail["HostConfig"]["NetworkMode"]
        assert c.image == row["Image"]
        nets = detail["NetworkSettings"]["Networks"]
        assert {n.name for n in c.networks} == set(nets)
        for n in c.networks:
            assert n.ip == (nets[n.name]["IPAddress"] or None)
            assert n.gateway == (nets[n.name]["Gateway"] or None)
            assert n.mac == (nets[n.name]["MacAddress"] or None)


def test_published_port(lab: Lab, live: Snapshot) -> None:
    ports = _container(live, lab.bridge).ports
    assert [(p.container_port, p.protocol, p.host_ip, p.host_port) for p in ports] == [
        (80, "tcp", "127.0.0.1", lab.published_port)
    ]
    assert sh("docker", "port", lab.bridge).strip() == f"80/tcp -> 127.0.0.1:{lab.published_port}"


def test_host_links_match_iproute2(live: Snapshot) -> None:
    ours = {i.name: i for i in live.host.interfaces}
    theirs = _by_name(host_links())
    assert set(ours) == set(theirs)
    for name, ip in theirs.items():
        i = ours[name]
        assert i.ifindex == ip["ifindex"]
        assert i.mtu == ip["mtu"]
        assert i.state == ip["operstate"].lower()
        assert i.master == ip.get("master")
        assert i.kind == ip.get("linkinfo", {}).get("info_kind")
        if ip.get("link_type") == "ether":
            assert i.mac == ip["address"]
        if "link_netnsid" in ip:
            assert (i.iflink, i.link_netnsid) == (ip["link_index"], ip["link_netnsid"])
        elif ip.get("link"):
            assert i.iflink == theirs[ip["link"]]["ifindex"]


def test_host_addresses_match_iproute2(live: Snapshot) -> None:
    theirs = json.loads(sh("ip", "-j", "addr"))
    for entry in theirs:
        expected = {f"{a['local']}/{a['prefixlen']}" for a in entry.get("addr_info", [])}
        assert set(live.host_interface(entry["ifname"]).addresses) == expected


def _iproute2_routes(routes: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """(dst, gateway, dev) with iproute2's bare host routes written as CIDR, as cnet does."""
    return [
        (
            r["dst"] if r["dst"] == "default" else str(ipaddress.ip_network(r["dst"])),
            r.get("gateway"),
            r.get("dev"),
        )
        for r in routes
    ]


def test_host_routes_match_iproute2(live: Snapshot) -> None:
    ours = [(r.dst, r.gateway, r.dev) for r in live.host.routes if r.table == "main"]
    assert ours == _iproute2_routes(host_routes())  # IPv4, then IPv6 where the host has it


def test_bridges_and_port_states_match_iproute2(lab: Lab, live: Snapshot) -> None:
    theirs = host_links()
    for b in live.bridges:
        ip = next(x for x in theirs if x["ifname"] == b.name)
        assert b.stp == bool(ip["linkinfo"]["info_data"]["stp_state"])
        members = {x["ifname"]: x for x in theirs if x.get("master") == b.name}
        assert {p.name for p in b.ports} == set(members)
        for p in b.ports:
            assert p.state == members[p.name]["linkinfo"]["info_slave_data"]["state"]
    assert live.bridge(lab.net1_bridge) is not None


@pytest.mark.parametrize("which", ["bridge", "multi", "macvlan", "none"])
def test_container_links_match_iproute2_inside_the_namespace(
    lab: Lab, live: Snapshot, which: str
) -> None:
    name = getattr(lab, which)
    c = _container(live, name)
    theirs = _by_name(lab.ip_links_in(name))
    addrs = {
        e["ifname"]: {f"{a['local']}/{a['prefixlen']}" for a in e.get("addr_info", [])}
        for e in lab.ip_addrs_in(name)
    }
    ours = _ifaces(c)
    assert set(ours) == set(theirs)
    for ifname, ip in theirs.items():
        i = ours[ifname]
        assert i.ifindex == ip["ifindex"]
        assert i.mtu == ip["mtu"]
        assert i.kind == ip.get("linkinfo", {}).get("info_kind")
        assert set(i.addresses) == addrs[ifname]
        if "link_index" in ip:
            assert (i.iflink, i.link_netnsid) == (ip["link_index"], ip.get("link_netnsid"))
    routes = [(r.dst, r.gateway, r.dev) for r in c.routes if r.table == "main"]
    assert routes == _iproute2_routes(lab.ip_routes_in(name))


@pytest.mark.parametrize("which", ["bridge", "multi"])
def test_each_veth_is_joined_to_its_real_host_end(lab: Lab, live: Snapshot, which: str) -> None:
    """Peer = the host link whose index iproute2 gives as the container link's link_index."""
    name = getattr(lab, which)
    host = {x["ifindex"]: x for x in host_links()}
    inside = _by_name(lab.ip_links_in(name))
    nets = lab.inspect(name)["NetworkSettings"]["Networks"]
    expected_bridges = set()
    for net in nets:
        info = json.loads(sh("docker", "network", "inspect", net))[0]
        expected_bridges.add(
            info["Options"].get("com.docker.network.bridge.name")
            or ("docker0" if net == "bridge" else f"br-{info['Id'][:12]}")
        )
    seen_bridges = set()
    for ifname, i in _ifaces(_container(live, name)).items():
        if ifname == "lo":
            continue
        h = host[inside[ifname]["link_index"]]
        assert i.peer is not None and i.peer.name == h["ifname"]
        assert h["link_index"] == i.ifindex
        assert i.peer.bridge == h.get("master")
        seen_bridges.add(i.peer.bridge)
        assert live.host_interface(h["ifname"]).container == name
        assert live.host_interface(h["ifname"]).container_interface == ifname
        port = next(p for p in live.bridge(h["master"]).ports if p.name == h["ifname"])
        assert (port.container, port.container_interface) == (name, ifname)
    assert seen_bridges == expected_bridges


def test_multi_network_container_has_one_interface_per_network(lab: Lab, live: Snapshot) -> None:
    c = _container(live, lab.multi)
    assert sorted(i.name for i in c.interfaces) == ["eth0", "eth1", "lo"]
    assert {n.name for n in c.networks} == {lab.net1, lab.net2}
    assert _ifaces(c)["eth0"].peer.bridge == lab.net1_bridge


def test_host_mode(lab: Lab, live: Snapshot) -> None:
    c = _container(live, lab.host)
    assert c.netns_shared_with == "host"
    assert c.interfaces == () and c.network_mode == "host"


def test_container_mode_shares_the_owners_namespace(lab: Lab, live: Snapshot) -> None:
    c = _container(live, lab.shared)
    assert c.netns_shared_with == lab.bridge
    assert c.network_mode == f"container:{lab.container_id(lab.bridge)}"
    assert c.interfaces == _container(live, lab.bridge).interfaces
    assert c.netns == _container(live, lab.bridge).netns == _netns_of(lab.pid(lab.bridge))
    veth = _ifaces(c)["eth0"].peer.name
    assert live.host_interface(veth).container == lab.bridge


def test_none_mode_has_loopback_only(lab: Lab, live: Snapshot) -> None:
    c = _container(live, lab.none)
    assert [i.name for i in c.interfaces] == ["lo"]
    assert c.routes == ()


def test_macvlan_points_at_its_parent(lab: Lab, live: Snapshot) -> None:
    eth0 = _ifaces(_container(live, lab.macvlan))["eth0"]
    assert eth0.kind == "macvlan" and eth0.peer is None
    parent_index = _by_name(lab.ip_links_in(lab.macvlan))["eth0"]["link_index"]
    assert eth0.parent is not None
    assert (eth0.parent.name, eth0.parent.ifindex) == (lab.macvlan_parent, parent_index)


def test_stopped_container_is_listed_without_interfaces(lab: Lab, live: Snapshot) -> None:
    c = _container(live, lab.stopped)
    assert c.state == "exited" and c.pid is None and c.interfaces == ()


def test_snapshot_command_exports_and_never_leaks_environment(lab: Lab, tmp_path) -> None:
    secret = "hunter2-lab-secret"
    assert f"CNET_LAB_SECRET={secret}" in lab.inspect(lab.bridge)["Config"]["Env"]
    for fmt in ("json", "markdown", "html"):
        out = tmp_path / f"snap.{fmt}"
        proc = cnet("snapshot", "--format", fmt, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        assert lab.multi in text
        assert secret not in text and "CNET_LAB_SECRET" not in text
        assert "sleep 86400" not in text  # the command line stays on the host too


def test_docker_unreachable_still_shows_the_host(lab: Lab) -> None:
    proc = cnet("snapshot", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    # The engine lists nothing; the namespaces it made are still found on the host, named
    # from their cgroups only (no image, no name from the engine).
    # (A container in a custom --cgroup-parent, as test_live_engine leaves one, is only a
    # process to the host: its name says so.)
    assert all(c["image"] == "" for c in data["containers"])
    assert all(
        c["name"].startswith("docker ") if c["runtime"] == "docker" else c["runtime"] == "process"
        for c in data["containers"]
    )
    assert any("Docker is not reachable" in w for w in data["warnings"])
    assert "Docker is not reachable" in proc.stderr and "Traceback" not in proc.stderr
    assert {i["name"] for i in data["host"]["interfaces"]} == {x["ifname"] for x in host_links()}


def test_not_root_lists_containers_and_says_what_root_would_add(lab: Lab) -> None:
    """As an unprivileged user in the docker group: containers listed, namespaces not entered."""
    proc = cnet_unprivileged("snapshot")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = {c["name"] for c in data["containers"]}
    assert lab.multi in names
    assert all(c["interfaces"] == [] for c in data["containers"])
    assert any("not running as root" in w and "run cnet as root" in w for w in data["warnings"])
    assert "not running as root" in proc.stderr and "Traceback" not in proc.stderr


def test_container_that_stops_mid_scan_is_marked_with_a_warning(lab: Lab, monkeypatch) -> None:
    """Listed running, killed before its namespace is read: marked, the rest intact."""
    from inspector.collect.reader import Reader

    victim = PREFIX + "victim"
    lab.run(victim)
    real = Reader.containers

    def list_then_kill(reader: Reader) -> Any:
        listed = real(reader)
        sh("docker", "kill", victim)  # Docker listed it running; it dies before it is read
        return listed

    monkeypatch.setattr(Reader, "containers", list_then_kill)
    s = Collector().collect()
    assert any(victim in w and "stopped while being read" in w for w in s.warnings)
    assert _container(s, victim).interfaces == ()
    assert _container(s, victim).problem == "it stopped while being read"
    assert _ifaces(_container(s, lab.multi))["eth0"].peer is not None


def test_container_removed_between_list_and_read_is_not_an_error(lab: Lab, monkeypatch) -> None:
    from inspector.collect.reader import Reader

    victim = PREFIX + "vanish"
    lab.run(victim)
    real = Reader.containers

    def list_then_remove(reader: Reader) -> Any:
        listed = real(reader)
        lab.remove(victim)
        return listed

    monkeypatch.setattr(Reader, "containers", list_then_remove)
    s = Collector().collect()
    assert "Traceback" not in " ".join(s.warnings)
    running = set(sh("docker", "ps", "--format", "{{.Names}}").split())
    assert running <= {c.name for c in s.containers if c.pid}
    assert _ifaces(_container(s, lab.multi))["eth0"].peer is not None


def test_paused_container_keeps_its_interfaces(lab: Lab) -> None:
    from inspector.model.paths import container_summary

    paused = PREFIX + "paused"
    lab.run(paused)
    sh("docker", "pause", paused)
    try:
        s = Collector().collect()
        c = _container(s, paused)
        assert c.state == "paused" and c.pid == lab.pid(paused)
        assert {i.name for i in c.interfaces} == set(_by_name(lab.ip_links_in(paused)))
        assert _ifaces(c)["eth0"].peer is not None
        assert container_summary(s, c).startswith("paused")
    finally:
        sh("docker", "unpause", paused, check=False)


# --- facts over labels (issue 10): written for the lead to run, one container at a time ---


def _netns_of(pid: int) -> str:
    """``readlink /proc/PID/ns/net``, the way lsns names a namespace."""
    import os

    return os.readlink(f"/proc/{pid}/ns/net")


def _in(lab: Lab, name: str, *args: str) -> Any:
    """``nsenter -t PID -n ip -j ...`` inside a container."""
    out = sh("nsenter", "-t", str(lab.pid(name)), "-n", "ip", "-j", *args)
    return json.loads(out or "[]")


def test_container_x_whose_x_restarted_is_alone_and_says_so(lab: Lab) -> None:
    owner, borrower = PREFIX + "nsx", PREFIX + "nsb"
    lab.run(owner)
    try:
        lab.run(borrower, "--net", f"container:{owner}")
        try:
            sh("docker", "restart", "-t", "0", owner)
            s = Collector().collect()
            b, x = _container(s, borrower), _container(s, owner)
            assert b.netns == _netns_of(lab.pid(borrower))
            assert x.netns == _netns_of(lab.pid(owner)) != b.netns
            assert b.netns_shared_with is None
            assert sorted(i.name for i in b.interfaces) == sorted(
                link["ifname"] for link in _in(lab, borrower, "-d", "link")
            )
            assert any(
                w.startswith(f"container {borrower}: network mode container:") for w in s.warnings
            )
            from inspector.model.queries import namespace_owner

            assert namespace_owner(s, b) is b  # ping and doctor use its own namespace
        finally:
            lab.remove(borrower)
    finally:
        lab.remove(owner)


def test_a_none_container_plumbed_by_hand_has_a_network(lab: Lab) -> None:
    """--net=none, then a veth to a bridge of the test's own, an address, a default route
    and routes of every type, as a CNI plugin or a person would plumb it."""
    from inspector.actions.ping import plan_ping
    from inspector.doctor.offline import offline_reports
    from inspector.model.paths import container_summary, loopback_only

    name, bridge, host_end = PREFIX + "plumbed", PREFIX + "plbr", PREFIX + "plh"
    lab.run(name, "--net", "none")
    lab.links.extend([bridge, host_end])
    try:
        pid = str(lab.pid(name))
        for line in (
            f"ip link add {bridge} type bridge",
            f"ip addr add 10.231.9.1/24 dev {bridge}",
            f"ip link set {bridge} up",
            f"ip link add {host_end} type veth peer name eth0 netns {pid}",
            f"ip link set {host_end} master {bridge} up",
        ):
            sh(*line.split())
        for line in (
            "ip link set eth0 up",
            "ip addr add 10.231.9.2/24 dev eth0",
            "ip route add default via 10.231.9.1",
            "ip route add blackhole 10.231.10.0/24",
            "ip route add unreachable 10.231.11.0/24",
            "ip route add prohibit 10.231.12.0/24",
            "ip route add 10.231.13.0/24 nexthop via 10.231.9.1 weight 1"
            " nexthop via 10.231.9.3 weight 2",
        ):
            sh("nsenter", "-t", pid, "-n", *line.split())
        s = Collector().collect()
        c = _container(s, name)
        assert c.network_mode == "none" and not loopback_only(c)
        assert "loopback only" not in container_summary(s, c)
        eth0 = _ifaces(c)["eth0"]
        assert "10.231.9.2/24" in eth0.addresses
        assert eth0.peer is not None and (eth0.peer.name, eth0.peer.bridge) == (host_end, bridge)
        port = next(p for p in (s.bridge(bridge) or s.bridges[0]).ports if p.name == host_end)
        assert (port.container, port.container_interface) == (name, "eth0")
        theirs = {
            (
                r["dst"] if r["dst"] == "default" else str(ipaddress.ip_network(r["dst"])),
                r.get("type", "unicast"),
            )
            for fam in ("-4", "-6")
            for r in _in(lab, name, fam, "route", "show", "table", "main")
        }
        assert {(r.dst, r.type) for r in c.routes if r.table == "main"} == theirs
        multipath = next(r for r in c.routes if r.dst == "10.231.13.0/24")
        assert [(h.gateway, h.dev, h.weight) for h in multipath.nexthops] == [
            ("10.231.9.1", "eth0", 1),
            ("10.231.9.3", "eth0", 2),
        ]
        assert plan_ping(s, name, None).target == "10.231.9.1"  # its own default route
        [report] = offline_reports(s, [name])
        assert "loopback" not in (report.note or "") and "by design" not in (report.note or "")
    finally:
        lab.remove(name)
        for link in (host_end, bridge):
            sh("ip", "link", "del", link, check=False)
            lab.links.remove(link)


def test_a_veth_between_two_containers_is_joined(lab: Lab) -> None:
    left, right = PREFIX + "vl", PREFIX + "vr"
    lab.run(left, "--net", "none")
    try:
        lab.run(right, "--net", "none")
        try:
            sh(
                "ip",
                "link",
                "add",
                "name",
                "toR",
                "netns",
                str(lab.pid(left)),
                "type",
                "veth",
                "peer",
                "name",
                "toL",
                "netns",
                str(lab.pid(right)),
            )
            s = Collector().collect()
            to_r = _ifaces(_container(s, left))["toR"]
            to_l = _ifaces(_container(s, right))["toL"]
            assert to_r.peer is not None and to_l.peer is not None
            assert (to_r.peer.name, to_r.peer.ifindex, to_r.peer.workload) == (
                "toL",
                to_l.ifindex,
                right,
            )
            assert (to_l.peer.name, to_l.peer.workload) == ("toR", left)
            assert _by_name(_in(lab, left, "-d", "link"))["toR"]["link_index"] == to_l.ifindex
            from inspector.model.paths import interface_path

            assert "host end not found" not in interface_path(s, _container(s, left), to_r)
        finally:
            lab.remove(right)
    finally:
        lab.remove(left)


def test_ipv6_endpoint_data_is_docker_s(lab: Lab) -> None:
    net, name = PREFIX + "v6", PREFIX + "v6c"
    lab.network(net, "--ipv6", "--subnet", "172.30.250.0/24", "--subnet", "fd00:cafe:10::/64")
    try:
        lab.run(name, "--net", net)
        try:
            s = Collector().collect()
            [n] = _container(s, name).networks
            ep = lab.inspect(name)["NetworkSettings"]["Networks"][net]
            assert n.ipv6 == (ep["GlobalIPv6Address"] or None) and n.ipv6 is not None
            assert n.ipv6_gateway == (ep["IPv6Gateway"] or None)
            assert any(
                a.startswith(n.ipv6 + "/") for a in _ifaces(_container(s, name))["eth0"].addresses
            )
        finally:
            lab.remove(name)
    finally:
        sh("docker", "network", "rm", net, check=False)
        lab.networks.remove(net)


def test_every_lab_workload_says_docker_and_other_namespaces_are_found(lab: Lab) -> None:
    """With the lab up, a namespace made by ``ip netns add`` shows next to the containers."""
    ns = PREFIX + "ipns"
    sh("ip", "netns", "add", ns)
    try:
        s = Collector().collect()
        lab_containers = [c for c in s.containers if c.name.startswith(PREFIX) and c.name != ns]
        assert {c.runtime for c in lab_containers} == {"docker"}
        w = _container(s, ns)
        assert w.runtime == "netns" and w.interfaces  # lo, read through its bind mount
        # no namespace is listed twice (found by discovery and read through the engine)
        owners = [
            c for c in s.containers if c.netns not in (None, "host") and not c.netns_shared_with
        ]
        assert len({c.netns for c in owners}) == len(owners)
    finally:
        sh("ip", "netns", "del", ns, check=False)


def test_a_chain_c_to_b_to_a_is_all_in_as_namespace(lab: Lab) -> None:
    """C joins B, which joined A: all three pids are in A's namespace, and each says whose."""
    a, b, c = PREFIX + "cha", PREFIX + "chb", PREFIX + "chc"
    lab.run(a)
    try:
        lab.run(b, "--net", f"container:{a}")
        try:
            lab.run(c, "--net", f"container:{b}")
            try:
                s = Collector().collect()
                wa, wb, wc = (_container(s, n) for n in (a, b, c))
                assert wa.netns == wb.netns == wc.netns == _netns_of(lab.pid(c))
                assert (wa.netns_shared_with, wb.netns_shared_with, wc.netns_shared_with) == (
                    None,
                    a,
                    b,
                )
                assert wc.interfaces == wa.interfaces
                veth = _ifaces(wa)["eth0"].peer
                assert veth is not None and s.host_interface(veth.name).container == a
            finally:
                lab.remove(c)
        finally:
            lab.remove(b)
    finally:
        lab.remove(a)
