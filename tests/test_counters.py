"""Interface counters on recorded data: a veth's container side is its host side swapped;
an interface with no host end is read from its own namespace's table."""

from __future__ import annotations

import os

import pytest

from inspector.collect.counters import (
    Counters,
    container_counters,
    namespace_counters,
    needs_namespace,
    parse_net_dev,
)
from inspector.model.snapshot import Snapshot

NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:  123456     789    1    2    0     0          0         0    65432     321    3    4    0     0       0          0
"""


def test_proc_net_dev_is_read_by_column() -> None:
    eth0 = parse_net_dev(NET_DEV)["eth0"]
    assert eth0 == Counters(
        123456, 65432, 789, 321, rx_dropped=2, tx_dropped=4, rx_errors=1, tx_errors=3
    )


def test_this_process_namespace_table_matches_the_kernel() -> None:
    """Read through the pid, the table is this namespace's own (links may come and go on a
    busy host between the two reads, so only what both saw is compared)."""
    got = namespace_counters(os.getpid())
    with open("/proc/self/net/dev") as fh:
        after = parse_net_dev(fh.read())
    assert "lo" in got and got.keys() & after.keys()
    for name in got.keys() & after.keys():
        assert got[name].rx_packets <= after[name].rx_packets  # counters only grow
    assert namespace_counters(2**22 + 12345) == {}  # no such pid: nothing, no error


def test_veths_come_from_the_host_side_swapped_and_macvlan_from_inside(recorded: Snapshot) -> None:
    bridge = recorded.container("cnetlab-bridge")
    macvlan = recorded.container("cnetlab-macvlan")
    assert bridge is not None and macvlan is not None
    veth = next(i for i in bridge.interfaces if i.peer is not None)
    assert veth.peer is not None
    host = {veth.peer.name: Counters(rx_bytes=10, tx_bytes=20, rx_packets=1, tx_packets=2)}
    inside = {macvlan.name: parse_net_dev(NET_DEV)}
    assert needs_namespace(macvlan) and not needs_namespace(bridge)
    got = container_counters(recorded, host, inside)
    assert got[(bridge.name, veth.name)] == Counters(
        rx_bytes=20, tx_bytes=10, rx_packets=2, tx_packets=1
    )
    assert got[(macvlan.name, "eth0")].rx_bytes == 123456
    assert (bridge.name, "lo") not in got  # lo is not on the host, and not asked for


def test_host_counters_keep_a_quiet_interfaces_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read again, an interface whose numbers did not move is the same Counters object
    (so the meter's quiet path is an identity check), one that moved is read anew, one
    that went away is gone; a veth's other side is made once per object."""
    import psutil

    from inspector.collect.counters import HostCounters

    snetio = type(psutil.net_io_counters(pernic=True)["lo"])  # psutil's own tuple
    reads = iter(
        [
            {"a": snetio(1, 2, 3, 4, 0, 0, 0, 0), "b": snetio(5, 6, 7, 8, 0, 0, 0, 0)},
            {"a": snetio(1, 2, 3, 4, 0, 0, 0, 0), "b": snetio(9, 6, 7, 8, 0, 0, 0, 0)},
            {"b": snetio(9, 6, 7, 8, 0, 0, 0, 0)},
        ]
    )
    monkeypatch.setattr(psutil, "net_io_counters", lambda **_: next(reads))
    host = HostCounters()
    first, second, third = host.read(), host.read(), host.read()
    assert second["a"] is first["a"] and second["b"] is not first["b"]
    assert second["b"] == Counters(rx_bytes=6, tx_bytes=9, rx_packets=8, tx_packets=7)
    assert third["b"] is second["b"] and "a" not in third
    assert first["a"].swapped() is first["a"].swapped()
    assert first["a"].swapped() == Counters(rx_bytes=1, tx_bytes=2, rx_packets=3, tx_packets=4)
