"""What the live runner makes of single events, and how the reader tells a remote engine.

Pure or on stand-ins: no engine, no root.  The real streams are tested in
``test_live_engine.py``.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from inspector.collect import reader as reader_mod
from inspector.collect.engine import EngineEvent
from inspector.inventory import events as ev
from inspector.live.runner import (
    AF_BRIDGE,
    _Container,
    _Discover,
    _Link,
    engine_items,
    kernel_events,
)
from inspector.model.records import AddressRecord
from inspector.model.snapshot import Container


def event(kind: str, action: str, container: str | None = "c1") -> EngineEvent:
    return EngineEvent(kind, action, container, 0)


@pytest.mark.parametrize(
    ("kind", "action", "expected"),
    [
        ("container", "destroy", [ev.ContainerRemoved("c1")]),
        ("container", "start", [_Container("c1", namespace=True), _Discover()]),
        ("container", "unpause", [_Container("c1", namespace=True)]),
        ("container", "die", [_Container("c1", namespace=False), _Discover()]),
        ("container", "rename", [_Container("c1", namespace=False)]),
        ("network", "connect", [_Container("c1", namespace=True)]),
        ("network", "disconnect", [_Container("c1", namespace=True)]),
    ],
)
def test_engine_events_say_what_to_read_again(kind: str, action: str, expected: list[Any]) -> None:
    assert engine_items(event(kind, action)) == expected


def test_a_network_created_or_destroyed_concerns_no_container() -> None:
    assert engine_items(event("network", "create", None)) == []


def test_a_bridge_port_notification_reads_the_link_again() -> None:
    """AF_BRIDGE link messages carry the port state, not the link: the link is re-read."""
    assert kernel_events({"event": "RTM_NEWLINK", "family": AF_BRIDGE, "index": 7}) == [_Link(7)]


def test_a_deleted_link_is_removed() -> None:
    msg = {"event": "RTM_DELLINK", "family": socket.AF_UNSPEC, "index": 9}
    assert kernel_events(msg) == [ev.LinkRemoved(9)]


class FakeMsg(dict[str, Any]):
    """A netlink message as pyroute2 gives it: fields by key, attributes by ``get``."""

    def __init__(self, fields: dict[str, Any], attrs: dict[Any, Any]) -> None:
        super().__init__(fields)
        self.attrs = attrs

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        if key in self.attrs:
            return self.attrs[key]
        return super().get(key, default)


def test_address_and_route_notifications_become_events() -> None:
    add = FakeMsg(
        {"event": "RTM_NEWADDR", "family": socket.AF_INET, "index": 3, "prefixlen": 24},
        {"local": "10.9.8.1"},
    )
    assert kernel_events(add) == [ev.AddressAdded(AddressRecord(3, "10.9.8.1/24"))]
    route = FakeMsg(
        {
            "event": "RTM_DELROUTE",
            "family": socket.AF_INET,
            "table": 254,
            "type": 1,
            "dst_len": 24,
            "scope": 253,
            "proto": 2,
        },
        {"dst": "10.9.8.0", "oif": 3},
    )
    (removed,) = kernel_events(route)
    assert isinstance(removed, ev.RouteRemoved)
    assert (removed.route.dst, removed.route.oif, removed.route.protocol) == (
        "10.9.8.0/24",
        3,
        "kernel",
    )
    local = FakeMsg({**route, "table": 255}, {"dst": "10.9.8.1", "table": 255})
    assert kernel_events(local) == []  # the local table is not shown


class FakeEngine:
    url = "http://192.0.2.10:2375"
    on_this_host = None

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def inspect_pids(self, ids: Any) -> tuple[dict[str, int | None], dict[str, str]]:
        return {cid: self.pids.get(cid) for cid in ids}, {}

    def close(self) -> None:
        pass


def running(cid: str) -> Container:
    return Container(cid, f"name-{cid}", "img", "running", None, "default")


def test_a_tcp_engine_whose_pids_are_not_this_hosts_is_named_remote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No cgroup here knows the containers, and the pids the engine gives belong to other
    processes (pid 1 is this host's init): the engine is another host's."""
    monkeypatch.setattr(reader_mod.CgroupPids, "pid", lambda self, cid: None)
    monkeypatch.setattr(reader_mod.Netlink, "__init__", lambda self: None)
    r = reader_mod.Reader()
    r._engine = FakeEngine({"a" * 64: 1, "b" * 64: 1})  # type: ignore[assignment]
    r._root = True
    out = r.namespaces([running("a" * 64), running("b" * 64)])
    notices = [e for e in out if isinstance(e, ev.Notice)]
    assert [n.key for n in notices] == ["remote"]
    assert "192.0.2.10:2375 is not on this host" in (notices[0].text or "")
    assert "cnet --host ssh://" in (notices[0].text or "")
    assert not any(isinstance(e, ev.NamespaceRead) for e in out)
