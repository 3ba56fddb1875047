"""``cnet rules`` against the real lab, compared with ``iptables-save`` / ``iptables -S``.

Run with ``CNET_LAB_ID=<n>`` when others use the engine at the same time.  The only rule
added is a DROP for this lab's own container address, removed in ``finally``; the only
traffic is a ping between two of this lab's containers.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.live.runner import Collector
from inspector.rules import (
    blocking_rules_for_address,
    counter_delta,
    masquerade_rules_for_subnet,
    read_rulesets,
    rules_for,
)
from tests.cli import ROOT, assert_one_line_error, cnet
from tests.hoststate import host_changes, host_state, mine
from tests.lab import Lab, sh


def _out_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout.splitlines()


def _spec(rule: str) -> str:
    """``-A CHAIN spec`` -> ``spec``, as cnet prints it."""
    return rule.split(" ", 2)[2]


def _save_lines(table: str) -> list[str]:
    """Rules of one table from ``iptables-save -t TABLE`` (no counters)."""
    return [ln for ln in sh("iptables-save", "-t", table).splitlines() if ln.startswith("-A ")]


def _shown(lines: list[str], rule_spec: str) -> list[str]:
    return [ln for ln in lines if f"  {rule_spec}  # " in ln]


def test_container_shows_its_dnat_with_the_published_port(lab: Lab) -> None:
    ip = lab.container_ip(lab.bridge)
    port = lab.published_port
    dnat = [
        r
        for r in _save_lines("nat")
        if f"--to-destination {ip}:80" in r and f"--dport {port} " in r
    ]
    assert len(dnat) == 1, dnat
    lines = _out_lines(cnet("rules", lab.bridge))
    assert lines[0].startswith(f"rules for container {lab.bridge} ({ip};")
    (line,) = _shown(lines, _spec(dnat[0]))
    assert f"# DNAT 127.0.0.1:{port} -> {ip}:80/tcp" in line
    accept = [r for r in _save_lines("filter") if r.startswith(f"-A DOCKER -d {ip}/32 ")]
    assert len(accept) == 1 and _shown(lines, _spec(accept[0]))
    # --json: the same rule, for scripts.
    data = json.loads(cnet("rules", lab.bridge, "--json").stdout)
    rules = [r for t in data["tables"] for c in t["chains"] for r in c["rules"]]
    assert dnat[0] in [r["rule"] for r in rules]


def test_docker0_shows_masquerade_forward_rules_and_policy(lab: Lab) -> None:
    lines = _out_lines(cnet("rules", "docker0"))
    masq = [
        r
        for r in _save_lines("nat")
        if r.startswith("-A POSTROUTING -s 172.17.0.0/16 ! -o docker0")
    ]
    assert masq == ["-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"]
    (line,) = _shown(lines, _spec(masq[0]))
    assert "MASQUERADE unless leaving by docker0" in line
    forward = [r for r in sh("iptables", "-S", "FORWARD").splitlines() if "docker0" in r]
    assert len(forward) >= 4
    for r in forward:
        assert _shown(lines, _spec(r)), r
    policy = sh("iptables", "-S", "FORWARD").splitlines()[0].split()[-1]  # -P FORWARD DROP
    assert any(ln.startswith(f"  FORWARD: policy {policy} (") for ln in lines)
    # The doctor's helper agrees with iptables-save.
    rs = read_rulesets()
    assert [
        m.rule.text for m in masquerade_rules_for_subnet(rs, "172.17.0.0/16", "docker0")
    ] == masq


def test_user_network_by_name(lab: Lab) -> None:
    info = json.loads(sh("docker", "network", "inspect", lab.net1))[0]
    subnet = info["IPAM"]["Config"][0]["Subnet"]
    lines = _out_lines(cnet("rules", lab.net1))
    masq = f"-s {subnet} ! -o {lab.net1_bridge} -j MASQUERADE"
    assert f"-A POSTROUTING {masq}" in _save_lines("nat")
    assert _shown(lines, masq)


def _read_tty(argv: list[str], env: dict[str, str]) -> str:
    """Run with stdout on a pseudo-terminal; return what it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(30) == 0
    return b"".join(chunks).decode()


def test_a_drop_rule_for_the_container_is_flagged_blocking(lab: Lab) -> None:
    ip = lab.container_ip(lab.bridge)
    rule = ["DOCKER-USER", "-s", f"{ip}/32", "-j", "DROP"]
    sh("iptables", "-I", *rule)
    try:
        added = [
            r
            for r in sh("iptables", "-S", "DOCKER-USER").splitlines()
            if r.startswith(f"-A DOCKER-USER -s {ip}/32")
        ]
        assert added == [f"-A DOCKER-USER -s {ip}/32 -j DROP"]
        lines = _out_lines(cnet("rules", lab.bridge))
        (line,) = _shown(lines, _spec(added[0]))
        assert line.startswith("!! DROP") and f"# -s {ip}: its address" in line
        assert "\x1b[" not in "\n".join(lines)  # not a terminal: no colour, the marker stays
        data = json.loads(cnet("rules", lab.bridge, "--json").stdout)
        flagged = [
            r
            for t in data["tables"]
            for c in t["chains"]
            for r in c["rules"]
            if r["rule"] == added[0]
        ]
        assert len(flagged) == 1 and flagged[0]["blocking"] is True
        # Another container of the lab is not hit by it.
        other = json.loads(cnet("rules", lab.multi, "--json").stdout)
        assert added[0] not in [
            r["rule"] for t in other["tables"] for c in t["chains"] for r in c["rules"]
        ]
        # The doctor's helper finds it too.
        assert [m.rule.text for m in blocking_rules_for_address(read_rulesets(), ip)] == added
        # On a terminal: red and bold, unless NO_COLOR is set.
        argv = [sys.executable, "-m", "inspector", "rules", lab.bridge]
        tty = _read_tty(argv, dict(os.environ))
        assert re.search(r"\x1b\[1;31m!! DROP .*" + re.escape(f"-s {ip}/32 -j DROP"), tty)
        plain = _read_tty(argv, {**os.environ, "NO_COLOR": "1"})
        assert "\x1b[" not in plain and "!! DROP" in plain
    finally:
        sh("iptables", "-D", *rule)
    assert subprocess.run(["iptables", "-C", *rule], capture_output=True).returncode != 0


def test_counter_delta_after_a_ping_across_bridges(lab: Lab) -> None:
    """bridge -> multi crosses from docker0 to net1: Docker's isolation drops it; the
    counters of exactly that path move."""
    target = lab.container_ip(lab.multi, lab.net1)
    drop = f"-A DOCKER-ISOLATION-STAGE-2 -o {lab.net1_bridge} -j DROP"

    def independent() -> int:
        for ln in sh("iptables-save", "-c", "-t", "filter").splitlines():
            if ln.endswith(drop):
                return int(ln[1:].split(":")[0])
        raise AssertionError(drop)

    snapshot = Collector().collect()
    before = read_rulesets()
    start = independent()
    subprocess.run(
        ["docker", "exec", lab.bridge, "ping", "-c", "2", "-W", "1", target],
        capture_output=True,
        timeout=30,
    )
    after = read_rulesets()
    moved_independently = independent() - start
    assert moved_independently >= 2
    report = rules_for(snapshot, after, lab.bridge)
    changes = {c.rule.text: c for c in counter_delta(before, after, report) if c.rule}
    assert drop in changes and changes[drop].packets >= 2
    assert changes[drop].packets <= moved_independently
    stage1 = "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2"
    assert changes[stage1].packets >= 2


def test_unknown_item_is_one_line_exit_2(lab: Lab) -> None:
    line = assert_one_line_error(cnet("rules", "cnet-no-such-thing"), 2)
    assert line == "cnet: no container, bridge, interface or network named 'cnet-no-such-thing'"


def test_tools_missing_is_one_line_exit_1(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    line = assert_one_line_error(cnet("rules", "docker0", env={"PATH": str(empty)}), 1)
    assert "neither the iptables tools" in line and "nft" in line


@pytest.mark.parametrize("which", ["bridge", "docker0", "net1", "multi", "unknown"])
def test_rules_changes_nothing_on_the_host(lab: Lab, which: str) -> None:
    item = {
        "bridge": lab.bridge,
        "docker0": "docker0",
        "net1": lab.net1,
        "multi": lab.multi,
        "unknown": "cnet-no-such-thing",
    }[which]
    owned = mine(lab)
    before = host_state()
    tables = sh("nft", "list", "tables")
    modules = (
        Path("/proc/net/ip_tables_names").read_text(),
        Path("/proc/net/ip6_tables_names").read_text(),
    )
    for args in (("rules", item), ("rules", item, "--json", "--v6")):
        cnet(*args)
    assert host_changes(before, host_state(), owned) == []
    # No table created (ip6tables-nft, nft) and no legacy table loaded by reading.
    assert sh("nft", "list", "tables") == tables
    assert (
        Path("/proc/net/ip_tables_names").read_text(),
        Path("/proc/net/ip6_tables_names").read_text(),
    ) == modules


def test_docker_isolation_drop_is_by_design_not_blocking(lab: Lab) -> None:
    """Docker's own isolation DROP for docker0 is its design: marked ``design``, never ``!!``,
    and every shown rule is followed by its explanation."""
    drop = "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP"
    if drop not in _save_lines("filter"):
        pytest.skip("this engine writes no DOCKER-ISOLATION-STAGE-2 (Docker 28+ layout)")
    lines = _out_lines(cnet("rules", lab.bridge))
    (line,) = _shown(lines, _spec(drop))
    assert line.startswith("design ")
    at = lines.index(line)
    assert lines[at + 1].strip() == "= drops traffic leaving by docker0"
    assert lines[at + 2].strip().startswith("by design: isolates it from other networks")
    assert "none blocking" in lines[-1]
