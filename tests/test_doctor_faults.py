"""The doctor never misleads: engine designs are not faults, fixes never touch engine
rules, and the new steps (path MTU, IPv6 twins, published ports, DNS, the output) each
fail when their fault is made on purpose in a copy of the recorded data.

The recorded lab snapshot's host uplink really has MTU 1400 under containers at 1500;
``fit`` is a copy whose uplink is 1500, for every test about something else.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inspector.doctor import (
    NOT_PINGED,
    DnsFacts,
    GatewayPing,
    Listener,
    failing,
    format_report,
    format_reports,
    parse_proc_net,
    run_checks,
)
from inspector.model.snapshot import Container, Route, Snapshot
from inspector.rules import Rulesets, parse_iptables_save, parse_saved
from tests.test_doctor_unit import (
    docker_rules,
    eth0,
    healthy_facts,
    role,
    statuses,
    with_container,
    with_eth0,
    with_host_link,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def fit(recorded: Snapshot) -> Snapshot:
    return with_host_link(recorded, "eth0", lambda i: replace(i, mtu=1500))


# --- by design, never failures; fixes never edit the engine's rules ---------------------


def test_icc_off_is_by_design_not_a_forward_drop(fit: Snapshot) -> None:
    """Docker 20.10-27 write ``-A FORWARD -i br -o br -j DROP`` for enable_icc=false."""
    bridge = role(fit, "bridge")
    rules = docker_rules(fit, filter_extra="-A FORWARD -i docker0 -o docker0 -j DROP")
    check = run_checks(fit, bridge.name, healthy_facts(fit, rulesets=rules)).check("forward-drop")
    assert check is not None and check.status == "pass", check
    assert "by design" in check.summary and check.fix is None
    designed = [v for k, v in check.evidence if "(by design)" in k]
    assert designed and "enable_icc=false" in designed[0]


def test_docker28_and_docker29_layouts_pass_forward_drop(fit: Snapshot) -> None:
    """A container on docker0 under Docker 28's iptables and Docker 29's nftables (every
    DROP there is isolation or direct-access blocking)."""
    bridge = role(fit, "bridge")
    for source, name in (
        ("iptables-save", "iptables-docker28.txt"),
        ("nft -j", "nft-docker29.json"),
    ):
        rules = parse_saved(source, (DATA / name).read_text())
        combined = Rulesets(tables=docker_rules(fit).tables + rules.tables)
        check = run_checks(fit, bridge.name, healthy_facts(fit, rulesets=combined)).check(
            "forward-drop"
        )
        assert check is not None and check.status == "pass", (name, check)


def test_a_drop_outside_docker_user_is_let_through_never_deleted(fit: Snapshot) -> None:
    bridge = role(fit, "bridge")
    ip = bridge.ips[0]
    rules = docker_rules(fit, filter_extra=f"-A FORWARD -s {ip}/32 -j DROP")
    check = run_checks(fit, bridge.name, healthy_facts(fit, rulesets=rules)).check("forward-drop")
    assert check is not None and check.status == "fail"
    assert check.fix == f"iptables -t filter -I DOCKER-USER -s {ip} -j ACCEPT"  # as the DROP
    assert " -D " not in (check.fix or "")


def test_internal_network_is_by_design(fit: Snapshot) -> None:
    bridge = role(fit, "bridge")
    net = bridge.networks[0].name
    facts = healthy_facts(fit, no_nat={net: "internal network: no way out, no NAT, by design"})
    report = run_checks(fit, bridge.name, facts)
    assert report.first_failure is None
    assert statuses(report)["ip-forward"] == statuses(report)["masquerade"] == "skip"


# --- MTU ---------------------------------------------------------------------------------


def test_path_mtu_above_the_uplink_warns_naming_both(recorded: Snapshot, fit: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    check = run_checks(recorded, bridge.name, healthy_facts(recorded)).check("mtu")
    assert check is not None and check.status == "warn"
    assert "eth0 has MTU 1500, above the host uplink eth0's 1400" in check.summary
    assert check.fix == 'set "mtu": 1400 in /etc/docker/daemon.json and restart Docker'
    multi = role(recorded, "multi")
    check = run_checks(recorded, multi.name, healthy_facts(recorded)).check("mtu")
    assert check is not None
    assert check.summary.startswith(
        "eth0 and eth1 have MTU 1500, above the host uplink eth0's 1400"
    )
    assert check.fix == " && ".join(
        f"recreate network {n.name} with -o com.docker.network.driver.mtu=1400"
        for n in multi.networks
    )
    ok = run_checks(fit, bridge.name, healthy_facts(fit)).check("mtu")
    assert ok is not None and ok.status == "pass" and "within the uplink's 1500" in ok.summary


# --- IPv6 twins --------------------------------------------------------------------------


def dual_stack(snapshot: Snapshot) -> tuple[Snapshot, Container]:
    """cnetlab-bridge with fd00:17::2/64 behind docker0's fd00:17::1/64."""
    c = role(snapshot, "bridge")
    snap = with_eth0(snapshot, c, lambda i: replace(i, addresses=(*i.addresses, "fd00:17::2/64")))
    c = role(snap, "bridge")
    routes = (*c.routes, Route("fd00:17::/64", None, "eth0", "universe", "kernel", 256))
    routes += (Route("default", "fd00:17::1", "eth0", "universe", "boot", 1024),)
    snap = with_container(snap, replace(c, routes=routes))
    snap = replace(
        snap,
        bridges=tuple(
            replace(b, addresses=(*b.addresses, "fd00:17::1/64")) if b.name == "docker0" else b
            for b in snap.bridges
        ),
    )
    return snap, role(snap, "bridge")


def v6_rules(extra: str = "") -> Rulesets:
    text = "*filter\n:FORWARD ACCEPT [0:0]\n:DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n"
    return Rulesets(tables=parse_iptables_save(text + extra + "COMMIT\n", "ip6"))


def test_ipv6_twins_pass_then_fail_one_by_one(fit: Snapshot) -> None:
    snap, c = dual_stack(fit)
    rules = Rulesets(tables=docker_rules(snap).tables + v6_rules().tables)
    pings6 = {c.name: GatewayPing("fd00:17::1", 2, 2, 0.04)}
    facts = healthy_facts(snap, rulesets=rules, pings6=pings6)
    healthy = statuses(run_checks(snap, c.name, facts))
    assert {k: healthy[k] for k in ("route6", "gateway6", "ip6-forward", "forward-drop6")} == {
        "route6": "pass",
        "gateway6": "pass",
        "ip6-forward": "pass",
        "forward-drop6": "pass",
    }
    # forwarding off for IPv6 only: IPv4 passes, IPv6 fails.
    report = run_checks(snap, c.name, replace(facts, ip6_forward="0"))
    assert statuses(report)["ip-forward"] == "pass"
    check = report.check("ip6-forward")
    assert check is not None and check.status == "fail"
    assert check.fix == "sysctl -w net.ipv6.conf.all.forwarding=1"
    # no IPv6 default route
    no_default = with_container(
        snap, replace(c, routes=tuple(r for r in c.routes if r.gateway != "fd00:17::1"))
    )
    check = run_checks(no_default, c.name, facts).check("route6")
    assert check is not None and check.status == "fail"
    assert check.fix == f"nsenter -t {c.pid} -n ip -6 route add default via fd00:17::1"
    # the IPv6 gateway is silent
    silent = replace(facts, pings6={c.name: GatewayPing("fd00:17::1", 2, 0)})
    assert statuses(run_checks(snap, c.name, silent))["gateway6"] == "fail"
    # an ip6tables DROP for its address
    dropped = Rulesets(
        tables=docker_rules(snap).tables
        + v6_rules("-A DOCKER-USER -d fd00:17::2/128 -j DROP\n").tables
    )
    check = run_checks(snap, c.name, replace(facts, rulesets=dropped)).check("forward-drop6")
    assert check is not None and check.status == "fail"
    assert "-A DOCKER-USER -d fd00:17::2/128 -j DROP" in check.summary
    assert (
        statuses(run_checks(snap, c.name, replace(facts, rulesets=dropped)))["forward-drop"]
        == "pass"
    )


def test_ipv6_twins_skip_without_ipv6(fit: Snapshot) -> None:
    report = run_checks(fit, role(fit, "bridge").name, healthy_facts(fit, ip6_forward="0"))
    for check_id in ("route6", "gateway6", "ip6-forward", "forward-drop6"):
        check = report.check(check_id)
        assert check is not None and check.status == "skip" and "no IPv6" in check.summary


# --- published ports ----------------------------------------------------------------------


def test_published_port_with_nothing_listening_fails(fit: Snapshot) -> None:
    c = role(fit, "bridge")
    port = c.ports[0]
    healthy = run_checks(fit, c.name, healthy_facts(fit)).check("ports")
    assert healthy is not None and healthy.status == "pass"
    assert f"{port.host_port} -> 0.0.0.0:80/tcp" in healthy.summary
    assert any(k.endswith("DNAT") and "--to-destination" in v for k, v in healthy.evidence)

    nothing = healthy_facts(fit, listeners={c.name: (Listener("tcp", "0.0.0.0", 22),)})
    check = run_checks(fit, c.name, nothing).check("ports")
    assert check is not None and check.status == "fail"
    assert check.summary == (
        f"nothing listens on 80/tcp inside {c.name}: connections to host port "
        f"{port.host_port} are refused or reset"
    )
    assert ("listening inside", "0.0.0.0:22/tcp") in check.evidence

    loopback = healthy_facts(fit, listeners={c.name: (Listener("tcp", "127.0.0.1", 80),)})
    check = run_checks(fit, c.name, loopback).check("ports")
    assert check is not None and check.status == "fail" and "only on 127.0.0.1:80" in check.summary

    no_dnat = healthy_facts(fit, rulesets=docker_rules(fit, publish=False))
    check = run_checks(fit, c.name, no_dnat).check("ports")
    assert check is not None and check.status == "fail" and "neither a DNAT" in check.summary
    proxied = replace(no_dnat, host_listeners=(Listener("tcp", "127.0.0.1", port.host_port or 0),))
    check = run_checks(fit, c.name, proxied).check("ports")
    assert check is not None and check.status == "pass"
    unknown = healthy_facts(fit, listeners={})
    assert statuses(run_checks(fit, c.name, unknown))["ports"] == "skip"


def test_proc_net_parser_on_a_recorded_podman_namespace() -> None:
    """/proc/PID/net/tcp{,6} of a podman container running busybox httpd on :80 and
    ``nc -l -p 8443`` (both bound to the IPv6 wildcard)."""
    tcp = parse_proc_net((DATA / "proc-podman" / "tcp").read_text(), "tcp")
    tcp6 = parse_proc_net((DATA / "proc-podman" / "tcp6").read_text(), "tcp")
    assert tcp == ()
    assert tcp6 == (Listener("tcp", "::", 80), Listener("tcp", "::", 8443))
    header = "  sl  local_address rem_address   st\n"
    v4 = (
        header
        + "   0: 0B00007F:9F1B 00000000:0000 0A 0 0\n   1: 0100007F:0050 0200007F:D431 01 0 0\n"
    )
    assert parse_proc_net(v4, "tcp") == (Listener("tcp", "127.0.0.11", 40731),)
    udp = (
        header
        + "   0: 0B00007F:C7B3 00000000:0000 07 0 0\n   1: 00000000:0044 0101A8C0:0043 01 0\n"
    )
    assert parse_proc_net(udp, "udp") == (Listener("udp", "127.0.0.11", 51123),)


# --- DNS ----------------------------------------------------------------------------------


def test_dns_embedded_resolver_and_its_faults(fit: Snapshot) -> None:
    multi = role(fit, "multi")
    facts = healthy_facts(fit)
    ok = run_checks(fit, multi.name, facts).check("dns")
    assert ok is not None and ok.status == "pass" and "127.0.0.11" in ok.summary
    assert any(k == "DNAT inside its namespace" for k, _ in ok.evidence)
    no_rules = dict(facts.dns)
    no_rules[multi.name] = replace(facts.dns[multi.name], rulesets=Rulesets())
    check = run_checks(fit, multi.name, replace(facts, dns=no_rules)).check("dns")
    assert check is not None and check.status == "fail"
    assert "no DNAT rule" in check.summary and check.fix == f"docker restart {multi.name}"
    no_resolver = dict(facts.listeners)
    no_resolver[multi.name] = ()
    check = run_checks(fit, multi.name, replace(facts, listeners=no_resolver)).check("dns")
    assert check is not None and check.status == "fail" and "nothing listens" in check.summary
    unread = dict(facts.dns)
    unread[multi.name] = replace(facts.dns[multi.name], rulesets=None, rules_problem="denied")
    check = run_checks(fit, multi.name, replace(facts, dns=unread)).check("dns")
    assert check is not None and check.status == "skip" and "denied" in check.summary


def test_dns_default_bridge_nameservers_need_a_route(fit: Snapshot) -> None:
    c = role(fit, "bridge")
    facts = healthy_facts(fit)
    ok = run_checks(fit, c.name, facts).check("dns")
    assert ok is not None and ok.status == "pass"
    assert ("nameserver 192.0.2.53", "via 172.17.0.1 dev eth0") in ok.evidence

    def with_resolv(text: str) -> DnsFacts:
        return DnsFacts(resolv_conf=text)

    loop = replace(facts, dns={c.name: with_resolv("nameserver 127.0.0.53\n")})
    check = run_checks(fit, c.name, loop).check("dns")
    assert check is not None and check.status == "fail" and "loopback" in check.summary
    no_default = with_container(
        fit, replace(c, routes=tuple(r for r in c.routes if r.dst != "default"))
    )
    check = run_checks(no_default, c.name, facts).check("dns")
    assert check is not None and check.status == "fail"
    assert check.summary == "no route to nameserver 192.0.2.53"
    gone = replace(facts, dns={c.name: DnsFacts(problem="No such file or directory")})
    assert statuses(run_checks(fit, c.name, gone))["dns"] == "skip"


# --- marks without the ping, and the output -----------------------------------------------


def test_verdicts_made_without_the_ping_say_so(fit: Snapshot) -> None:
    c = role(fit, "bridge")
    report = run_checks(fit, c.name, healthy_facts(fit, pings={}, pinged=False))
    gateway = report.check("gateway")
    assert gateway is not None and gateway.summary == NOT_PINGED
    assert not report.pinged
    assert format_report(report).splitlines()[0] == f"{c.name}: ok (without the gateway ping)"
    assert format_reports([report]).endswith("; gateways not pinged\n")
    assert run_checks(fit, c.name, healthy_facts(fit)).pinged


def test_output_failures_first_compact_and_names_the_failing(fit: Snapshot) -> None:
    bridge, multi = role(fit, "bridge"), role(fit, "multi")
    veth = eth0(bridge).peer
    assert veth is not None
    broken = with_host_link(fit, veth.name, lambda i: replace(i, master=None))
    facts = healthy_facts(broken)
    reports = [run_checks(broken, n, facts) for n in (multi.name, bridge.name)]
    text = format_reports(reports)
    blocks = text.split("\n\n")
    assert blocks[0].startswith(f"{bridge.name}: FAIL at veth")  # failures first
    assert blocks[1].splitlines()[0] == f"{multi.name}: ok"
    assert "  pass  interface, veth, bridge, route, gateway" in blocks[1]
    assert "  skip  route6, gateway6, ip6-forward, forward-drop6: no IPv6" in blocks[1]
    assert len(blocks[1].splitlines()) <= 5
    assert text.splitlines()[-1] == (
        f"2 containers: 1 fail, 1 ok; failing: {bridge.name} (at veth)"
    )
    assert [r.name for r in failing(reports)] == [bridge.name]
    verbose = format_report(reports[1], verbose=True)
    assert len(verbose.splitlines()) > 15


def test_no_fix_ever_deletes_outside_docker_user(recorded: Snapshot) -> None:
    """Across every container and every fault above, a suggested ``-D`` only ever names
    DOCKER-USER (the operator's own chain)."""
    rules = docker_rules(
        recorded,
        filter_extra="-A FORWARD -i docker0 -o docker0 -j DROP\n-A FORWARD -s 172.17.0.0/16 -j DROP",
    )
    facts = healthy_facts(recorded, rulesets=rules)
    for c in recorded.containers:
        for check in run_checks(recorded, c.name, facts).checks:
            for part in (check.fix or "").split(" && "):
                assert " -D " not in part or " -D DOCKER-USER" in part, part


FIREWALL_NFT = """table inet cnrl_fw {
  map from_bridge {
    type ifname : verdict
    elements = { "docker0" : jump from_docker0 }
  }
  chain forward_drop {
    type filter hook forward priority 10; policy drop;
    iifname vmap @from_bridge
  }
  chain from_docker0 {
    oifname != "docker0" accept
  }
}
"""


def _nft_json(text: str) -> str:
    """What nft prints for a ruleset, from a scratch namespace (skips without root/nft)."""
    import os
    import shutil
    import subprocess
    import uuid

    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("needs root and nft")
    ns = f"cnrl-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        run = ["ip", "netns", "exec", ns, "nft"]
        subprocess.run([*run, "-f", "-"], input=text, text=True, check=True)
        return subprocess.run(
            [*run, "-j", "list", "ruleset"], capture_output=True, text=True, check=True
        ).stdout
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def test_an_nft_forward_policy_drop_is_walked_through_its_verdict_map(fit: Snapshot) -> None:
    bridge = role(fit, "bridge")
    fw = parse_saved("nft -j", _nft_json(FIREWALL_NFT))
    rules = Rulesets(tables=docker_rules(fit).tables + fw.tables)
    check = run_checks(fit, bridge.name, healthy_facts(fit, rulesets=rules)).check("forward-drop")
    assert check is not None and check.status == "pass", check
    key = "new connections from docker0 to eth0 [inet cnrl_fw (nft)]"
    assert (key, 'may be accepted by oifname != "docker0" accept') in check.evidence
    without = parse_saved(
        "nft -j", _nft_json(FIREWALL_NFT.replace('"docker0" : jump', '"br-x" : jump'))
    )
    rules = Rulesets(tables=docker_rules(fit).tables + without.tables)
    check = run_checks(fit, bridge.name, healthy_facts(fit, rulesets=rules)).check("forward-drop")
    assert check is not None and check.status == "fail"
    assert check.summary == (
        "the policy of inet cnrl_fw (nft) forward_drop is DROP and no rule accepts new connections "
        "from docker0"
    )
    assert (
        check.fix
        == 'nft insert rule inet cnrl_fw forward_drop iifname "docker0" oifname != "docker0" accept'
    )
