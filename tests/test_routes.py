"""Route messages as records: every type and table, protocols by iproute2's names, and
multipath nexthops, on messages recorded from a scratch namespace (pyroute2 0.9.7)."""

from __future__ import annotations

from typing import Any

from inspector.collect.netlink import route_record
from inspector.inventory import events as ev
from inspector.inventory import state as inventory
from inspector.model.records import NamespaceDump, NexthopRecord
from inspector.model.snapshot import Nexthop

_SHORT = {
    "RTA_DST": "dst",
    "RTA_GATEWAY": "gateway",
    "RTA_OIF": "oif",
    "RTA_PRIORITY": "priority",
    "RTA_TABLE": "table",
    "RTA_MULTIPATH": "multipath",
    "RTA_PREFSRC": "prefsrc",
    "RTA_VIA": "via",
}


class Msg:
    """What route_record uses of pyroute2's rtmsg: header fields by [], attributes by
    get() under their short names (as pyroute2 resolves ``get('dst')`` to RTA_DST)."""

    def __init__(self, header: dict[str, Any], attrs: list[tuple[str, Any]]) -> None:
        self._header = header
        self._attrs = {_SHORT.get(k, k): v for k, v in attrs}

    def __getitem__(self, key: str) -> Any:
        return self._header[key]

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._attrs:
            return self._attrs[key]
        return self._header.get(key, default)


class Nh(Msg):
    pass


def rt(
    family: int = 2,
    dst_len: int = 24,
    table: int = 254,
    proto: int = 3,
    scope: int = 0,
    type_: int = 1,
    attrs: list[tuple[str, Any]] | None = None,
) -> Msg:
    header = {
        "family": family,
        "dst_len": dst_len,
        "table": table,
        "proto": proto,
        "scope": scope,
        "type": type_,
    }
    return Msg(header, attrs or [])


# Recorded from `ip route add 10.77.20.0/24 nexthop via 10.77.1.2 dev cnns-a weight 1
# nexthop via 10.77.2.2 dev cnns-b weight 2` (ifindex 3 and 2 there).
MULTIPATH_V4 = rt(
    attrs=[
        ("RTA_TABLE", 254),
        ("RTA_DST", "10.77.20.0"),
        (
            "RTA_MULTIPATH",
            [
                Nh({"flags": 0, "hops": 0, "oif": 3}, [("RTA_GATEWAY", "10.77.1.2")]),
                Nh({"flags": 0, "hops": 1, "oif": 2}, [("RTA_GATEWAY", "10.77.2.2")]),
            ],
        ),
    ]
)
MULTIPATH_V6 = rt(
    family=10,
    dst_len=64,
    attrs=[
        ("RTA_TABLE", 254),
        ("RTA_DST", "fd77:20::"),
        ("RTA_PRIORITY", 1024),
        (
            "RTA_MULTIPATH",
            [
                Nh({"flags": 0, "hops": 2, "oif": 3}, [("RTA_GATEWAY", "fd77::2")]),
                Nh({"flags": 0, "hops": 0, "oif": 3}, [("RTA_GATEWAY", "fd77::3")]),
            ],
        ),
    ],
)


def test_a_multipath_route_keeps_every_nexthop_with_its_weight() -> None:
    r = route_record(MULTIPATH_V4)
    assert r is not None
    assert (r.dst, r.gateway, r.oif, r.type, r.table) == (
        "10.77.20.0/24",
        None,
        None,
        "unicast",
        "main",
    )
    assert r.nexthops == (NexthopRecord("10.77.1.2", 3, 1), NexthopRecord("10.77.2.2", 2, 2))
    route = r.route({2: "cnns-b", 3: "cnns-a"})
    assert route.nexthops == (Nexthop("10.77.1.2", "cnns-a", 1), Nexthop("10.77.2.2", "cnns-b", 2))
    assert route.gateways == ("10.77.1.2", "10.77.2.2") and not route.is_direct
    v6 = route_record(MULTIPATH_V6)
    assert v6 is not None and v6.metric == 1024
    assert [(n.gateway, n.weight) for n in v6.nexthops] == [("fd77::2", 3), ("fd77::3", 1)]


def test_every_route_type_by_its_iproute2_name() -> None:
    names = {}
    for number in (6, 7, 8, 9):
        r = route_record(rt(type_=number, attrs=[("RTA_TABLE", 254), ("RTA_DST", "10.77.10.0")]))
        assert r is not None
        names[number] = (r.type, r.gateway, r.oif, r.nexthops)
        assert not r.route({}).is_direct  # no gateway, yet nothing is on the link
    assert names == {
        6: ("blackhole", None, None, ()),
        7: ("unreachable", None, None, ()),
        8: ("prohibit", None, None, ()),
        9: ("throw", None, None, ()),
    }


def test_protocols_and_tables_by_name_or_number() -> None:
    zebra = route_record(
        rt(
            proto=11,
            attrs=[("RTA_DST", "10.77.21.0"), ("RTA_GATEWAY", "10.77.1.3"), ("RTA_OIF", 3)],
        )
    )
    assert zebra is not None and (zebra.protocol, zebra.gateway) == ("zebra", "10.77.1.3")
    other = route_record(rt(table=100, attrs=[("RTA_TABLE", 100), ("RTA_DST", "10.77.30.0")]))
    assert other is not None and other.table == "100"
    big = route_record(rt(table=252, attrs=[("RTA_TABLE", 51820), ("RTA_DST", "10.77.31.0")]))
    assert big is not None and big.table == "51820"  # past 255 the number is in RTA_TABLE only
    odd = route_record(rt(proto=77, attrs=[("RTA_DST", "10.77.32.0")]))
    assert odd is not None and odd.protocol == "77"


def test_the_kernels_own_local_table_is_left_out_but_a_local_route_added_is_kept() -> None:
    derived = rt(
        dst_len=32,
        table=255,
        proto=2,
        scope=254,
        type_=2,
        attrs=[("RTA_TABLE", 255), ("RTA_DST", "10.77.1.1"), ("RTA_OIF", 3)],
    )
    assert route_record(derived) is None
    added = rt(
        table=255,
        proto=3,
        scope=254,
        type_=2,
        attrs=[("RTA_TABLE", 255), ("RTA_DST", "10.77.40.0"), ("RTA_OIF", 1)],
    )
    r = route_record(added)
    assert r is not None and (r.type, r.table, r.protocol, r.scope) == (
        "local",
        "local",
        "boot",
        "host",
    )


def test_defaults_and_via() -> None:
    default = route_record(
        rt(
            dst_len=0,
            attrs=[("RTA_GATEWAY", "192.0.2.1"), ("RTA_OIF", 4), ("RTA_PREFSRC", "192.0.2.9")],
        )
    )
    assert default is not None and (default.dst, default.prefsrc) == ("default", "192.0.2.9")
    via = route_record(
        rt(
            attrs=[
                ("RTA_DST", "10.9.0.0"),
                ("RTA_VIA", {"family": 10, "addr": "fe80::1"}),
                ("RTA_OIF", 4),
            ]
        )
    )
    assert via is not None and via.gateway == "fe80::1"
    assert route_record(rt(family=7)) is None  # AF_BRIDGE: not a route cnet shows


def test_route_events_tell_routes_of_other_tables_and_types_apart() -> None:
    """A blackhole and a unicast route to one prefix, in main and in table 100: deleting
    one leaves the others."""
    unicast = route_record(rt(attrs=[("RTA_DST", "10.5.0.0"), ("RTA_OIF", 2)]))
    hole = route_record(rt(type_=6, attrs=[("RTA_DST", "10.5.0.0")]))
    table = route_record(
        rt(table=100, attrs=[("RTA_TABLE", 100), ("RTA_DST", "10.5.0.0"), ("RTA_OIF", 2)])
    )
    assert unicast and hole and table
    state = inventory.apply(inventory.State(), ev.HostDumped(NamespaceDump((), (), ())))
    for r in (unicast, hole, table):
        state = inventory.apply(state, ev.RouteAdded(r))
    state = inventory.apply(state, ev.RouteRemoved(hole))
    assert state.host.routes == (unicast, table)


def test_a_route_in_words_for_the_report() -> None:
    from inspector.model.paths import route_destination, route_gateway, route_words
    from inspector.model.snapshot import Route

    r = route_record(MULTIPATH_V4)
    assert r is not None
    multipath = r.route({2: "cnns-b", 3: "cnns-a"})
    assert route_words(multipath) == (
        "multipath: via 10.77.1.2 dev cnns-a weight 1, via 10.77.2.2 dev cnns-b weight 2"
    )
    assert "direct" not in route_gateway(multipath)
    hole = Route("10.5.0.0/16", None, None, "universe", "boot", None, type="blackhole")
    assert (route_words(hole), route_gateway(hole)) == ("blackhole", "blackhole")
    plain = Route("default", "10.0.0.1", "eth0", "universe", "static", None, table="100")
    assert (route_words(plain), route_destination(plain)) == (
        "via 10.0.0.1 dev eth0",
        "default (table 100)",
    )
    direct = Route("10.0.0.0/24", None, "eth0", "link", "kernel", None)
    assert (route_words(direct), route_gateway(direct)) == ("direct on eth0", "direct")
