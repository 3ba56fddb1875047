"""The doctor's checks on recorded data: the healthy walk, each fault made by editing a copy.

Faults are built with ``dataclasses.replace`` on the recorded lab snapshot, and the
ruleset is parsed from iptables-save text shaped like Docker's (built from the recorded
bridges, so a re-recorded snapshot keeps working).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from inspector.doctor import (
    CHECK_IDS,
    IPV6_CHECK_IDS,
    ContainerReport,
    DnsFacts,
    DoctorFacts,
    GatewayPing,
    Listener,
    display_order,
    format_report,
    format_reports,
    reports_to_dict,
    run_checks,
    worst_status,
)
from inspector.model.snapshot import Container, Interface, Snapshot, TcpHealth
from inspector.rules import Rulesets, parse_iptables_save


def role(snapshot: Snapshot, suffix: str) -> Container:
    return next(c for c in snapshot.containers if c.name.endswith("-" + suffix))


def eth0(c: Container) -> Interface:
    return next(i for i in c.interfaces if i.name == "eth0")


def docker_rules(snapshot: Snapshot, **changes: object) -> Rulesets:
    """Docker's own rules for every recorded bridge, plus extra lines for the test."""
    return Rulesets(tables=parse_iptables_save(docker_rules_text(snapshot, **changes), "ip"))  # type: ignore[arg-type]


def docker_rules_text(
    snapshot: Snapshot,
    *,
    filter_extra: str = "",
    drop_masq: str = "",
    drop_accept: str = "",
    forward_policy: str = "DROP",
    publish: bool = True,
) -> str:
    """``docker_rules`` as iptables-save prints them."""
    forward, masq = [], []
    for b in snapshot.bridges:
        v4 = next(
            (
                ipaddress.ip_interface(a)
                for a in b.addresses
                if ipaddress.ip_interface(a).version == 4
            ),
            None,
        )
        forward += [
            f"-A FORWARD -o {b.name} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            f"-A FORWARD -o {b.name} -j DOCKER",
            *([f"-A FORWARD -i {b.name} ! -o {b.name} -j ACCEPT"] if b.name != drop_accept else []),
            f"-A FORWARD -i {b.name} -o {b.name} -j ACCEPT",
        ]
        if v4 is not None and str(v4.network) != drop_masq:
            masq.append(f"-A POSTROUTING -s {v4.network} ! -o {b.name} -j MASQUERADE")
    dnat = [
        f"-A DOCKER ! -i docker0 -p {p.protocol} -m {p.protocol} --dport {p.host_port} "
        f"-j DNAT --to-destination {c.ips[0]}:{p.container_port}"
        for c in snapshot.containers
        for p in c.ports
        if p.host_port and c.ips and publish
    ]
    text = "\n".join(
        [
            "*filter",
            ":INPUT ACCEPT [0:0]",
            f":FORWARD {forward_policy} [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            ":DOCKER - [0:0]",
            ":DOCKER-USER - [0:0]",
            "-A FORWARD -j DOCKER-USER",
            *forward,
            *([filter_extra] if filter_extra else []),
            "-A DOCKER-USER -j RETURN",
            "COMMIT",
            "*nat",
            ":POSTROUTING ACCEPT [0:0]",
            ":DOCKER - [0:0]",
            *masq,
            *dnat,
            "COMMIT",
            "",
        ]
    )
    return text


EMBEDDED_DNS_RULES = """*nat
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER_OUTPUT - [0:0]
:DOCKER_POSTROUTING - [0:0]
-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT
-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING
-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:40383
-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:51155
-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport 40383 -j SNAT --to-source :53
-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport 51155 -j SNAT --to-source :53
COMMIT
"""
RESOLVER = (Listener("tcp", "127.0.0.11", 40383), Listener("udp", "127.0.0.11", 51155))


def _user_defined(c: Container) -> bool:
    return any(n.name not in ("bridge", "host", "none") and n.ip for n in c.networks)


def healthy_facts(snapshot: Snapshot, **changes: object) -> DoctorFacts:
    """Every fact as a healthy host gives it: pings answered, Docker's rules, a listener
    behind each published port, resolvers set up as Docker sets them."""
    pings = {
        c.name: GatewayPing(c.networks[0].gateway or "", 2, 2, 0.05)
        for c in snapshot.containers
        if c.running and c.networks and c.networks[0].gateway
    }
    listeners = {
        c.name: (
            *(Listener(p.protocol, "0.0.0.0", p.container_port) for p in c.ports),
            *(RESOLVER if _user_defined(c) else ()),
        )
        for c in snapshot.containers
        if c.running
    }
    dns = {
        c.name: (
            DnsFacts(
                resolv_conf="nameserver 127.0.0.11\noptions ndots:0\n",
                rulesets=Rulesets(tables=parse_iptables_save(EMBEDDED_DNS_RULES)),
            )
            if _user_defined(c)
            else DnsFacts(resolv_conf="search lab\nnameserver 192.0.2.53\n")
        )
        for c in snapshot.containers
        if c.running
    }
    facts = DoctorFacts(
        ip_forward="1",
        rulesets=docker_rules(snapshot),
        pings=pings,
        ip6_forward="1",
        listeners=listeners,
        host_listeners=(),
        dns=dns,
        tcp_health={c.name: TcpHealth(out_segs=5000, retrans_segs=10) for c in snapshot.containers},
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


# The recorded host's uplink has MTU 1400 under containers at 1500 (a real fault here,
# tested on its own): the "healthy" tests use a copy whose uplink is 1500.
PASSING = {i: ("skip" if i in IPV6_CHECK_IDS else "pass") for i in CHECK_IDS}
UNPUBLISHED = {**PASSING, "ports": "skip"}  # no published port: nothing to check


@pytest.fixture
def fit(recorded: Snapshot) -> Snapshot:
    return with_host_link(recorded, "eth0", lambda i: replace(i, mtu=1500))


def with_host_link(
    snapshot: Snapshot, name: str, change: Callable[[Interface], Interface]
) -> Snapshot:
    host = replace(
        snapshot.host,
        interfaces=tuple(change(i) if i.name == name else i for i in snapshot.host.interfaces),
    )
    return replace(snapshot, host=host)


def with_container(snapshot: Snapshot, new: Container) -> Snapshot:
    return replace(
        snapshot,
        containers=tuple(new if c.name == new.name else c for c in snapshot.containers),
    )


def with_eth0(
    snapshot: Snapshot, c: Container, change: Callable[[Interface], Interface]
) -> Snapshot:
    interfaces = tuple(change(i) if i.name == "eth0" else i for i in c.interfaces)
    return with_container(snapshot, replace(c, interfaces=interfaces))


def statuses(report: ContainerReport) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


def test_healthy_bridge_container_passes_every_check(fit: Snapshot) -> None:
    bridge = role(fit, "bridge")
    report = run_checks(fit, bridge.name, healthy_facts(fit))
    assert [c.id for c in report.checks] == list(CHECK_IDS)
    assert statuses(report) == PASSING, report
    assert worst_status(report) == "pass" and report.first_failure is None
    veth, peer = report.check("veth"), eth0(bridge).peer
    assert veth is not None and peer is not None
    assert ("eth0 host end", peer.name) in veth.evidence


def test_multi_network_container_checks_both_networks(fit: Snapshot) -> None:
    multi = role(fit, "multi")
    report = run_checks(fit, multi, healthy_facts(fit))
    assert statuses(report) == UNPUBLISHED
    masq = report.check("masquerade")
    assert masq is not None
    for net in multi.networks:
        assert net.gateway and net.gateway.rsplit(".", 1)[0] in masq.summary


def test_veth_off_its_bridge_fails_naming_veth_and_bridge(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    veth = eth0(bridge).peer
    assert veth is not None
    broken = with_host_link(recorded, veth.name, lambda i: replace(i, master=None))
    report = run_checks(broken, bridge.name, healthy_facts(broken))
    check = report.check("veth")
    assert check is not None and check.status == "fail"
    assert veth.name in check.summary and "docker0" in check.summary
    assert check.fix == f"ip link set {veth.name} master docker0"
    assert report.first_failure is check


def test_veth_down_fails_saying_it_is_down(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    veth = eth0(bridge).peer
    assert veth is not None
    broken = with_host_link(recorded, veth.name, lambda i: replace(i, state="down"))
    broken = with_eth0(broken, bridge, lambda i: replace(i, state="lowerlayerdown"))
    report = run_checks(broken, bridge.name, healthy_facts(broken))
    check = report.check("veth")
    assert check is not None and check.status == "fail"
    assert f"{veth.name} (host end of eth0) is down" in check.summary
    assert check.fix == f"ip link set {veth.name} up"
    interface = report.check("interface")
    assert interface is not None and interface.status == "fail"
    assert f"its host end {veth.name} is down" in interface.summary


def test_drop_in_docker_user_fails_showing_the_rule(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    ip = bridge.ips[0]
    rules = docker_rules(recorded, filter_extra=f"-A DOCKER-USER -d {ip}/32 -j DROP")
    report = run_checks(recorded, bridge.name, healthy_facts(recorded, rulesets=rules))
    check = report.check("forward-drop")
    assert check is not None and check.status == "fail"
    assert "DOCKER-USER" in check.summary
    assert any(
        "DOCKER-USER" in key and f"-A DOCKER-USER -d {ip}/32 -j DROP" in value
        for key, value in check.evidence
    )
    assert check.fix == f"iptables -t filter -D DOCKER-USER -d {ip}/32 -j DROP"
    # Someone else's address is not its problem.
    other = docker_rules(recorded, filter_extra="-A DOCKER-USER -d 192.0.2.77/32 -j DROP")
    clean = run_checks(recorded, bridge.name, healthy_facts(recorded, rulesets=other))
    assert statuses(clean)["forward-drop"] == "pass"


def test_forward_policy_drop_without_an_accept_for_its_bridge_fails(recorded: Snapshot) -> None:
    """A firewall reload flushed Docker's ACCEPT for docker0 and kept the DROP policy."""
    bridge = role(recorded, "bridge")
    uplink = next(r.dev for r in recorded.host.routes if r.dst == "default")
    healthy = run_checks(recorded, bridge.name, healthy_facts(recorded)).check("forward-drop")
    assert healthy is not None and healthy.status == "pass"
    assert (
        f"new connections from docker0 to {uplink} [ip filter]",
        "may be accepted by -A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
    ) in healthy.evidence
    rules = docker_rules(recorded, drop_accept="docker0")
    report = run_checks(recorded, bridge.name, healthy_facts(recorded, rulesets=rules))
    check = report.check("forward-drop")
    assert check is not None and check.status == "fail"
    assert check.summary == (
        "FORWARD's policy is DROP and no rule accepts new connections from docker0"
    )
    assert check.fix == "iptables -t filter -I FORWARD -i docker0 ! -o docker0 -j ACCEPT"
    # The other bridges keep their ACCEPT: their containers are not affected.
    multi = role(recorded, "multi")
    assert (
        statuses(run_checks(recorded, multi.name, healthy_facts(recorded, rulesets=rules)))[
            "forward-drop"
        ]
        == "pass"
    )
    # An --internal network has no way out by design: nothing to accept.
    internal = healthy_facts(
        recorded, rulesets=rules, no_nat={bridge.networks[0].name: "internal network: ..."}
    )
    assert statuses(run_checks(recorded, bridge.name, internal))["forward-drop"] == "pass"
    # Under an ACCEPT policy nothing needs accepting.
    lax = docker_rules(recorded, drop_accept="docker0", forward_policy="ACCEPT")
    assert (
        statuses(run_checks(recorded, bridge.name, healthy_facts(recorded, rulesets=lax)))[
            "forward-drop"
        ]
        == "pass"
    )


def test_reject_on_its_bridge_in_docker_user_fails(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    rules = docker_rules(recorded, filter_extra="-A DOCKER-USER -i docker0 -j REJECT")
    report = run_checks(recorded, bridge.name, healthy_facts(recorded, rulesets=rules))
    assert statuses(report)["forward-drop"] == "fail"


def test_missing_masquerade_and_ip_forward_off_fail(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    subnet = str(ipaddress.ip_interface(eth0(bridge).addresses[0]).network)
    facts = healthy_facts(
        recorded, ip_forward="0", rulesets=docker_rules(recorded, drop_masq=subnet)
    )
    report = run_checks(recorded, bridge.name, facts)
    masq, fwd = report.check("masquerade"), report.check("ip-forward")
    assert masq is not None and masq.status == "fail" and subnet in masq.summary
    assert masq.fix == f"iptables -t nat -A POSTROUTING -s {subnet} ! -o docker0 -j MASQUERADE"
    assert fwd is not None and fwd.status == "fail"
    assert fwd.fix == "sysctl -w net.ipv4.ip_forward=1"
    assert ("net.ipv4.ip_forward", "0") in fwd.evidence


def test_mtu_mismatch_warns(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    smaller = with_eth0(recorded, bridge, lambda i: replace(i, mtu=1400))
    report = run_checks(smaller, bridge.name, healthy_facts(smaller))
    check = report.check("mtu")
    assert check is not None and check.status == "warn"
    assert "eth0 has MTU 1400 but docker0 has 1500" in check.summary
    assert worst_status(report) == "warn" and report.first_failure is None


def test_gateway_outcomes(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    gw = bridge.networks[0].gateway or ""
    silent = healthy_facts(recorded, pings={bridge.name: GatewayPing(gw, 2, 0)})
    check = run_checks(recorded, bridge.name, silent).check("gateway")
    assert check is not None and check.status == "fail" and check.fix == "cnet rules docker0"
    error = healthy_facts(recorded, pings={bridge.name: GatewayPing(gw, error="no route")})
    check = run_checks(recorded, bridge.name, error).check("gateway")
    assert check is not None and check.status == "fail" and "no route" in check.summary
    unpinged = healthy_facts(recorded, pings={})
    assert statuses(run_checks(recorded, bridge.name, unpinged))["gateway"] == "skip"


def test_route_faults(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    gw = bridge.networks[0].gateway
    no_default = with_container(
        recorded, replace(bridge, routes=tuple(r for r in bridge.routes if r.dst != "default"))
    )
    check = run_checks(no_default, bridge.name, healthy_facts(no_default)).check("route")
    assert check is not None and check.status == "fail"
    assert check.fix == f"nsenter -t {bridge.pid} -n ip route add default via {gw}"
    elsewhere = with_container(
        recorded,
        replace(
            bridge,
            routes=tuple(
                replace(r, gateway="172.17.0.254") if r.dst == "default" else r
                for r in bridge.routes
            ),
        ),
    )
    check = run_checks(elsewhere, bridge.name, healthy_facts(elsewhere)).check("route")
    assert check is not None and check.status == "fail" and "172.17.0.254" in check.summary


def test_bridge_faults(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    gw = bridge.networks[0].gateway or ""
    docker0 = recorded.bridge("docker0")
    assert docker0 is not None
    stripped = replace(
        recorded,
        bridges=tuple(
            replace(b, addresses=tuple(a for a in b.addresses if not a.startswith(gw + "/")))
            if b.name == "docker0"
            else b
            for b in recorded.bridges
        ),
    )
    check = run_checks(stripped, bridge.name, healthy_facts(stripped)).check("bridge")
    assert check is not None and check.status == "fail"
    assert check.fix == f"ip addr add {gw}/16 dev docker0"
    down = replace(
        recorded,
        bridges=tuple(
            replace(b, state="down") if b.name == "docker0" else b for b in recorded.bridges
        ),
    )
    check = run_checks(down, bridge.name, healthy_facts(down)).check("bridge")
    assert check is not None and check.status == "fail" and "docker0 is down" in check.summary


def test_docker_address_on_no_interface_fails(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    moved = with_eth0(recorded, bridge, lambda i: replace(i, addresses=("172.17.9.9/16",)))
    check = run_checks(moved, bridge.name, healthy_facts(moved)).check("interface")
    assert check is not None and check.status == "fail"
    assert f"Docker's address {bridge.ips[0]}" in check.summary


def test_rules_unreadable_skips_only_the_rule_checks(fit: Snapshot) -> None:
    facts = healthy_facts(fit, rulesets=None, rules_problem="iptables-save failed: denied")
    report = run_checks(fit, role(fit, "bridge").name, facts)
    assert statuses(report)["forward-drop"] == statuses(report)["masquerade"] == "skip"
    check = report.check("masquerade")
    assert check is not None and "iptables-save failed: denied" in check.summary
    assert worst_status(report) == "pass"


def test_modes(recorded: Snapshot) -> None:
    facts = healthy_facts(recorded)
    none = run_checks(recorded, role(recorded, "none").name, facts)
    assert set(statuses(none).values()) == {"skip"} and "no network by design" in none.note
    assert worst_status(none) == "skip"

    host = run_checks(recorded, role(recorded, "host").name, facts)
    assert statuses(host) == {
        **dict.fromkeys(CHECK_IDS, "skip"),
        "interface": "pass",
        "route": "pass",
    }
    assert "host network mode" in host.note
    gateway = host.check("gateway")
    assert gateway is not None and "host network mode" in gateway.summary

    owner, shared = role(recorded, "bridge"), role(recorded, "shared")
    report = run_checks(recorded, shared.name, facts)
    assert f"shares the network namespace of {owner.name}" in report.note
    assert statuses(report) == statuses(run_checks(recorded, owner.name, facts))

    stopped = run_checks(recorded, role(recorded, "stopped").name, facts)
    assert not stopped.running and set(statuses(stopped).values()) == {"skip"}

    macvlan = run_checks(recorded, role(recorded, "macvlan").name, facts)
    assert statuses(macvlan) == {
        **UNPUBLISHED,
        "bridge": "skip",
        "ip-forward": "skip",
        "forward-drop": "skip",
        "masquerade": "skip",
    }


def test_unknown_container_is_a_key_error(recorded: Snapshot) -> None:
    with pytest.raises(KeyError):
        run_checks(recorded, "nosuch", healthy_facts(recorded))


def test_human_output_puts_failures_first_and_colours_only_when_asked(
    recorded: Snapshot,
) -> None:
    bridge = role(recorded, "bridge")
    veth = eth0(bridge).peer
    assert veth is not None
    broken = with_host_link(recorded, veth.name, lambda i: replace(i, master=None))
    report = run_checks(broken, bridge.name, healthy_facts(broken))
    order = [c.id for c in display_order(report)]
    failing = [c.id for c in report.checks if c.status == "fail"]
    assert order[: len(failing)] == failing
    plain = format_report(report)
    assert plain.splitlines()[0] == f"{bridge.name}: FAIL at veth"
    assert f"fix: ip link set {veth.name} master docker0" in plain
    assert "\033[" not in plain
    assert "\033[1;31m" in format_report(report, colour=True)
    tally = format_reports([report, run_checks(recorded, role(recorded, "none").name)])
    assert tally.endswith(
        "2 containers: 1 fail, 1 nothing to check; failing: cnetlab-bridge (at veth)\n"
    )


def test_json_shape(recorded: Snapshot) -> None:
    reports = [run_checks(recorded, c, healthy_facts(recorded)) for c in recorded.containers]
    data = json.loads(json.dumps(reports_to_dict(reports)))
    assert list(data) == ["containers"]
    for entry in data["containers"]:
        assert {"name", "checks"} <= set(entry)
        for check in entry["checks"]:
            assert set(check) == {"id", "status", "summary", "evidence", "fix"}
            assert check["status"] in ("pass", "warn", "fail", "skip")
            assert isinstance(check["evidence"], dict)
    assert [c["name"] for c in data["containers"]] == [c.name for c in recorded.containers]


def test_networks_without_nat_by_design_skip_masquerade(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    net = bridge.networks[0].name
    subnet = str(ipaddress.ip_interface(eth0(bridge).addresses[0]).network)
    rules = docker_rules(recorded, drop_masq=subnet)
    internal = healthy_facts(recorded, rulesets=rules, no_nat={net: "internal network"})
    report = run_checks(recorded, bridge.name, internal)
    assert statuses(report)["masquerade"] == statuses(report)["ip-forward"] == "skip"
    no_masq = healthy_facts(recorded, rulesets=rules, no_nat={net: "enable_ip_masquerade=false"})
    report = run_checks(recorded, bridge.name, no_masq)
    assert statuses(report)["masquerade"] == "skip" and statuses(report)["ip-forward"] == "pass"


def test_gateway_ping_not_sent_says_why(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    facts = healthy_facts(recorded, pings={bridge.name: GatewayPing("", skipped="no gateway")})
    check = run_checks(recorded, bridge.name, facts).check("gateway")
    assert check is not None and check.status == "skip" and "no gateway" in check.summary


def test_no_containers_is_one_line() -> None:
    assert format_reports([]) == "no containers\n"
