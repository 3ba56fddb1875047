"""``cnet diff``: pure diff on recorded pairs (made by editing the recorded lab), the command's
exit codes and output, and one engine test on the live lab."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from inspector.model.snapshot import (
    Interface,
    NetworkAttachment,
    PublishedPort,
    Route,
    RulesetText,
    Snapshot,
)
from inspector.render.diff import Change, diff
from inspector.render.snapshot_json import dumps
from tests.cli import assert_one_line_error, cnet
from tests.conftest import DATA, RECORDED

BRIDGED = "cnetlab-bridge"  # on docker0, shared by cnetlab-shared
MULTI = "cnetlab-multi"


def _with_container(s: Snapshot, name: str, **changes: object) -> Snapshot:
    return replace(
        s,
        containers=tuple(replace(c, **changes) if c.name == name else c for c in s.containers),
    )


def _veth_of(s: Snapshot, name: str) -> Interface:
    return next(i for i in s.host.interfaces if i.container == name)


def _off_its_bridge(s: Snapshot, veth: str) -> Snapshot:
    """What ``ip link set VETH nomaster`` does to a snapshot: no master, no port, and the
    container end's peer on no bridge."""
    hosts = tuple(replace(i, master=None) if i.name == veth else i for i in s.host.interfaces)
    bridges = tuple(
        replace(b, ports=tuple(p for p in b.ports if p.name != veth)) for b in s.bridges
    )
    containers = tuple(
        replace(
            c,
            interfaces=tuple(
                replace(i, peer=replace(i.peer, bridge=None))
                if i.peer is not None and i.peer.name == veth
                else i
                for i in c.interfaces
            ),
        )
        for c in s.containers
    )
    return replace(
        s, host=replace(s.host, interfaces=hosts), bridges=bridges, containers=containers
    )


def test_a_snapshot_equals_itself_and_its_time_is_no_change(recorded) -> None:
    result = diff(recorded, replace(recorded, taken_at="2030-01-01T00:00:00Z"))
    assert result.equal
    assert result.changes == ()
    assert result.containers == result.interfaces == result.bridges == frozenset()


def test_containers_added_removed_and_restarted(recorded) -> None:
    new_one = replace(recorded.container(MULTI), id="f" * 64, name="cnetlab-new", pid=999)
    gone = "cnetlab-none"
    new = _with_container(recorded, BRIDGED, pid=recorded.container(BRIDGED).pid + 7)
    new = replace(new, containers=(*(c for c in new.containers if c.name != gone), new_one))
    result = diff(recorded, new)
    found = [c for c in result.changes if c.section == "containers"]
    pid = recorded.container(BRIDGED).pid
    assert Change("containers", "changed", BRIDGED, f"restarted: pid {pid} -> {pid + 7}") in found
    assert Change("containers", "removed", gone, "was running, image cnet-test/busybox:latest") in (
        found
    )
    assert any(c.kind == "added" and c.subject == "cnetlab-new" for c in found)
    # the new container's namespace is new too: its interfaces appeared
    assert any(
        c.section == "interfaces" and c.subject == "cnetlab-new eth0" for c in result.changes
    )
    assert {BRIDGED, gone, "cnetlab-new"} <= result.containers


def test_changes_are_listed_in_natural_order(recorded) -> None:
    template = recorded.container("cnetlab-none")
    extra = tuple(replace(template, name=n, id=n * 8) for n in ("hx-10", "hx-2", "hx-1"))
    result = diff(recorded, replace(recorded, containers=(*recorded.containers, *extra)))
    assert [c.subject for c in result.changes if c.kind == "added"][:3] == ["hx-1", "hx-2", "hx-10"]


def test_a_stopped_container_is_a_state_change(recorded) -> None:
    new = _with_container(recorded, MULTI, state="exited", pid=None, interfaces=(), routes=())
    result = diff(recorded, new)
    assert Change("containers", "changed", MULTI, "state running -> exited") in result.changes
    assert all("restarted" not in c.detail for c in result.changes)  # pid None is not a restart
    vanished = {c.subject for c in result.changes if c.kind == "removed"}
    assert f"{MULTI} eth0" in vanished and f"{MULTI} eth1" in vanished


def test_a_veth_moved_off_its_bridge(recorded) -> None:
    veth = _veth_of(recorded, BRIDGED).name
    result = diff(recorded, _off_its_bridge(recorded, veth))
    assert result.changes == (
        Change(
            "interfaces",
            "changed",
            f"host {veth}",
            f"moved bridge: docker0 -> no bridge (the veth of {BRIDGED} eth0)",
        ),
    )
    assert veth in result.interfaces
    assert result.containers == {BRIDGED}
    assert result.bridges == {"docker0"}
    back = diff(_off_its_bridge(recorded, veth), recorded)
    assert [c.detail.split(" (")[0] for c in back.changes] == ["moved bridge: no bridge -> docker0"]


def test_interfaces_appear_and_vanish_on_the_host(recorded) -> None:
    extra = Interface("cnetrp-dummy0", 999, kind="dummy", state="down")
    first = recorded.host.interfaces[0]
    new = replace(
        recorded, host=replace(recorded.host, interfaces=(*recorded.host.interfaces[1:], extra))
    )
    result = diff(recorded, new)
    assert Change("interfaces", "added", "host cnetrp-dummy0", "dummy, down") in result.changes
    assert any(c.kind == "removed" and c.subject == f"host {first.name}" for c in result.changes)
    assert {"cnetrp-dummy0", first.name} <= result.interfaces


def test_addresses_state_and_mtu(recorded) -> None:
    c = recorded.container(MULTI)
    eth0 = next(i for i in c.interfaces if i.name == "eth0")
    moved = replace(eth0, addresses=("172.30.231.99/24",), state="down", mtu=1400)
    new = _with_container(
        recorded,
        MULTI,
        interfaces=tuple(moved if i.name == "eth0" else i for i in c.interfaces),
    )
    result = diff(recorded, new)
    subject = f"{MULTI} eth0"
    assert Change("addresses", "added", subject, "172.30.231.99/24") in result.changes
    assert Change("addresses", "removed", subject, eth0.addresses[0]) in result.changes
    assert Change("interfaces", "changed", subject, "state up -> down") in result.changes
    assert Change("interfaces", "changed", subject, f"mtu {eth0.mtu} -> 1400") in result.changes
    assert result.containers == {MULTI}
    assert result.interfaces == frozenset()  # nothing on the host changed
    # sections come in the documented order
    sections = [ch.section for ch in result.changes]
    assert sections == sorted(sections, key=["interfaces", "addresses"].index)


def test_routes_of_a_container_and_of_the_host(recorded) -> None:
    c = recorded.container(BRIDGED)
    default = next(r for r in c.routes if r.dst == "default")
    new = _with_container(recorded, BRIDGED, routes=tuple(r for r in c.routes if r is not default))
    extra = Route("10.99.0.0/16", "192.0.2.7", "eth0", "universe", "static", None)
    new = replace(new, host=replace(new.host, routes=(*new.host.routes, extra)))
    result = diff(recorded, new)
    routes = [ch for ch in result.changes if ch.section == "routes"]
    assert Change("routes", "removed", BRIDGED, f"default via {default.gateway} dev eth0") in routes
    assert Change("routes", "added", "host", "10.99.0.0/16 via 192.0.2.7 dev eth0") in routes
    # cnetlab-shared lives in the same namespace: listed once, under its owner
    assert all(ch.subject != "cnetlab-shared" for ch in result.changes)


def test_bridge_port_state(recorded) -> None:
    veth = _veth_of(recorded, MULTI)
    bridges = tuple(
        replace(
            b,
            ports=tuple(
                replace(p, state="disabled") if p.name == veth.name else p for p in b.ports
            ),
        )
        for b in recorded.bridges
    )
    result = diff(recorded, replace(recorded, bridges=bridges))
    assert result.changes == (
        Change("bridge ports", "changed", f"{veth.master} {veth.name}", "forwarding -> disabled"),
    )
    assert result.bridges == {veth.master}
    assert result.containers == {MULTI}


def test_networks_joined_and_left(recorded) -> None:
    c = recorded.container(MULTI)
    new = _with_container(
        recorded,
        MULTI,
        networks=(*c.networks[:1], NetworkAttachment("cnetlab-net3", "172.30.9.2", None, None)),
    )
    details = {ch.detail for ch in diff(recorded, new).changes}
    assert f"left network {c.networks[1].name}" in details
    assert "joined network cnetlab-net3 (172.30.9.2)" in details


def test_published_ports(recorded) -> None:
    c = recorded.container(BRIDGED)
    extra = PublishedPort(53, "udp", "0.0.0.0", 5353)
    new = _with_container(recorded, BRIDGED, ports=(extra,))
    details = [ch.detail for ch in diff(recorded, new).changes]
    assert details == [
        "published 5353->53/udp",
        f"no longer published 127.0.0.1:{c.ports[0].host_port}->80/tcp",
    ]


def test_rules_line_by_line_without_counters(recorded) -> None:
    before = (DATA / "iptables-lab1.txt").read_text()
    after = (DATA / "iptables-lab1-drop.txt").read_text()
    old = replace(recorded, rulesets=(RulesetText("iptables-save", before),))
    new = replace(recorded, rulesets=(RulesetText("iptables-save", after),))
    result = diff(old, new)
    # the timestamps in the comments differ too: not rules
    assert result.changes == (
        Change("rules", "added", "ip filter", "DOCKER-USER: -s 172.17.0.4/32 -j DROP"),
    )
    assert diff(new, old).changes[0].kind == "removed"
    counted = after.replace("[0:0] -A DOCKER-USER", "[12:3456] -A DOCKER-USER").replace(
        ":INPUT ACCEPT [0:0]", ":INPUT ACCEPT [7:700]"
    )
    assert diff(new, replace(recorded, rulesets=(RulesetText("iptables-save", counted),))).equal


def test_a_policy_change_is_a_rule_change(recorded) -> None:
    before = (DATA / "iptables-lab1.txt").read_text()
    old = replace(recorded, rulesets=(RulesetText("iptables-save", before),))
    new = replace(
        recorded,
        rulesets=(
            RulesetText("iptables-save", before.replace(":FORWARD DROP", ":FORWARD ACCEPT")),
        ),
    )
    details = [(c.kind, c.detail) for c in diff(old, new).changes]
    assert details == [("added", "FORWARD: policy ACCEPT"), ("removed", "FORWARD: policy DROP")]


def test_nft_rules_ignore_handles_and_counters(recorded) -> None:
    def nft(rules: list[dict[str, object]]) -> RulesetText:
        meta = {"metainfo": {"version": "1.0.6", "json_schema_version": 1}}
        table = {"table": {"family": "inet", "name": "cnetrp", "handle": 1}}
        chain = {"chain": {"family": "inet", "table": "cnetrp", "name": "c", "handle": 2}}
        return RulesetText("nft -j", json.dumps({"nftables": [meta, table, chain, *rules]}))

    def rule(handle: int, packets: int, verdict: str) -> dict[str, object]:
        expr = [{"counter": {"packets": packets, "bytes": packets * 60}}, {verdict: None}]
        return {
            "rule": {
                "family": "inet",
                "table": "cnetrp",
                "chain": "c",
                "handle": handle,
                "expr": expr,
            }
        }

    old = replace(recorded, rulesets=(nft([rule(4, 0, "accept")]),))
    same = replace(recorded, rulesets=(nft([rule(9, 50, "accept")]),))
    dropped = replace(recorded, rulesets=(nft([rule(4, 0, "accept"), rule(5, 0, "drop")]),))
    assert diff(old, same).equal
    result = diff(old, dropped)
    assert [(c.kind, c.subject) for c in result.changes] == [("added", "inet cnetrp (nft)")]
    assert result.changes[0].detail == "c: counter drop"  # cnet rules' words, not raw JSON


def test_rules_recorded_on_one_side_only_are_a_note_not_a_change(recorded) -> None:
    new = replace(recorded, rulesets=(RulesetText("iptables-save", "*filter\nCOMMIT\n"),))
    result = diff(recorded, new)
    assert result.equal
    assert result.notes == (
        "the firewall rules are recorded only in the new snapshot: not compared",
    )
    assert "neither snapshot recorded" in diff(recorded, recorded).notes[0]


# -- the command ----------------------------------------------------------------------


def _pair(tmp_path: Path, recorded: Snapshot) -> tuple[Path, Path]:
    veth = _veth_of(recorded, BRIDGED).name
    new = _off_its_bridge(_with_container(recorded, MULTI, pid=12345), veth)
    old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
    old_path.write_text(dumps(recorded))
    new_path.write_text(dumps(new))
    return old_path, new_path


def test_cnet_diff_two_files_text(tmp_path, recorded) -> None:
    old, new = _pair(tmp_path, recorded)
    proc = cnet("diff", str(old), str(new))
    assert proc.returncode == 1, proc.stderr
    veth = _veth_of(recorded, BRIDGED).name
    assert f"  ~ host {veth}: moved bridge: docker0 -> no bridge" in proc.stdout
    assert f"  ~ {MULTI}: restarted: pid {recorded.container(MULTI).pid} -> 12345" in proc.stdout
    # counted by the section they are listed under: the counts add up to the list
    assert "2 changes: 1 containers, 1 interfaces (touching 2 containers, 1 host interface)" in (
        proc.stdout
    )
    assert proc.stderr == ""


def test_cnet_diff_json(tmp_path, recorded) -> None:
    old, new = _pair(tmp_path, recorded)
    proc = cnet("diff", "--json", str(old), str(new))
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["equal"] is False
    assert data["containers"] == [BRIDGED, MULTI]
    assert data["old"]["source"] == str(old)
    assert {c["section"] for c in data["changes"]} == {"containers", "interfaces"}
    assert set(data["changes"][0]) == {"section", "change", "subject", "detail"}


def test_cnet_diff_equal_is_exit_0() -> None:
    proc = cnet("diff", str(RECORDED), str(DATA / "tui-snapshot.json"))
    assert proc.returncode == 0, proc.stdout
    assert "no changes" in proc.stdout


def test_cnet_diff_against_the_global_load(tmp_path, recorded) -> None:
    old, new = _pair(tmp_path, recorded)
    proc = cnet("--load", str(new), "diff", str(old))
    assert proc.returncode == 1
    assert f"new: {new} (" in proc.stdout
    with old.open() as stdin:
        assert cnet("--load", str(old), "diff", "-", stdin=stdin).returncode == 0


def test_cnet_diff_bad_input_is_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert "not valid JSON" in assert_one_line_error(cnet("diff", str(bad), str(RECORDED)), 2)
    assert "no such file" in assert_one_line_error(cnet("diff", str(tmp_path / "x.json")), 2)
    line = assert_one_line_error(
        cnet("--load", str(RECORDED), "diff", str(RECORDED), str(RECORDED)), 2
    )
    assert "name one snapshot" in line
    assert_one_line_error(cnet("diff"), 2)


# -- the live lab (engine) --------------------------------------------------------------


def test_diff_on_the_live_lab(lab) -> None:
    """A container started between two snapshots, and a veth moved off its bridge and back."""
    from inspector.live.runner import collect_snapshot
    from tests.lab import PREFIX, sh

    before = collect_snapshot()
    name = PREFIX + "diffnew"
    lab.run(name)
    try:
        after = collect_snapshot()
        result = diff(before, after)
        added = [c for c in result.changes if c.section == "containers" and c.kind == "added"]
        assert [c.subject for c in added] == [name]
        assert name in result.containers
        veth = next(i for i in after.host.interfaces if i.container == name)
        assert veth.name in result.interfaces
        assert any(
            c.subject == f"host {veth.name}" and c.kind == "added" for c in result.changes
        ), result.changes
        bridge = veth.master
        assert bridge is not None
        sh("ip", "link", "set", veth.name, "nomaster")
        try:
            off = collect_snapshot()
        finally:
            sh("ip", "link", "set", veth.name, "master", bridge)
        moved = diff(after, off)
        assert any(
            c.subject == f"host {veth.name}"
            and c.detail.startswith(f"moved bridge: {bridge} -> no bridge")
            for c in moved.changes
        ), moved.changes
        assert moved.bridges >= {bridge} and name in moved.containers
        back = diff(after, collect_snapshot())
        assert not any(c.subject == f"host {veth.name}" for c in back.changes), back.changes
    finally:
        lab.remove(name)
