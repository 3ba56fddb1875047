"""Rules: parser, matcher, reader and rendering on recorded and crafted rulesets (no engine).

``data/iptables-lab1.txt`` is the real ``iptables-save -c`` of this host with the lab up
(``CNET_LAB_ID=1``; another lab, ``cnetlab2-``, and one more container on docker0 were up
too); ``iptables-lab1-drop.txt`` is the same with ``-I DOCKER-USER -s 172.17.0.4/32 -j DROP``.
The snapshot below is written by hand from what ``cnet`` collected at that moment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from inspector.model.snapshot import (
    Bridge,
    BridgePort,
    Container,
    HostNetwork,
    Interface,
    NetworkAttachment,
    ParentRef,
    PeerRef,
    PublishedPort,
    Snapshot,
)
from inspector.rules import (
    NetworkRef,
    ParseError,
    RulesUnavailable,
    RunResult,
    UnknownItem,
    blocking_rules_for_address,
    counter_delta,
    format_report,
    masquerade_rules_for_subnet,
    parse_iptables_save,
    parse_nft_ruleset,
    read_rulesets,
    report_to_dict,
    rules_for,
    run_command,
)
from inspector.rules.model import Rulesets, RulesReport
from inspector.rules.parse import tokenize

DATA = Path(__file__).parent / "data"
LAB1 = (DATA / "iptables-lab1.txt").read_text()
LAB1_DROP = (DATA / "iptables-lab1-drop.txt").read_text()
BRIDGE_IP = "172.17.0.4"
PORT = 35341


def _veth(name: str, index: int, master: str, container: str) -> Interface:
    return Interface(
        name, index, kind="veth", master=master, container=container, container_interface="eth0"
    )


SNAP = Snapshot(
    taken_at="2026-11-28T00:37:15Z",
    hostname="lab",
    host=HostNetwork(
        interfaces=(
            Interface("lo", 1, addresses=("127.0.0.1/8", "::1/128")),
            Interface("eth0", 3, addresses=("192.0.2.2/24", "fd00::2/64", "fe80::fc:ff:fe00:1/64")),
            Interface("docker0", 5, kind="bridge", addresses=("172.17.0.1/16",)),
            _veth("veth0c06116", 684, "docker0", "cnetlab1-bridge"),
            _veth("vethd68b37c", 686, "cnetlab1-br1", "cnetlab1-multi"),
        )
    ),
    bridges=(
        Bridge("docker0", 5, "up", ("172.17.0.1/16", "fe80::42:54ff:feda:2a35/64"),
               ports=(BridgePort("veth0c06116", 684, "forwarding", "cnetlab1-bridge", "eth0"),)),
        Bridge("cnetlab1-br1", 680, "up", ("172.30.203.1/24",),
               ports=(BridgePort("vethd68b37c", 686, "forwarding", "cnetlab1-multi", "eth0"),)),
        Bridge("br-a0201286ae81", 681, "up", ("172.30.204.1/24",),
               ports=(BridgePort("vethd6bdd73", 688, "forwarding", "cnetlab1-multi", "eth1"),)),
    ),
    containers=(
        Container(
            id="96da1ebb6ef2" + "0" * 52, name="cnetlab1-bridge", image="busybox", state="running",
            pid=100, network_mode="default",
            networks=(NetworkAttachment("bridge", BRIDGE_IP, "172.17.0.1", None),),
            ports=(PublishedPort(80, "tcp", "127.0.0.1", PORT),),
            interfaces=(
                Interface("lo", 1, addresses=("127.0.0.1/8",)),
                Interface("eth0", 683, kind="veth", addresses=(f"{BRIDGE_IP}/16",),
                          peer=PeerRef("veth0c06116", 684, "docker0")),
            ),
        ),
        Container(
            id="aa" * 32, name="cnetlab1-multi", image="busybox", state="running", pid=101,
            network_mode="cnetlab1-net1",
            networks=(NetworkAttachment("cnetlab1-net1", "172.30.203.2", "172.30.203.1", None),
                      NetworkAttachment("cnetlab1-net2", "172.30.204.2", "172.30.204.1", None)),
            interfaces=(
                Interface("eth0", 685, kind="veth", addresses=("172.30.203.2/24",),
                          peer=PeerRef("vethd68b37c", 686, "cnetlab1-br1")),
                Interface("eth1", 687, kind="veth", addresses=("172.30.204.2/24",),
                          peer=PeerRef("vethd6bdd73", 688, "br-a0201286ae81")),
            ),
        ),
        Container(id="bb" * 32, name="cnetlab1-host", image="busybox", state="running", pid=102,
                  network_mode="host", netns_shared_with="host",
                  networks=(NetworkAttachment("host", None, None, None),)),
        Container(id="cc" * 32, name="cnetlab1-macvlan", image="busybox", state="running", pid=103,
                  network_mode="cnetlab1-mv",
                  networks=(NetworkAttachment("cnetlab1-mv", "172.30.205.2", "172.30.205.1", None),),
                  interfaces=(Interface("eth0", 2, kind="macvlan", addresses=("172.30.205.2/24",),
                                        parent=ParentRef("cnetlab1-mvp", 682)),)),
        Container(id="dd" * 32, name="cnetlab1-stopped", image="busybox", state="exited", pid=None,
                  network_mode="default", networks=(NetworkAttachment("bridge", None, None, None),)),
    ),
)  # fmt: skip


def _rs(*texts: str, family: str = "ip") -> Rulesets:
    return Rulesets(tables=tuple(t for text in texts for t in parse_iptables_save(text, family)))


def _rule_lines(text: str) -> list[tuple[str, str]]:
    """(chain, rule without counters) for every rule, read with a plain regex."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\[\d+:\d+\] (-A (\S+) .*)$", line)
        if m:
            out.append((m[2], m[1]))
    return out


def _find(report: RulesReport, table: str, chain: str, needle: str) -> list[object]:
    return [
        m for m in report.matches if m.table == table and m.chain == chain and needle in m.rule.text
    ]


# --- parser -----------------------------------------------------------------------------


def test_parse_recorded_lab_matches_the_text_rule_for_rule() -> None:
    tables = parse_iptables_save(LAB1)
    assert [(t.family, t.name, t.source) for t in tables] == [
        ("ip", "filter", "iptables-nft"),
        ("ip", "nat", "iptables-nft"),
    ]
    parsed = [(r.chain, r.text) for t in tables for c in t.chains for r in c.rules]
    assert sorted(parsed) == sorted(_rule_lines(LAB1))
    filt = tables[0]
    fwd = filt.chain("FORWARD")
    assert fwd is not None and fwd.policy == "DROP" and fwd.builtin
    user = filt.chain("DOCKER-USER")
    assert user is not None and user.policy is None
    assert [r.position for r in fwd.rules] == list(range(1, len(fwd.rules) + 1))
    ret = user.rules[-1]
    assert ret.counters is not None and (ret.counters.packets, ret.counters.bytes) == (27, 2268)


def test_parse_rule_structure() -> None:
    nat = parse_iptables_save(LAB1)[1]
    dnat = next(r for c in nat.chains for r in c.rules if "--dport 35341" in r.text)
    assert dnat.chain == "DOCKER"
    assert dnat.selector("-d") is not None and dnat.selector("-d").value == "127.0.0.1/32"  # type: ignore[union-attr]
    i = dnat.selector("-i")
    assert i is not None and i.negated and i.value == "docker0"
    assert [m.module for m in dnat.matches] == ["", "tcp"]
    assert dnat.options("--dport")[0].values == ("35341",)
    assert dnat.target is not None and dnat.target.name == "DNAT"
    to = dnat.target.option("--to-destination")
    assert to is not None and to.value == f"{BRIDGE_IP}:80"
    assert dnat.spec.startswith("-d 127.0.0.1/32 ! -i docker0")


def test_parse_quotes_negation_goto_and_long_options() -> None:
    text = (
        "*filter\n:INPUT ACCEPT [1:2]\n:X - [0:0]\n"
        '[0:0] -A INPUT ! --source 10.0.0.0/8 -m comment --comment "block \\"x\\" -y" '
        "-m tcp -p tcp ! --dport 22 -m conntrack --ctstate NEW,RELATED -g X\n"
        '[0:0] -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j LOG --log-prefix "-in "\n'
        "COMMIT\n"
    )
    (table,) = parse_iptables_save(text)
    r1, r2 = table.chain("INPUT").rules  # type: ignore[union-attr]
    src = r1.selector("-s")
    assert src is not None and src.negated and src.value == "10.0.0.0/8"
    assert r1.options("--comment")[0].values == ('block "x" -y',)
    dport = r1.options("--dport")[0]
    assert dport.negated and dport.values == ("22",)
    assert r1.options("--ctstate")[0].values == ("NEW,RELATED",)
    assert r1.target is not None and r1.target.goto and r1.target.name == "X"
    assert r2.options("--tcp-flags")[0].values == ("FIN,SYN,RST,ACK", "SYN")
    assert r2.target is not None and r2.target.option("--log-prefix").values == ("-in ",)  # type: ignore[union-attr]
    assert tokenize('a "b c" d') == [("a", False), ("b c", True), ("d", False)]


def test_parse_legacy_header_and_errors() -> None:
    legacy = (
        "# Generated by iptables-save v1.8.9 (legacy) on x\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
    )
    (t,) = parse_iptables_save(legacy)
    assert t.source == "iptables-legacy" and t.label == "ip filter (legacy)"
    with pytest.raises(ParseError, match="COMMIT"):
        parse_iptables_save("*filter\n:INPUT ACCEPT [0:0]\n")
    with pytest.raises(ParseError, match="outside a table"):
        parse_iptables_save("-A INPUT -j DROP\n")
    with pytest.raises(ParseError, match="not a rule"):
        parse_iptables_save("*filter\nhello\nCOMMIT\n")
    assert parse_iptables_save("") == ()


NFT = """\
table ip filter {
\tchain FORWARD {
\t\ttype filter hook forward priority filter; policy drop;
\t\toifname "docker0" counter packets 1 bytes 2 accept
\t}
}
table inet myfw {
\tset blocked {
\t\ttype ipv4_addr
\t\telements = { 172.17.0.4, 10.0.0.1 }
\t}
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tiifname "docker0" counter packets 2 bytes 168 drop
\t\tip saddr { 172.17.0.4, 10.9.9.9 } counter packets 0 bytes 0 accept
\t\ttcp dport 22 reject with icmp type port-unreachable
\t}
\tchain helper {
\t\toifname "veth*" jump input
\t}
}
"""


def test_parse_nft_ruleset() -> None:
    tables = parse_nft_ruleset(NFT)
    assert [(t.family, t.name) for t in tables] == [("ip", "filter"), ("inet", "myfw")]
    fw = tables[1]
    assert [c.name for c in fw.chains] == ["input", "helper"]
    inp = fw.chains[0]
    assert inp.policy == "ACCEPT" and inp.hook == "type filter hook input priority filter"
    drop, accept, reject = inp.rules
    assert drop.counters is not None and drop.counters.packets == 2 and drop.verdict == "DROP"
    assert drop.text == 'iifname "docker0" counter drop'
    assert accept.verdict == "ACCEPT" and reject.verdict == "REJECT" and reject.counters is None
    helper = fw.chains[1]
    assert helper.policy is None and helper.rules[0].target.name == "input"  # type: ignore[union-attr]


# --- reader (injected tools) ------------------------------------------------------------


class FakeTools:
    def __init__(self, installed: dict[str, RunResult]) -> None:
        self.installed = installed
        self.calls: list[tuple[str, ...]] = []

    def which(self, name: str) -> str | None:
        return f"/fake/{name}" if any(k.split()[0] == name for k in self.installed) else None

    def run(self, argv: Sequence[str], timeout: float) -> RunResult:
        assert timeout > 0
        key = " ".join([argv[0].rsplit("/", 1)[-1], *argv[1:]])
        self.calls.append(tuple(argv))
        # An nft built without JSON support fails `nft -j` like this.
        return self.installed.get(key, RunResult(1, "", "Error: JSON support not compiled-in"))


def test_read_nothing_installed_is_one_clear_line() -> None:
    tools = FakeTools({})
    with pytest.raises(RulesUnavailable) as err:
        read_rulesets(tools.run, which=tools.which)
    assert "neither" in str(err.value) and "\n" not in str(err.value)
    assert tools.calls == []


def test_read_every_tool_failing_says_why() -> None:
    tools = FakeTools(
        {
            "iptables-save -c": RunResult(
                4, "", "iptables-save v1.8.9 (nf_tables): Permission denied (you must be root)\n"
            )
        }
    )
    with pytest.raises(RulesUnavailable, match=r"iptables-save -c failed: .*Permission denied"):
        read_rulesets(tools.run, which=tools.which)


def test_read_iptables_nft_and_native_nft(tmp_path: Path) -> None:
    tools = FakeTools(
        {
            "iptables-save -c": RunResult(0, LAB1, ""),
            "nft list ruleset": RunResult(
                0, NFT, "# Warning: table ip filter is managed by iptables-nft, do not touch!\n"
            ),
        }
    )
    rs = read_rulesets(tools.run, which=tools.which, proc_net=str(tmp_path))
    assert [t.label for t in rs.tables] == ["ip filter", "ip nat", "inet myfw (nft)"]
    assert rs.sources == ("iptables-save -c", "nft list ruleset")
    # No IPv6 unless asked, no legacy tool when the kernel lists no legacy tables; nft's
    # text only when its JSON is not available.
    assert [c[0] for c in tools.calls] == ["/fake/iptables-save", "/fake/nft", "/fake/nft"]
    assert rs.warnings == ()


def test_read_legacy_only_when_the_kernel_has_legacy_tables(tmp_path: Path) -> None:
    legacy = "# Generated by iptables-save v1.8.9 (legacy)\n*filter\n:INPUT ACCEPT [0:0]\n[1:2] -A INPUT -s 172.17.0.4/32 -j DROP\nCOMMIT\n"
    tools = FakeTools(
        {
            "iptables-save -c": RunResult(0, LAB1, ""),
            "iptables-legacy-save -c": RunResult(0, legacy, ""),
            "ip6tables-save -c": RunResult(0, "", ""),
        }
    )
    (tmp_path / "ip_tables_names").write_text("")
    rs = read_rulesets(tools.run, which=tools.which, proc_net=str(tmp_path), ipv6=True)
    assert "/fake/iptables-legacy-save" not in [c[0] for c in tools.calls]
    assert "/fake/ip6tables-save" in [c[0] for c in tools.calls]
    (tmp_path / "ip_tables_names").write_text("filter\n")
    rs = read_rulesets(tools.run, which=tools.which, proc_net=str(tmp_path))
    assert rs.table("ip filter (legacy)") is not None
    report = rules_for(SNAP, rs, "cnetlab1-bridge")
    legacy_hits = [m for m in report.matches if m.table == "ip filter (legacy)"]
    assert len(legacy_hits) == 1 and legacy_hits[0].blocking


def test_read_skips_iptables_tables_without_the_warning(tmp_path: Path) -> None:
    """Older nft prints no warning: tables named like xt tables with upper-case hook chains are skipped."""
    tools = FakeTools({"nft list ruleset": RunResult(0, NFT, "")})
    rs = read_rulesets(tools.run, which=tools.which, proc_net=str(tmp_path))
    assert [t.label for t in rs.tables] == ["inet myfw (nft)"]


def test_run_command_timeout_and_missing_binary() -> None:
    assert run_command(["sleep", "5"], 0.2).returncode == 124
    assert run_command(["/nonexistent/cnet-no-such-tool"], 1).returncode == 127
    ok = run_command(["echo", "$(touch /tmp/x)"], 5)
    assert ok.returncode == 0 and ok.stdout.strip() == "$(touch /tmp/x)"  # no shell


# --- matcher ----------------------------------------------------------------------------


def test_container_matches_addresses_dnat_and_its_bridge() -> None:
    report = rules_for(SNAP, _rs(LAB1), "cnetlab1-bridge")
    assert report.kind == "container"
    (dnat,) = _find(report, "ip nat", "DOCKER", "--to-destination")
    assert dnat.reason.startswith(f"DNAT 127.0.0.1:{PORT} -> {BRIDGE_IP}:80/tcp")  # type: ignore[attr-defined]
    assert dnat.direct and not dnat.blocking  # type: ignore[attr-defined]
    # The other container on docker0 (172.17.0.2) is someone else's: not shown.
    assert not [m for m in report.matches if "172.17.0.2" in m.rule.text]
    (masq,) = _find(report, "ip nat", "POSTROUTING", "-s 172.17.0.0/16")
    assert f"contains its address {BRIDGE_IP}" in masq.reason  # type: ignore[attr-defined]
    (acc,) = _find(report, "ip filter", "DOCKER", f"-d {BRIDGE_IP}/32")
    assert f"-d {BRIDGE_IP}: its address" in acc.reason  # type: ignore[attr-defined]
    # Policies of the chains shown; DOCKER-USER is shown because FORWARD jumps there.
    chains = {(t.table, c.name): c for t in report.tables for c in t.chains}
    assert chains[("ip filter", "FORWARD")].policy == "DROP"
    assert chains[("ip nat", "POSTROUTING")].policy == "ACCEPT"
    (ret,) = chains[("ip filter", "DOCKER-USER")].matches
    assert ret.rule.text == "-A DOCKER-USER -j RETURN" and not ret.direct
    # The other labs' bridges are never named as its own.
    assert not [m for m in report.matches if m.direct and "cnetlab2" in m.rule.text]


def test_bridge_matches_interface_and_subnet() -> None:
    report = rules_for(SNAP, _rs(LAB1), "docker0")
    fwd = [m for m in report.matches if m.chain == "FORWARD" and "docker0" in m.rule.text]
    expected = [
        text for chain, text in _rule_lines(LAB1) if chain == "FORWARD" and "docker0" in text
    ]
    assert [m.rule.text for m in fwd] == expected and len(expected) == 4
    assert all(m.direct for m in fwd)
    (masq,) = _find(report, "ip nat", "POSTROUTING", "-s 172.17.0.0/16")
    assert "its subnet: MASQUERADE unless leaving by docker0" in masq.reason  # type: ignore[attr-defined]
    # Both DNATs to containers on docker0 concern the bridge.
    assert len(_find(report, "ip nat", "DOCKER", "--to-destination")) == 2
    (iso,) = _find(report, "ip filter", "DOCKER-ISOLATION-STAGE-2", "-o docker0 -j DROP")
    # Docker's isolation DROP is its design, not a fault: never "blocking".
    assert not iso.blocking  # type: ignore[attr-defined]
    assert iso.design.startswith("isolates it from other networks")  # type: ignore[attr-defined]
    assert iso.explanation == "drops traffic leaving by docker0"  # type: ignore[attr-defined]


def test_network_resolves_to_bridge_and_subnet() -> None:
    report = rules_for(SNAP, _rs(LAB1), "cnetlab1-net1")
    assert report.kind == "network" and "cnetlab1-br1" in report.description
    (masq,) = _find(report, "ip nat", "POSTROUTING", "MASQUERADE")
    assert masq.rule.text == "-A POSTROUTING -s 172.30.203.0/24 ! -o cnetlab1-br1 -j MASQUERADE"  # type: ignore[attr-defined]
    # A network no container uses: resolved from what Docker says about it.
    ref = NetworkRef("empty-net", "br-a0201286ae81", ("172.30.204.0/24",))
    report = rules_for(SNAP, _rs(LAB1), "empty-net", [ref])
    assert _find(report, "ip nat", "POSTROUTING", "-s 172.30.204.0/24")


def test_interfaces_hosts_and_unknown_items() -> None:
    rs = _rs(LAB1)
    veth = rules_for(SNAP, rs, "veth0c06116")
    assert veth.kind == "interface" and any("cnetlab1-bridge" in n for n in veth.notes)
    host = rules_for(SNAP, rs, "cnetlab1-host")
    assert host.tables == () and any("host network mode" in n for n in host.notes)
    mv = rules_for(SNAP, rs, "cnetlab1-macvlan")
    assert any("macvlan" in n for n in mv.notes)
    stopped = rules_for(SNAP, rs, "cnetlab1-stopped")
    assert any("exited" in n for n in stopped.notes)
    with pytest.raises(
        UnknownItem, match="no container, bridge, interface or network named 'nope'"
    ):
        rules_for(SNAP, rs, "nope")
    # Container by id prefix, like docker.
    assert rules_for(SNAP, rs, "96da1ebb").item == "cnetlab1-bridge"


def test_recorded_drop_is_blocking_for_that_container_only() -> None:
    rs = _rs(LAB1_DROP)
    report = rules_for(SNAP, rs, "cnetlab1-bridge")
    (drop,) = _find(report, "ip filter", "DOCKER-USER", "-j DROP")
    assert drop.blocking and drop.direct  # type: ignore[attr-defined]
    assert drop.reason == f"-s {BRIDGE_IP}: its address"  # type: ignore[attr-defined]
    multi = rules_for(SNAP, rs, "cnetlab1-multi")
    assert not [m for m in multi.matches if m.chain == "DOCKER-USER" and m.blocking]
    assert [m.rule.text for m in blocking_rules_for_address(rs, BRIDGE_IP)] == [
        f"-A DOCKER-USER -s {BRIDGE_IP}/32 -j DROP"
    ]
    assert blocking_rules_for_address(rs, "172.17.0.2") == []
    assert blocking_rules_for_address(_rs(LAB1), BRIDGE_IP) == []


CRAFTED = """\
*filter
:INPUT ACCEPT [10:800]
:FORWARD DROP [5:420]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
[7:588] -A FORWARD -j DOCKER-USER
[1:60] -A DOCKER-USER -d 172.17.0.0/16 -p tcp -m tcp --dport 22 -j REJECT --reject-with icmp-port-unreachable
[0:0] -A DOCKER-USER -i eth0 -m comment --comment "from outside" -j DROP
[0:0] -A DOCKER-USER -p udp -j DROP
[4:336] -A DOCKER-USER -j RETURN
[0:0] -A FORWARD -o docker0 -j ACCEPT
COMMIT
"""


def test_crafted_reject_and_unconditional_drop() -> None:
    rs = _rs(CRAFTED)
    report = rules_for(SNAP, rs, "cnetlab1-bridge")
    (rej,) = _find(report, "ip filter", "DOCKER-USER", "REJECT")
    assert rej.blocking and rej.direct and "contains its address" in rej.reason  # type: ignore[attr-defined]
    (udp,) = _find(report, "ip filter", "DOCKER-USER", "-p udp -j DROP")
    assert udp.blocking and not udp.direct  # type: ignore[attr-defined]
    (eth,) = _find(report, "ip filter", "DOCKER-USER", "-i eth0")
    assert not eth.blocking  # type: ignore[attr-defined]
    found = blocking_rules_for_address(rs, BRIDGE_IP)
    assert [m.rule.verdict for m in found] == ["REJECT", "DROP"]
    lines = format_report(report)
    rej_line = next(ln for ln in lines if "REJECT --reject-with" in ln)
    assert rej_line.startswith("!! REJECT") and "\x1b" not in rej_line


def test_ipv6_rules() -> None:
    v6 = "*filter\n:FORWARD DROP [0:0]\n[2:208] -A FORWARD -d fd00:1::2/128 -j DROP\n[0:0] -A FORWARD -s fd00:1::/64 -j ACCEPT\nCOMMIT\n"
    rs = Rulesets(tables=parse_iptables_save(v6, "ip6"))
    c = SNAP.containers[0]
    iface = c.interfaces[1]
    v6snap = Snapshot(
        taken_at=SNAP.taken_at,
        hostname="lab",
        bridges=SNAP.bridges,
        containers=(
            Container(
                id=c.id, name=c.name, image=c.image, state=c.state, pid=c.pid, network_mode="default",
                interfaces=(Interface(iface.name, iface.ifindex, kind="veth", addresses=(
                    f"{BRIDGE_IP}/16", "fd00:1::2/64", "fe80::1/64"), peer=iface.peer),),
            ),
        ),
    )  # fmt: skip
    report = rules_for(v6snap, rs, c.name)
    assert report.tables[0].table == "ip6 filter"
    drop, acc = report.matches
    assert drop.blocking and drop.reason == "-d fd00:1::2: its address"
    assert "contains its address fd00:1::2" in acc.reason and not acc.blocking
    assert [m.rule.text for m in blocking_rules_for_address(rs, "fd00:1::2")] == [drop.rule.text]


def test_native_nft_matches_by_name_and_address() -> None:
    rs = Rulesets(tables=tuple(t for t in parse_nft_ruleset(NFT) if t.family == "inet"))
    report = rules_for(SNAP, rs, "cnetlab1-bridge")
    (table,) = report.tables
    assert table.table == "inet myfw (nft)"
    inp, helper = table.chains
    assert inp.policy == "ACCEPT" and helper.policy is None
    assert helper.matches[0].reason == 'oifname "veth*" (its veth, eth0 inside)'
    by_text = {m.rule.text: m for m in inp.matches}
    assert by_text['iifname "docker0" counter drop'].blocking
    assert (
        by_text["ip saddr { 172.17.0.4, 10.9.9.9 } counter accept"].reason
        == f"saddr {BRIDGE_IP}: its address"
    )
    # nft's text (no JSON) says too little to show context: direct matches only.
    assert "tcp dport 22 reject with icmp type port-unreachable" not in by_text
    veth = rules_for(SNAP, rs, "veth0c06116")
    assert [m.rule.text for m in veth.matches] == ['oifname "veth*" jump input']


def test_masquerade_rules_for_subnet() -> None:
    rs = _rs(LAB1)
    (m,) = masquerade_rules_for_subnet(rs, "172.17.0.0/16", "docker0")
    assert m.rule.text == "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"
    assert m.reason == "MASQUERADE of 172.17.0.0/16 leaving by any interface but docker0"
    assert len(masquerade_rules_for_subnet(rs, "172.30.203.0/24", "cnetlab1-br1")) == 1
    assert masquerade_rules_for_subnet(rs, "172.30.203.0/24", "docker0") == []
    assert masquerade_rules_for_subnet(rs, "10.99.0.0/16", "br-x") == []


def _bump(text: str, rule: str, packets: int, bytes_: int) -> str:
    pattern = re.compile(r"^\[(\d+):(\d+)\] " + re.escape(rule) + "$", re.M)
    m = pattern.search(text)
    assert m, rule
    new = f"[{int(m[1]) + packets}:{int(m[2]) + bytes_}] {rule}"
    return text[: m.start()] + new + text[m.end() :]


def test_counter_delta_says_which_shown_rules_moved() -> None:
    before = _rs(LAB1)
    stage2 = "-A DOCKER-ISOLATION-STAGE-2 -o cnetlab1-br1 -j DROP"
    moved = _bump(
        LAB1,
        "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
        2,
        168,
    )
    moved = _bump(moved, stage2, 2, 168)
    moved = _bump(moved, "-A DOCKER-ISOLATION-STAGE-2 -o cnetlab2-br1 -j DROP", 5, 5)
    moved = moved.replace(":FORWARD DROP [0:0]", ":FORWARD DROP [3:180]")
    # A rule inserted between the reads shifts positions: still the same rules.
    moved = moved.replace(
        "[27:2268] -A DOCKER-USER -j RETURN",
        "[0:0] -A DOCKER-USER -s 10.1.1.1/32 -j DROP\n[29:2436] -A DOCKER-USER -j RETURN",
    )
    after = _rs(moved)
    report = rules_for(SNAP, after, "cnetlab1-bridge")
    changes = counter_delta(before, after, report)
    got = {(c.chain, c.rule.text if c.rule else None): (c.packets, c.bytes) for c in changes}
    assert got == {
        ("FORWARD", None): (3, 180),
        (
            "DOCKER-ISOLATION-STAGE-1",
            "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
        ): (2, 168),
        ("DOCKER-ISOLATION-STAGE-2", stage2): (2, 168),
        ("DOCKER-ISOLATION-STAGE-2", "-A DOCKER-ISOLATION-STAGE-2 -o cnetlab2-br1 -j DROP"): (5, 5),
        ("DOCKER-USER", "-A DOCKER-USER -j RETURN"): (2, 168),
    }
    assert counter_delta(before, before, report) == ()
    lines = format_report(report, changes=changes)
    assert any(
        stage2.removeprefix("-A DOCKER-ISOLATION-STAGE-2 ") in ln
        and "[moved +2 pkts +168 bytes]" in ln
        for ln in lines
    )
    assert report_to_dict(report, changes)["counter_changes"]


def test_text_and_json_rendering() -> None:
    report = rules_for(SNAP, _rs(LAB1_DROP), "cnetlab1-bridge")
    plain = format_report(report)
    drop = next(ln for ln in plain if "-s 172.17.0.4/32 -j DROP" in ln)
    assert drop.startswith("!! DROP") and "# -s 172.17.0.4: its address" in drop
    assert "  FORWARD: policy DROP (0 packets, 0 bytes)" in plain
    assert (
        plain[0] == "rules for container cnetlab1-bridge (172.17.0.4; veth veth0c06116; on docker0)"
    )
    assert not any("\x1b" in ln for ln in plain)
    colored = format_report(report, color=True)
    assert any(ln.startswith("\x1b[1;31m!! DROP") for ln in colored)
    data = json.loads(json.dumps(report_to_dict(report)))
    # The DOCKER-USER DROP blocks; Docker's isolation DROP is by design.
    assert data["item"] == "cnetlab1-bridge" and data["blocking"] == 1
    assert data["by_design"] == 5  # the isolation DROP of each of the five bridges
    rules = [r for t in data["tables"] for c in t["chains"] for r in c["rules"]]
    dnat = next(r for r in rules if r["target"] == "DNAT")
    assert dnat["reason"].startswith(f"DNAT 127.0.0.1:{PORT} -> {BRIDGE_IP}:80/tcp")
    assert dnat["counters"] == {"packets": 0, "bytes": 0}
