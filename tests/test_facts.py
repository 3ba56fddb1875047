"""Facts over labels in the words and plans other layers use: a none container with
interfaces has a network, a namespace with no process cannot be pinged from."""

from __future__ import annotations

import dataclasses

import pytest

from inspector.actions.ping import PingError, plan_ping
from inspector.model.paths import container_summary, loopback_only
from inspector.model.snapshot import Container, Interface, Snapshot
from inspector.model.words import network_label


def test_a_none_container_with_interfaces_is_labelled_plumbed(recorded) -> None:
    none = next(c for c in recorded.containers if c.network_mode == "none")
    assert (network_label(none), loopback_only(none)) == ("none", True)
    eth0 = Interface("eth0", 7, iflink=8, kind="veth", state="up", addresses=("172.31.0.2/24",))
    plumbed = dataclasses.replace(none, interfaces=(*none.interfaces, eth0))
    assert (network_label(plumbed), loopback_only(plumbed)) == ("none, plumbed", False)
    assert "loopback only" not in container_summary(recorded, plumbed)


def test_ping_from_a_namespace_no_process_holds_says_why() -> None:
    ns = Container("netns:cnns-a", "cnns-a", "", "running", None, "namespace", runtime="netns")
    with pytest.raises(PingError, match="no process to enter its namespace by"):
        plan_ping(Snapshot("t", "h", containers=(ns,)), "cnns-a")


def test_a_veth_to_another_workload_reads_as_such_and_its_address_is_shown(recorded) -> None:
    from inspector.model.paths import addresses, interface_path
    from inspector.model.snapshot import PeerRef

    eth0 = Interface(
        "toB",
        3,
        iflink=4,
        kind="veth",
        addresses=("10.252.1.1/29",),
        peer=PeerRef("toA", 4, None, "cnns-b"),
    )
    w = Container(
        "netns:cnns-a",
        "cnns-a",
        "",
        "running",
        None,
        "namespace",
        runtime="netns",
        interfaces=(Interface("lo", 1), eth0),
    )
    assert interface_path(recorded, w, eth0) == "toB 10.252.1.1 -> toA in cnns-b"
    assert addresses(w) == ("10.252.1.1",)
