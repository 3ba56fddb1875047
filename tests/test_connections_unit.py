"""The pure parts of connections: MIB parsing, conntrack messages, the doctor's TCP step."""

from __future__ import annotations

import json
from dataclasses import replace

from jsonschema import Draft202012Validator

from inspector.collect.conntrack import Flow, Tuple, flow_from, involves, top_talkers
from inspector.collect.snmp import health_from, parse_mib
from inspector.doctor.model import Check, DoctorFacts
from inspector.doctor.tcp import check_tcp
from inspector.model.snapshot import (
    NamespaceConnections,
    RecordedConnections,
    RecordedFlow,
    RecordedListener,
    Snapshot,
    TcpHealth,
)
from inspector.render.diff import diff
from inspector.render.markdown import render_markdown
from inspector.render.snapshot_json import dumps, from_dict
from tests.test_schema import SCHEMA
from tests.tui_fakes import bridged_container

SNMP = """\
Tcp: RtoAlgorithm RtoMin OutSegs RetransSegs OutRsts EstabResets AttemptFails InErrs
Tcp: 1 200 12000 22 100 1 3 0
Udp: InDatagrams InErrors RcvbufErrors
Udp: 134 5 4
"""
NETSTAT = """\
TcpExt: SyncookiesSent ListenOverflows ListenDrops
TcpExt: 3 28 29
"""


def test_mib_pairs_are_read_by_name() -> None:
    assert parse_mib(SNMP)["Udp"] == {"InDatagrams": 134, "InErrors": 5, "RcvbufErrors": 4}
    h = health_from(SNMP, NETSTAT)
    assert (h.out_segs, h.retrans_segs, h.out_rsts, h.estab_resets) == (12000, 22, 100, 1)
    assert (h.listen_overflows, h.listen_drops, h.udp_rcvbuf_errors) == (28, 29, 4)
    assert health_from("garbage\nTcp: 1 2\n", "") == TcpHealth()


def _msg(orig: tuple[str, int, str, int], reply: tuple[str, int, str, int]) -> object:
    """A ctnetlink entry as the kernel sends it: encoded, then parsed by pyroute2's
    ``nfct_msg``, as ``read_flows`` gets it (with a status and an id it leaves out)."""
    from pyroute2.netlink.nfnetlink.nfctsocket import nfct_msg

    def tup(t: tuple[str, int, str, int]) -> dict[str, object]:
        ip = {"attrs": [["CTA_IP_V4_SRC", t[0]], ["CTA_IP_V4_DST", t[2]]]}
        proto = {
            "attrs": [
                ["CTA_PROTO_NUM", 6],
                ["CTA_PROTO_SRC_PORT", t[1]],
                ["CTA_PROTO_DST_PORT", t[3]],
            ]
        }
        return {"attrs": [["CTA_TUPLE_IP", ip], ["CTA_TUPLE_PROTO", proto]]}

    tcp = {"attrs": [["CTA_PROTOINFO_TCP_STATE", 3]]}
    counters = {"attrs": [["CTA_COUNTERS_PACKETS", 3], ["CTA_COUNTERS_BYTES", 300]]}
    msg = nfct_msg()
    msg["attrs"] = [
        ["CTA_TUPLE_ORIG", tup(orig)],
        ["CTA_TUPLE_REPLY", tup(reply)],
        ["CTA_STATUS", 0x18E],
        ["CTA_TIMEOUT", 431999],
        ["CTA_PROTOINFO", {"attrs": [["CTA_PROTOINFO_TCP", tcp]]}],
        ["CTA_COUNTERS_ORIG", counters],
        ["CTA_COUNTERS_REPLY", counters],
        ["CTA_ID", 7],
    ]
    msg.encode()
    parsed = nfct_msg(bytes(msg.data))
    parsed.decode()
    return parsed


def test_published_port_reads_as_dnat_and_outbound_as_masquerade() -> None:
    inbound = flow_from(
        _msg(("10.0.0.9", 5555, "10.0.0.1", 18181), ("172.17.0.4", 80, "10.0.0.9", 5555)),
        accounting=True,
    )
    assert inbound.dnat and not inbound.snat
    assert inbound.text() == "10.0.0.9:5555 -> 10.0.0.1:18181 DNAT -> 172.17.0.4:80"
    assert (inbound.state, inbound.timeout_s, inbound.bytes, inbound.packets) == (
        "ESTABLISHED",
        431999,
        600,
        6,
    )
    outbound = flow_from(
        _msg(("172.17.0.4", 40000, "198.51.100.7", 443), ("198.51.100.7", 443, "10.0.0.1", 40000)),
        accounting=False,
    )
    assert outbound.snat and not outbound.dnat and outbound.bytes is None
    assert outbound.text().endswith("MASQUERADE as 10.0.0.1:40000")
    assert involves(inbound, ["172.17.0.4"]) and involves(outbound, ["172.17.0.4"])
    assert not involves(inbound, ["172.17.0.5"])


def test_top_talkers_rank_peers_by_bytes() -> None:
    def flow(peer: str, n: int | None) -> Flow:
        t = Tuple("172.17.0.4", 1, peer, 2)
        return Flow("tcp", "ESTABLISHED", 10, t, Tuple(peer, 2, "172.17.0.4", 1), n, 1)

    flows = [flow("10.0.0.1", 10), flow("10.0.0.2", 500), flow("10.0.0.1", 20), flow("x", None)]
    ranked = top_talkers(flows, ["172.17.0.4"])
    assert [(t.peer, t.bytes, t.flows) for t in ranked] == [
        ("10.0.0.2", 500, 1),
        ("10.0.0.1", 30, 2),
    ]
    assert top_talkers([flow("x", None)], ["172.17.0.4"]) == []


class _Ctx:
    """The little of a doctor Context the TCP step reads."""

    def __init__(self, health: TcpHealth | None) -> None:
        self.owner = type("O", (), {"name": "web"})()
        self.facts = DoctorFacts(tcp_health={} if health is None else {"web": health})


def _tcp(health: TcpHealth | None) -> Check:
    return check_tcp(_Ctx(health))  # type: ignore[arg-type]


def test_doctor_warns_on_overflows_and_retransmits_with_numbers() -> None:
    calm = TcpHealth(out_segs=10000, retrans_segs=100)
    assert _tcp(calm).status == "pass"
    assert _tcp(None).status == "skip"
    overflow = _tcp(replace(calm, listen_overflows=7, listen_drops=7))
    assert overflow.status == "warn" and "7 listen queue overflows" in overflow.summary
    assert ("listen overflows / drops", "7 / 7") in overflow.evidence
    lossy = _tcp(replace(calm, retrans_segs=300))
    assert lossy.status == "warn" and "3.0% of TCP segments" in lossy.summary
    # too few segments to judge a ratio
    assert _tcp(TcpHealth(out_segs=10, retrans_segs=5)).status == "pass"


def test_exporter_has_one_tcp_series_per_namespace() -> None:
    from pathlib import Path

    from inspector.exporter.metrics import read_tcp, tcp_families
    from inspector.render.snapshot_json import load_snapshot

    snapshot = load_snapshot(Path(__file__).parent / "data" / "tui-snapshot.json")
    pids = {c.pid: c.name for c in snapshot.containers}
    read = {pid: TcpHealth(retrans_segs=n, listen_drops=2 * n) for n, pid in enumerate(pids)}
    families = {
        f.name: f for f in tcp_families(snapshot, read_tcp(snapshot, lambda pid: read.get(pid)))
    }
    retrans = {
        s.labels["container"]: s.value for s in families["cnet_tcp_retransmitted_segments"].samples
    }
    owners = {
        c.name
        for c in snapshot.containers
        if c.running and c.netns_shared_with is None and c.network_mode != "host"
    }
    assert set(retrans) == owners  # no series for host mode, container:X or stopped ones
    for name, value in retrans.items():
        pid = next(c.pid for c in snapshot.containers if c.name == name)
        assert value == read[pid].retrans_segs
    drops = families["cnet_tcp_listen_drops"].samples
    assert all(s.name == "cnet_tcp_listen_drops_total" for s in drops)


# --- snapshots, diff, reports ---------------------------------------------------------


def with_listeners(snapshot: Snapshot, *listeners: RecordedListener) -> Snapshot:
    c = bridged_container(snapshot)
    ns = NamespaceConnections(c.name, listeners, TcpHealth(out_segs=9, listen_drops=1))
    return replace(snapshot, connections=RecordedConnections((ns,)))


HTTPD = RecordedListener("tcp", "0.0.0.0", 80, "httpd")
SSHD = RecordedListener("tcp", "::", 22, "sshd")


def test_connections_round_trip_and_old_files_still_load(recorded: Snapshot) -> None:
    assert recorded.connections is None  # recorded before connections existed
    assert "connections" not in json.loads(dumps(recorded))  # what it wrote, unchanged
    flow = RecordedFlow("tcp", "ESTABLISHED", "a:1 -> b:2", "c:3 -> a:1", "DNAT", None, None)
    c = bridged_container(recorded)
    ns = NamespaceConnections(c.name, (HTTPD,), TcpHealth(retrans_segs=3), (flow,))
    full = replace(recorded, connections=RecordedConnections((ns,)))
    data = json.loads(dumps(full))
    Draft202012Validator(SCHEMA).validate(data)
    assert from_dict(data) == full
    data["connections"]["namespaces"][0]["listeners"][0]["port"] = 70000
    assert not Draft202012Validator(SCHEMA).is_valid(data)


def test_diff_names_a_listener_that_appeared_or_vanished(recorded: Snapshot) -> None:
    c = bridged_container(recorded)
    before = with_listeners(recorded, HTTPD)
    after = with_listeners(recorded, SSHD)
    changes = [ch for ch in diff(before, after).changes if ch.section == "listeners"]
    assert [(ch.kind, ch.subject, ch.detail) for ch in changes] == [
        ("added", c.name, "tcp [::]:22 (sshd)"),
        ("removed", c.name, "tcp 0.0.0.0:80 (httpd)"),
    ]
    assert c.name in diff(before, after).containers
    # counters and a snapshot without connections are never a change
    louder = replace(
        before,
        connections=RecordedConnections(
            (replace(before.connections.namespaces[0], tcp_health=TcpHealth(out_segs=99)),)  # type: ignore[union-attr]
        ),
    )
    assert diff(before, louder).equal and diff(recorded, before).equal


def test_report_shows_listeners_and_port_chains_with_verdicts(recorded: Snapshot) -> None:
    c = bridged_container(recorded)
    port = next(p for p in c.ports if p.host_port is not None)
    listening = render_markdown(with_listeners(recorded, HTTPD))
    assert "## Listeners" in listening and "## Published ports" in listening
    assert f"| {c.name} | tcp | 0.0.0.0 | 80 | httpd |" in listening
    assert "| httpd 0.0.0.0:80 | listening |" in listening
    nothing = render_markdown(with_listeners(recorded, SSHD))
    assert f"{port.host_port}/tcp | {c.ips[0]}:80 | none | nothing listens |" in nothing
    loopback = render_markdown(with_listeners(recorded, RecordedListener("tcp", "127.0.0.1", 80)))
    assert "| ? 127.0.0.1:80 | loopback only |" in loopback
    assert "## Listeners" not in render_markdown(recorded)
