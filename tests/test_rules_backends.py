"""Rules from every backend: Docker 28's iptables layout, Docker 29's nftables tables,
netavark (iptables, recorded from a real podman here, and nftables), saved rulesets, and a
real nft table made inside a scratch network namespace.

Recorded data (tests/data):
- ``iptables-docker28.txt``: written from moby's iptablesdoc for Docker 28 (DOCKER-FORWARD,
  DOCKER-CT, DOCKER-BRIDGE, raw PREROUTING direct-access DROPs, ICC off on br-noicc).
- ``nft-docker29.nft``: written from moby's nftablesdoc (``ip``/``ip6 docker-bridges``,
  per-bridge chains behind verdict maps); ``nft-docker29.json`` is what nft 1.0.6 printed
  for it (``nft -f`` then ``nft -j list ruleset`` in a scratch netns).
- ``nft-netavark.nft``/``.json``: netavark's nft driver's layout (src/firewall/nft.rs),
  loaded and dumped the same way.
- ``iptables-podman-netavark.txt``: this host's ``iptables-save -c`` with one podman 4.3
  container (``-p 18182:80``) on netavark's iptables driver; ``nft-host-with-netavark.json``
  is ``nft -j list ruleset`` at the same moment (iptables-nft's tables, xt targets).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from inspector.model.snapshot import (
    Bridge,
    BridgePort,
    Container,
    HostNetwork,
    Interface,
    NetworkAttachment,
    PeerRef,
    Snapshot,
)
from inspector.rules import (
    ParseError,
    RunResult,
    UnknownItem,
    blocking_rules_for_address,
    capture,
    detect_source,
    explain,
    format_report,
    masquerade_rules_for_subnet,
    parse_captured,
    parse_nft_json,
    parse_saved,
    read_rulesets,
    report_to_dict,
    rules_for,
    spec_from_ruleset,
)
from inspector.rules.match import report_for_spec
from inspector.rules.model import Rulesets, RulesReport

DATA = Path(__file__).parent / "data"
DOCKER28 = (DATA / "iptables-docker28.txt").read_text()
DOCKER29 = (DATA / "nft-docker29.json").read_text()
NETAVARK_NFT = (DATA / "nft-netavark.json").read_text()
NETAVARK_IPT = (DATA / "iptables-podman-netavark.txt").read_text()
HOST_NFT = (DATA / "nft-host-with-netavark.json").read_text()


def _container(name: str, ip: str, gw: str, veth: str, idx: int, bridge: str) -> Container:
    return Container(
        id=name * 4,
        name=name,
        image="busybox",
        state="running",
        pid=100 + idx,
        network_mode="bridge",
        networks=(NetworkAttachment("net-" + bridge, ip, gw, None),),
        interfaces=(
            Interface(
                "eth0",
                2,
                idx,
                kind="veth",
                addresses=(f"{ip}/16",),
                peer=PeerRef(veth, idx, bridge),
            ),
        ),
    )


def _snapshot() -> Snapshot:
    """docker0 172.17.0.0/16 (c1 172.17.0.2), br-noicc 172.18.0.0/16 (c2 172.18.0.2) and
    podman0 10.88.0.0/16 (pod 10.88.0.2): the hosts the recorded rulesets describe."""
    bridges = (
        ("docker0", "172.17.0.1/16", "c1", "172.17.0.2", "veth1", 11),
        ("br-noicc", "172.18.0.1/16", "c2", "172.18.0.2", "veth2", 12),
        ("podman0", "10.88.0.1/16", "pod", "10.88.0.2", "veth0", 13),
    )
    interfaces = [Interface("lo", 1), Interface("eth0", 3, addresses=("192.0.2.2/24",))]
    out_bridges = []
    containers = []
    for i, (br, addr, name, ip, veth, idx) in enumerate(bridges):
        interfaces.append(Interface(br, 5 + i, kind="bridge", addresses=(addr,)))
        interfaces.append(
            Interface(veth, idx, kind="veth", master=br, container=name, container_interface="eth0")
        )
        out_bridges.append(
            Bridge(br, 5 + i, "up", (addr,), ports=(BridgePort(veth, idx, "forwarding", name),))
        )
        containers.append(_container(name, ip, addr.split("/")[0], veth, idx, br))
    return Snapshot(
        taken_at="2026-12-01T10:00:00Z",
        hostname="h",
        host=HostNetwork(interfaces=tuple(interfaces)),
        bridges=tuple(out_bridges),
        containers=tuple(containers),
    )


SNAP = _snapshot()


def _lines(report: RulesReport) -> list[tuple[str, str, str]]:
    return [(m.table, m.chain, m.rule.text) for m in report.matches]


def _one(report: RulesReport, chain: str, text: str):  # type: ignore[no-untyped-def]
    found = [m for m in report.matches if m.chain == chain and text in m.rule.text]
    assert len(found) == 1, (chain, text, _lines(report))
    return found[0]


# --- nft JSON -----------------------------------------------------------------------------


def test_nft_json_tables_chains_counters_and_verdict_maps() -> None:
    tables = parse_nft_json(DOCKER29)
    assert [t.label for t in tables] == ["ip docker-bridges (nft)", "ip6 docker-bridges (nft)"]
    ip4 = tables[0]
    fwd = ip4.chain("filter-FORWARD")
    assert fwd is not None and fwd.policy == "ACCEPT"
    assert fwd.hook == "type filter hook forward priority 0"
    vmap = fwd.rules[0]
    assert vmap.text == "oifname vmap @filter-forward-in-jumps"
    assert vmap.jumps == (
        ("docker0", "filter-forward-in__docker0"),
        ("br-noicc", "filter-forward-in__br-noicc"),
    )
    dnat = ip4.chain("nat-prerouting-and-output").rules[0]  # type: ignore[union-attr]
    assert (
        dnat.text
        == 'iifname != "docker0" tcp dport 8080 counter dnat to 172.17.0.2:80 comment "DNAT"'
    )
    assert dnat.counters is not None and dnat.counters.packets == 0
    assert dnat.target is not None and dnat.target.name == "DNAT"
    assert dnat.target.option("--to-destination").value == "172.17.0.2:80"  # type: ignore[union-attr]
    assert str(dnat.selector("-i")) == "! -i docker0" and dnat.comment == "DNAT"
    assert explain(dnat) == (
        "forwards TCP traffic to port 8080 that does not come from docker0 to 172.17.0.2:80 (DNAT)"
    )
    # netavark's mark match is not understood: kept as printed, "may match" in the walk.
    post = parse_nft_json(NETAVARK_NFT)[0].chain("POSTROUTING")
    assert post is not None and post.rules[0].text == "meta mark & 8192 == 8192 masquerade"
    assert explain(post.rules[0]).startswith("masquerades traffic when meta mark & 8192 == 8192")


def test_nft_json_errors_are_one_line() -> None:
    for bad in ("", "[]", '{"nftables": 3}', "table ip x {"):
        with pytest.raises(ParseError) as err:
            parse_nft_json(bad)
        assert "\n" not in str(err.value)


# --- Docker 29: nftables ------------------------------------------------------------------


def test_docker29_container_rules_follow_its_bridges_verdict_map_entries() -> None:
    rs = parse_saved("nft -j", DOCKER29)
    report = rules_for(SNAP, rs, "c2")
    chains = {m.chain for m in report.matches}
    # The verdict maps lead to br-noicc's chains, never docker0's.
    assert "filter-forward-in__br-noicc" in chains and "nat-postrouting-out__br-noicc" in chains
    assert not any("docker0" in c for c in chains)
    vmap = _one(report, "filter-FORWARD", "oifname vmap")
    assert vmap.reason == (
        'oifname "br-noicc" -> filter-forward-in__br-noicc (its bridge) (verdict map)'
    )
    icc = _one(report, "filter-forward-in__br-noicc", 'comment "ICC"')
    assert icc.design.startswith("inter-container communication is off on br-noicc")
    unpublished = _one(report, "filter-forward-in__br-noicc", "UNPUBLISHED PORT DROP")
    assert unpublished.design.startswith("isolates it from other networks")
    assert not unpublished.direct
    direct = _one(report, "raw-PREROUTING", "DROP DIRECT ACCESS")
    assert direct.explanation == "drops traffic to 172.18.0.2 that does not come from br-noicc"
    assert report.blocking == ()  # every DROP here is Docker's design
    assert len(report.by_design) == 3
    (masq,) = masquerade_rules_for_subnet(rs, "172.18.0.0/16", "br-noicc")
    assert masq.table == "ip docker-bridges (nft)" and masq.chain == "nat-postrouting-out__br-noicc"


def test_docker29_ipv6_table() -> None:
    rs = parse_saved("nft -j", DOCKER29)
    spec = spec_from_ruleset(rs, "fd17::2")
    report = report_for_spec(spec, rs)
    assert [(m.table, m.chain) for m in report.matches if m.direct] == [
        ("ip6 docker-bridges (nft)", "raw-PREROUTING"),
        ("ip6 docker-bridges (nft)", "filter-forward-in__docker0"),
    ]


# --- Docker 28: iptables ------------------------------------------------------------------


def test_docker28_layout_attributed_and_explained() -> None:
    rs = parse_saved("iptables-save", DOCKER28)
    report = rules_for(SNAP, rs, "c2")
    raw = _one(report, "PREROUTING", "-d 172.18.0.2/32 ! -i br-noicc -j DROP")
    assert raw.table == "ip raw"
    assert raw.explanation == "drops traffic to 172.18.0.2 that does not come from br-noicc"
    assert raw.design.startswith("blocks direct access") and not raw.blocking
    icc = _one(report, "DOCKER-FORWARD", "-i br-noicc -o br-noicc -j DROP")
    assert "enable_icc=false" in icc.design and not icc.blocking
    iso = _one(report, "DOCKER-ISOLATION-STAGE-2", "-o br-noicc -j DROP")
    assert iso.design.startswith("isolates it from other networks")
    ct = _one(report, "DOCKER-CT", "-o br-noicc")
    assert ct.explanation == (
        "accepts traffic leaving by br-noicc of connections already established "
        "(replies and related traffic)"
    )
    # docker0's isolation DROP shows as context (where c2's packets to docker0 stop).
    other = _one(report, "DOCKER-ISOLATION-STAGE-2", "-o docker0 -j DROP")
    assert not other.direct and not other.blocking and other.design
    assert report.blocking == ()
    text = format_report(report)
    assert text[-1] == (
        "24 rules shown, 11 naming c2, none blocking; 6 DROPs by the engine's design"
    )
    assert any(ln.startswith("design ") and "-i br-noicc -o br-noicc -j DROP" in ln for ln in text)
    data = report_to_dict(report)
    assert data["blocking"] == 0 and data["by_design"] == 6


def test_docker28_isolation_is_not_blocking_for_the_doctor() -> None:
    rs = parse_saved("iptables-save", DOCKER28)
    # The FORWARD/DOCKER-USER walk finds no fault for a healthy container.
    assert blocking_rules_for_address(rs, "172.17.0.2") == []


# --- netavark -----------------------------------------------------------------------------


def test_netavark_iptables_podman0_shows_masquerade_and_the_forward_jump() -> None:
    rs = parse_saved("iptables-save", NETAVARK_IPT)
    report = rules_for(SNAP, rs, "podman0")
    jump = _one(report, "FORWARD", "-j NETAVARK_FORWARD")
    assert jump.reason == "path: jumps to NETAVARK_FORWARD" and not jump.direct
    masq = _one(report, "NETAVARK-1D8721804F16F", "! -d 224.0.0.0/4 -j MASQUERADE")
    assert masq.table == "ip nat"
    _one(report, "POSTROUTING", "-s 10.88.0.0/16 -j NETAVARK-1D8721804F16F")
    dnat = _one(report, "NETAVARK-DN-1D8721804F16F", "--to-destination 10.88.0.2:80")
    assert dnat.reason.startswith("DNAT *:18182 -> 10.88.0.2:80/tcp")
    _one(report, "NETAVARK_FORWARD", "-s 10.88.0.0/16 -j ACCEPT")
    masqs = masquerade_rules_for_subnet(rs, "10.88.0.0/16", "podman0")
    assert [m.chain for m in masqs] == ["NETAVARK-1D8721804F16F"]


def test_netavark_nft_podman0() -> None:
    rs = parse_saved("nft -j", NETAVARK_NFT)
    report = rules_for(SNAP, rs, "podman0")
    assert _one(report, "nv_2f259bab_10_88_0_0_nm16", "masquerade").explanation == (
        "masquerades traffic not to 224.0.0.0/4: its source becomes the outgoing interface's "
        "address"
    )
    iso = _one(report, "NETAVARK-ISOLATION-3", 'oifname "podman0" drop')
    assert iso.design.startswith("isolates it from other networks")
    invalid = blocking_rules_for_address(rs, "10.88.0.2")
    assert invalid == []  # "ct state invalid drop" is never a valid connection's fault
    (masq,) = masquerade_rules_for_subnet(rs, "10.88.0.0/16", "podman0")
    assert masq.reason == (
        "MASQUERADE of 10.88.0.0/16 (reached by ip saddr 10.88.0.0/16 jump "
        "nv_2f259bab_10_88_0_0_nm16)"
    )
    _one(report, "FORWARD", "ip saddr 10.88.0.0/16 accept")


# --- saved rulesets and capture -----------------------------------------------------------


def test_detect_source_and_parse_saved() -> None:
    assert detect_source(DOCKER28) == "iptables-save"
    assert detect_source(DOCKER29) == "nft -j"
    assert detect_source("*filter\n-A INPUT -s fd00::1/128 -j DROP\nCOMMIT\n") == "ip6tables-save"
    assert detect_source("table inet x {\n}\n") == "nft"
    with pytest.raises(ParseError):
        detect_source("hello")
    with pytest.raises(ValueError, match="unknown ruleset source"):
        parse_saved("pf", "")
    v6 = parse_saved("ip6tables-save", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
    assert [t.label for t in v6.tables] == ["ip6 filter"]


def test_spec_from_ruleset_bridge_subnet_and_unknown() -> None:
    rs = parse_saved("iptables-save", DOCKER28)
    spec = spec_from_ruleset(rs, "br-noicc")
    assert [str(s) for s in spec.subnets] == ["172.18.0.0/16"]
    report = report_for_spec(spec, rs)
    _one(report, "DOCKER", "--to-destination 172.18.0.2:80")  # its container found by subnet
    assert spec_from_ruleset(rs, "10.0.0.0/8").kind == "subnet"
    with pytest.raises(UnknownItem, match="names 'nope'"):
        spec_from_ruleset(rs, "nope")
    with pytest.raises(UnknownItem):
        spec_from_ruleset(rs, "10.0.0.0/99")


def test_parse_captured_leaves_out_iptables_nft_tables_from_nft() -> None:
    rs = parse_captured([("iptables-save", NETAVARK_IPT), ("nft -j", HOST_NFT)])
    labels = [t.label for t in rs.tables]
    assert labels == ["ip filter", "ip nat"]  # nft's copies (with opaque xt targets) dropped
    assert rs.sources == ("iptables-save", "nft -j")
    broken = parse_captured([("iptables-save", "*filter\n-A X\n"), ("nft -j", "{")])
    assert broken.tables == () and len(broken.warnings) == 2
    empty = parse_captured([("nft -j", ""), ("nft", "\n")])
    assert empty.tables == () and empty.warnings == () and empty.sources == ("nft -j", "nft")


class FakeTools:
    def __init__(self, installed: dict[str, RunResult]) -> None:
        self.installed = installed
        self.calls: list[str] = []

    def which(self, name: str) -> str | None:
        return f"/fake/{name}" if any(k.split()[0] == name for k in self.installed) else None

    def run(self, argv: Sequence[str], timeout: float) -> RunResult:
        key = " ".join([argv[0].rsplit("/", 1)[-1], *argv[1:]])
        self.calls.append(key)
        return self.installed.get(key, RunResult(1, "", "no such command"))


def test_capture_returns_raw_texts_and_read_parses_them(tmp_path: Path) -> None:
    tools = FakeTools(
        {
            "iptables-save -c": RunResult(0, DOCKER28, ""),
            "ip6tables-save -c": RunResult(0, "", ""),
            "nft -j list ruleset": RunResult(0, DOCKER29, ""),
        }
    )
    texts = capture(tools.run, which=tools.which, proc_net=str(tmp_path))
    assert texts == [("iptables-save", DOCKER28), ("ip6tables-save", ""), ("nft -j", DOCKER29)]
    assert "nft list ruleset" not in tools.calls  # JSON worked: no text fallback
    rs = read_rulesets(tools.run, which=tools.which, proc_net=str(tmp_path))
    assert [t.label for t in rs.tables] == [
        "ip raw",
        "ip filter",
        "ip nat",
        "ip docker-bridges (nft)",
    ]
    assert rs.sources == ("iptables-save -c", "nft -j list ruleset")


# --- a real nft table in a scratch namespace ----------------------------------------------


def _nft_problem() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("nft") is None or shutil.which("ip") is None:
        return "needs nft and ip (apt-get install nftables iproute2)"
    return None


@pytest.fixture
def scratch_netns() -> Iterator[str]:
    problem = _nft_problem()
    if problem:
        pytest.skip(f"real nft test skipped: {problem}")
    name = f"cnrl-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _in_ns(ns: str, *argv: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def test_real_nft_docker29_ruleset_parses_like_the_recording(scratch_netns: str) -> None:
    _in_ns(scratch_netns, "nft", "-f", str(DATA / "nft-docker29.nft"))
    live = parse_nft_json(_in_ns(scratch_netns, "nft", "-j", "list", "ruleset"))
    recorded = parse_nft_json(DOCKER29)

    def shape(tables):  # type: ignore[no-untyped-def]
        return [
            (t.label, c.name, c.policy, r.text, r.jumps)
            for t in tables
            for c in t.chains
            for r in c.rules
        ]

    assert shape(live) == shape(recorded)
    report = rules_for(SNAP, Rulesets(tables=live), "c1")
    assert {m.chain for m in report.by_design} == {"raw-PREROUTING", "filter-forward-in__docker0"}


def test_real_nft_counters_move_with_real_packets(scratch_netns: str) -> None:
    table = "cnrl_count"
    _in_ns(scratch_netns, "ip", "link", "set", "lo", "up")
    _in_ns(
        scratch_netns,
        "nft",
        "-f",
        "-",
        stdin=(
            f"table inet {table} {{\n"
            "  chain out {\n"
            "    type filter hook output priority 0; policy accept;\n"
            '    oifname "lo" udp dport 9 counter accept comment "cnrl"\n'
            "  }\n"
            "}\n"
        ),
    )
    send = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for _ in range(3): s.sendto(b'x' * 10, ('127.0.0.1', 9))\n"
    )
    _in_ns(scratch_netns, sys.executable, "-c", send)
    (parsed,) = parse_nft_json(_in_ns(scratch_netns, "nft", "-j", "list", "ruleset"))
    assert parsed.label == f"inet {table} (nft)"
    (rule,) = parsed.chain("out").rules  # type: ignore[union-attr]
    assert rule.text == 'oifname "lo" udp dport 9 counter accept comment "cnrl"'
    assert rule.counters is not None and rule.counters.packets == 3
    assert rule.counters.bytes == 3 * (20 + 8 + 10)  # IPv4 + UDP headers + payload
    assert explain(rule) == "accepts UDP traffic to port 9 leaving by lo"
    json.loads(_in_ns(scratch_netns, "nft", "-j", "list", "ruleset"))  # still valid JSON


# --- the command ---------------------------------------------------------------------------


def test_cli_rules_from_a_saved_ruleset(tmp_path: Path) -> None:
    from tests.cli import assert_one_line_error, cnet

    # No snapshot, no tool, no Docker: only the file is read.
    env = {"DOCKER_HOST": "unix:///nonexistent/cnrl.sock", "PATH": "/nonexistent"}
    proc = cnet("rules", "br-noicc", "--ruleset", str(DATA / "iptables-docker28.txt"), env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "rules for interface br-noicc (172.18.0.0/16; from the saved ruleset)"
    assert any(ln.startswith("design ") and "-i br-noicc -o br-noicc -j DROP" in ln for ln in lines)
    assert "= drops traffic to 172.18.0.2 that does not come from br-noicc" in proc.stdout
    proc = cnet(
        "rules", "172.17.0.2", "--ruleset", str(DATA / "nft-docker29.json"), "--json", env=env
    )
    data = json.loads(proc.stdout)
    assert data["kind"] == "address" and data["by_design"] == 1  # its direct-access DROP
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    line = assert_one_line_error(cnet("rules", "x", "--ruleset", str(bad), env=env), 2)
    assert line == (
        f"cnet: {bad}: not a saved ruleset: expected `iptables-save` text or "
        "`nft -j list ruleset` JSON"
    )
    line = assert_one_line_error(
        cnet("rules", "x", "--ruleset", str(tmp_path / "none"), env=env), 2
    )
    assert line.startswith("cnet: cannot read ") and line.endswith("No such file or directory")
    line = assert_one_line_error(
        cnet("rules", "nope", "--ruleset", str(DATA / "nft-docker29.json"), env=env), 2
    )
    assert "no rule of the saved ruleset names 'nope'" in line


def test_kube_proxy_nft_and_firewalld_tables() -> None:
    """``nft-kube-firewalld.nft``: kube-proxy's nft mode (concatenated verdict maps, numgen,
    marks) and a firewalld-like forward chain with sets, loaded and dumped by nft 1.0.6."""
    rs = parse_saved("nft -j", (DATA / "nft-kube-firewalld.json").read_text())
    assert [t.label for t in rs.tables] == ["ip kube-proxy (nft)", "inet firewalld (nft)"]
    services = rs.tables[0].chain("services")
    assert services is not None
    vmap = services.rules[0]
    assert vmap.text == "ip daddr . meta l4proto . th dport vmap @service-ips"
    assert ("10.96.0.1 . tcp . 443", "service-2QRHZV4L-default/kubernetes/tcp/https") in vmap.jumps
    assert explain(vmap).startswith("sends traffic to the chain its ip daddr . meta l4proto")
    mark = rs.tables[0].chain("mark-for-masquerade").rules[0]  # type: ignore[union-attr]
    assert explain(mark) == "sets meta mark to meta mark | 16384 on traffic"
    report = report_for_spec(spec_from_ruleset(rs, "192.168.0.2"), rs)
    assert {m.chain for m in report.matches if m.direct} == {
        "endpoint-ABC-default/kubernetes/tcp/https__192.168.0.2/6443"
    }
    # An nft set of interface names matches any of them.
    fw = report_for_spec(spec_from_ruleset(rs, "docker0"), rs)
    (accept,) = [m for m in fw.matches if m.table == "inet firewalld (nft)"]
    assert accept.rule.text == 'iifname { "br-x", "docker0" } accept'
    assert accept.explanation == "accepts traffic coming in by br-x or docker0"


# --- the doctor's walk over the new layouts ----------------------------------------------


def test_walk_finds_the_accept_in_docker28_and_docker29_layouts() -> None:
    import ipaddress

    from inspector.rules.walk import NewConnection, first_accept

    filt = parse_saved("iptables-save", DOCKER28).table("ip filter")
    assert filt is not None
    out = NewConnection("br-noicc", ipaddress.ip_address("172.18.0.2"), "eth0")
    found = first_accept(filt, "FORWARD", out)
    assert (
        found is not None and found.text == "-A DOCKER-FORWARD -i br-noicc ! -o br-noicc -j ACCEPT"
    )
    on0 = NewConnection("docker0", ipaddress.ip_address("172.17.0.2"), "eth0")
    found = first_accept(filt, "FORWARD", on0)
    assert found is not None and found.text == "-A DOCKER-FORWARD -i docker0 -j ACCEPT"
    # Without Docker's per-bridge ACCEPT nothing takes it: the policy (DROP) does.
    flushed = DOCKER28.replace("[0:0] -A DOCKER-FORWARD -i br-noicc ! -o br-noicc -j ACCEPT\n", "")
    table = parse_saved("iptables-save", flushed).table("ip filter")
    assert table is not None and first_accept(table, "FORWARD", out) is None

    nft = parse_saved("nft -j", DOCKER29).table("ip docker-bridges (nft)")
    assert nft is not None
    found = first_accept(nft, "filter-FORWARD", on0)  # through iifname's verdict map
    assert found is not None and found.chain == "filter-forward-out__docker0"
    assert found.comment == "OUTGOING"
    stranger = NewConnection("br-other", ipaddress.ip_address("172.19.0.2"), "eth0")
    assert first_accept(nft, "filter-FORWARD", stranger) is None  # no element for it
