"""``cnet doctor`` against the real engine: each fault made on purpose, then undone.

Faults are made only on a network and containers this module creates (its own bridge,
its own veths, its own subnet's MASQUERADE rule), never on docker0's ports.  Each is
undone in a ``finally`` and the undo is verified; ``ip_forward`` is 0 only for the
fraction of a second one diagnosis takes, because other test runs share it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from inspector.cli import main
from inspector.doctor import CHECK_IDS, IPV6_CHECK_IDS, diagnose
from inspector.live.runner import Collector
from tests.cli import cnet
from tests.hoststate import host_changes, host_state, mine, settled_host_state
from tests.lab import _OCTET, PREFIX, Lab, host_links, sh

NET = PREFIX + "dr-net"
BRIDGE = PREFIX + "drbr"  # at most 15 characters: a link name
SUBNET = f"172.29.{_OCTET}.0/24"
PATIENT = PREFIX + "dr-patient"
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


@pytest.fixture(scope="module")
def patient(lab: Lab) -> str:
    """A container alone on a network of its own: faults on it disturb nobody else."""
    lab.network(NET, "--subnet", SUBNET, "-o", f"com.docker.network.bridge.name={BRIDGE}")
    lab.run(PATIENT, "--net", NET)
    return PATIENT


def host_veth(lab: Lab, name: str) -> str:
    """The host end of a container's eth0, from iproute2 (not from cnet)."""
    eth0 = next(link for link in lab.ip_links_in(name) if link["ifname"] == "eth0")
    by_index = {link["ifindex"]: link["ifname"] for link in host_links()}
    return str(by_index[eth0["link_index"]])


def doctor_json(capsys: pytest.CaptureFixture[str], *names: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--json", *names])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def checks_of(data: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    entry = next(c for c in data["containers"] if c["name"] == name)
    return {c["id"]: c for c in entry["checks"]}


def uplink_mtu() -> int:
    """The MTU of the host's IPv4 default route's device, from iproute2."""
    dev = json.loads(sh("ip", "-j", "route", "show", "default"))[0]["dev"]
    return int(_link(dev)["mtu"])


def healthy(*, published: bool = False, mtu: int = 1500) -> dict[str, str]:
    """What a healthy container's checks say here: no IPv6 in the lab, ports only when
    published, and the MTU warns when this host's uplink is below the containers' (this
    machine's uplink is 1400: a real finding, not a test artefact)."""
    out = {i: ("skip" if i in IPV6_CHECK_IDS else "pass") for i in CHECK_IDS}
    out["ports"] = "pass" if published else "skip"
    out["mtu"] = "warn" if mtu > uplink_mtu() else "pass"
    return out


def test_healthy_container_passes_every_check(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = settled_host_state()
    code, data = doctor_json(capsys, patient)
    checks = checks_of(data, patient)
    assert list(checks) == list(CHECK_IDS)
    assert {i: c["status"] for i, c in checks.items()} == healthy(), checks
    assert code == 0
    # Docker's embedded resolver and its DNAT inside the namespace (read with nsenter).
    assert "127.0.0.11" in checks["dns"]["summary"]
    assert "--to-destination 127.0.0.11:" in json.dumps(checks["dns"]["evidence"])
    # The evidence names what iproute2 and docker say.
    veth = host_veth(lab, patient)
    gateway = lab.inspect(patient)["NetworkSettings"]["Networks"][NET]["Gateway"]
    assert checks["veth"]["evidence"]["eth0 host end"] == veth
    assert checks["veth"]["evidence"][f"{veth} master"] == BRIDGE
    assert checks["bridge"]["summary"] == f"{BRIDGE} is up and holds {gateway}"
    assert checks["gateway"]["evidence"]["pinged"].startswith(f"{gateway} from inside")
    assert f"-A POSTROUTING -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE" in json.dumps(checks)
    assert host_changes(before, host_state(), mine(lab)) == []


def test_veth_off_its_bridge_fails_naming_both(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    veth = host_veth(lab, patient)
    sh("ip", "link", "set", veth, "nomaster")
    try:
        code, data = doctor_json(capsys, patient)
    finally:
        sh("ip", "link", "set", veth, "master", BRIDGE)
    assert _master(veth) == BRIDGE
    check = checks_of(data, patient)["veth"]
    assert code == 1 and check["status"] == "fail"
    assert veth in check["summary"] and BRIDGE in check["summary"]
    assert check["fix"] == f"ip link set {veth} master {BRIDGE}"
    assert check["evidence"][f"{veth} master"] == "(none)"


def test_veth_down_fails_saying_it_is_down(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    veth = host_veth(lab, patient)
    sh("ip", "link", "set", veth, "down")
    try:
        code, data = doctor_json(capsys, patient)
    finally:
        sh("ip", "link", "set", veth, "up")
    assert "UP" in _link(veth)["flags"]
    checks = checks_of(data, patient)
    assert code == 1 and checks["veth"]["status"] == "fail"
    assert f"{veth} (host end of eth0) is down" in checks["veth"]["summary"]
    assert checks["veth"]["fix"] == f"ip link set {veth} up"
    assert checks["gateway"]["status"] == "fail"  # the symptom, after the cause


def test_drop_in_docker_user_fails_showing_the_rule(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ip = lab.container_ip(patient, NET)
    rule = ["DOCKER-USER", "-d", f"{ip}/32", "-j", "DROP"]
    sh("iptables", "-I", *rule)
    try:
        code, data = doctor_json(capsys, patient)
    finally:
        sh("iptables", "-D", *rule)
    assert f"-d {ip}/32" not in sh("iptables-save", "-t", "filter")
    check = checks_of(data, patient)["forward-drop"]
    assert code == 1 and check["status"] == "fail"
    assert "DOCKER-USER" in check["summary"]
    assert f"-A DOCKER-USER -d {ip}/32 -j DROP" in json.dumps(check["evidence"])
    assert check["fix"] == f"iptables -t filter -D DOCKER-USER -d {ip}/32 -j DROP"


def _chain_rules(table: str, chain: str) -> list[str]:
    return [
        line
        for line in sh("iptables", "-t", table, "-S", chain).splitlines()
        if line.startswith("-A ")
    ]


@contextlib.contextmanager
def rule_removed(table: str, spec: str) -> Iterator[str]:
    """Remove one of Docker's rules for this module's network; put it back where it was
    (verified)."""
    chain, args = spec.split()[1], spec.split()[2:]
    rules = _chain_rules(table, chain)
    assert spec in rules, rules
    at = rules.index(spec)
    before, after = rules[at - 1] if at else None, rules[at + 1] if at + 1 < len(rules) else None
    sh("iptables", "-t", table, "-D", chain, *args)
    try:
        yield spec
    finally:
        now = _chain_rules(table, chain)
        if after in now:  # same place: just before the rule that followed it
            sh("iptables", "-t", table, "-I", chain, str(now.index(after) + 1), *args)
        elif before in now:
            sh("iptables", "-t", table, "-I", chain, str(now.index(before) + 2), *args)
        else:
            sh("iptables", "-t", table, "-A", chain, *args)
    restored = _chain_rules(table, chain)
    at = restored.index(spec)
    assert after is None or after not in restored or restored[at + 1] == after
    assert before is None or before not in restored or restored[at - 1] == before


@pytest.fixture
def masquerade_removed(patient: str) -> Iterator[str]:
    with rule_removed("nat", f"-A POSTROUTING -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE") as spec:
        yield spec


def test_forward_drop_policy_without_the_bridge_accept_fails(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a firewall reload that flushes FORWARD does to a network, made on this one only."""
    assert sh("iptables", "-S", "FORWARD").splitlines()[0] == "-P FORWARD DROP"
    with rule_removed("filter", f"-A FORWARD -i {BRIDGE} ! -o {BRIDGE} -j ACCEPT"):
        code, data = doctor_json(capsys, patient)
    check = checks_of(data, patient)["forward-drop"]
    assert code == 1 and check["status"] == "fail", check
    assert check["summary"] == (
        f"FORWARD's policy is DROP and no rule accepts new connections from {BRIDGE}"
    )
    assert check["fix"] == f"iptables -t filter -I FORWARD -i {BRIDGE} ! -o {BRIDGE} -j ACCEPT"
    # Restored: the same diagnosis passes again, naming the rule that accepts.
    code, data = doctor_json(capsys, patient)
    check = checks_of(data, patient)["forward-drop"]
    assert check["status"] == "pass"
    assert f"-A FORWARD -i {BRIDGE} ! -o {BRIDGE} -j ACCEPT" in json.dumps(check["evidence"])


def test_missing_masquerade_and_ip_forward_off_fail(
    lab: Lab, patient: str, masquerade_removed: str
) -> None:
    snapshot = Collector().collect()
    with open(IP_FORWARD, encoding="ascii") as f:
        original = f.read()
    try:
        with open(IP_FORWARD, "w", encoding="ascii") as f:
            f.write("0\n")
        (report,) = diagnose(snapshot, [patient])
    finally:
        with open(IP_FORWARD, "w", encoding="ascii") as f:
            f.write(original)
    with open(IP_FORWARD, encoding="ascii") as f:
        assert f.read() == original
    masq, fwd = report.check("masquerade"), report.check("ip-forward")
    assert masq is not None and masq.status == "fail" and SUBNET in masq.summary
    assert masq.fix == f"iptables -t nat -A POSTROUTING -s {SUBNET} ! -o {BRIDGE} -j MASQUERADE"
    assert fwd is not None and fwd.status == "fail"
    assert fwd.fix == "sysctl -w net.ipv4.ip_forward=1"


def test_mtu_differing_from_its_bridge_warns(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    small = PREFIX + "dr-mtu"
    lab.run(small, "--net", NET)
    pid = str(lab.pid(small))
    sh("nsenter", "-t", pid, "-n", "ip", "link", "set", "dev", "eth0", "mtu", "1400")
    try:
        code, data = doctor_json(capsys, small)
    finally:
        lab.remove(small)
    check = checks_of(data, small)["mtu"]
    assert check["status"] == "warn"
    assert check["summary"].startswith(f"eth0 has MTU 1400 but {BRIDGE} has 1500")
    assert check["fix"] == f"nsenter -t {pid} -n ip link set dev eth0 mtu 1500"
    assert code == 0  # a warning is not a failure


def test_internal_network_needs_no_masquerade(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """Docker adds no MASQUERADE for --internal networks: that is design, not a fault."""
    net, name = PREFIX + "dr-internal", PREFIX + "dr-inside"
    lab.network(net, "--internal", "--subnet", f"172.29.{_OCTET + 1}.0/24")
    lab.run(name, "--net", net)
    code, data = doctor_json(capsys, name)
    checks = checks_of(data, name)
    assert checks["masquerade"]["status"] == "skip"
    assert "internal network" in checks["masquerade"]["summary"]
    assert checks["ip-forward"]["status"] == "skip"
    assert code == 0, checks


def test_none_host_shared_and_stopped_modes(lab: Lab) -> None:
    proc = cnet("doctor", lab.none, lab.host, lab.shared, lab.stopped)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert f"{lab.none}: nothing to check" in out and "no network by design" in out
    assert f"{lab.host}: ok" in out and "host network mode" in out
    assert f"shares the network namespace of {lab.bridge}" in out
    assert f"{lab.stopped}: not running (exited)" in out
    assert "\033[" not in out  # not a terminal: no colour


def test_all_lab_containers_in_json(lab: Lab, patient: str) -> None:
    names = [n for n in lab.containers if n != PREFIX + "dr-inside"]
    proc = cnet("doctor", "--json", *names)
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert [c["name"] for c in data["containers"]] == names
    failed = {c["name"] for c in data["containers"] for k in c["checks"] if k["status"] == "fail"}
    assert failed == set(), failed  # the lab is healthy; the macvlan's gateway answers too
    assert checks_of(data, lab.macvlan)["gateway"]["status"] == "pass"
    # The default-bridge container is healthy too on docker0, with a listener behind its
    # published port (busybox httpd).
    on_docker0 = checks_of(data, lab.bridge)
    assert {i: c["status"] for i, c in on_docker0.items()} == healthy(published=True)
    assert "listener inside" in json.dumps(on_docker0["ports"]["evidence"])
    assert proc.returncode == 0


def test_unknown_container_is_a_usage_error(lab: Lab) -> None:
    proc = cnet("doctor", lab.bridge, PREFIX + "nosuch")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [f"cnet: no such container: '{PREFIX}nosuch'"]


def _link(name: str) -> dict[str, Any]:
    return dict(json.loads(sh("ip", "-j", "link", "show", "dev", name))[0])


def _master(name: str) -> str | None:
    master = _link(name).get("master")
    return str(master) if master else None


def test_output_mentions_no_secret(lab: Lab) -> None:
    proc = cnet("doctor", "--json", lab.bridge)
    assert not re.search("hunter2", proc.stdout + proc.stderr)


def test_icc_off_network_is_by_design(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """enable_icc=false: Docker's own ``-i BR -o BR -j DROP`` is shown as its design, never
    a failure, and no fix deletes it."""
    net, bridge, name = PREFIX + "dr-noicc", PREFIX + "drnoicc", PREFIX + "dr-noicc1"
    lab.network(
        net,
        "--subnet",
        f"172.29.{_OCTET + 2}.0/24",
        "-o",
        f"com.docker.network.bridge.name={bridge}",
        "-o",
        "com.docker.network.bridge.enable_icc=false",
    )
    lab.run(name, "--net", net)
    assert f"-i {bridge} -o {bridge} -j DROP" in sh("iptables-save", "-t", "filter")
    code, data = doctor_json(capsys, name)
    checks = checks_of(data, name)
    assert checks["forward-drop"]["status"] == "pass", checks["forward-drop"]
    assert "by design" in checks["forward-drop"]["summary"]
    assert any(
        "(by design)" in k and "enable_icc=false" in v
        for k, v in checks["forward-drop"]["evidence"].items()
    )
    assert all(" -D " not in (c["fix"] or "") for c in checks.values())
    assert code == 0
    proc = cnet("rules", bridge)
    (line,) = [ln for ln in proc.stdout.splitlines() if f"-i {bridge} -o {bridge} -j DROP" in ln]
    assert line.startswith("design ")


def test_published_port_with_nothing_listening_fails_until_something_listens(
    lab: Lab, patient: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = PREFIX + "dr-port"
    lab.run(name, "--net", NET, "-p", "127.0.0.1::80")  # runs sleep: nothing on 80
    host_port = sh("docker", "port", name, "80/tcp").strip().rsplit(":", 1)[1]
    try:
        code, data = doctor_json(capsys, name)
        check = checks_of(data, name)["ports"]
        assert code == 1 and check["status"] == "fail", check
        assert check["summary"] == (
            f"nothing listens on 80/tcp inside {name}: connections to host port {host_port} "
            "are refused or reset"
        )
        assert "--to-destination" in json.dumps(check["evidence"])  # its DNAT is there
        sh("docker", "exec", "-d", name, "httpd", "-f", "-p", "80", "-h", "/bin")
        _wait_listening(lab.pid(name), 80)
        code, data = doctor_json(capsys, name)
        check = checks_of(data, name)["ports"]
        assert check["status"] == "pass", check
        assert ":80/tcp" in check["summary"]
    finally:
        lab.remove(name)


def _wait_listening(pid: int, port: int) -> None:
    """Until the exec'd server has bound (a condition, not a duration, is waited for)."""
    import time

    from inspector.doctor.live import read_listeners

    deadline = time.monotonic() + 10
    while not any(x.port == port for x in read_listeners(f"/proc/{pid}/net") or ()):
        assert time.monotonic() < deadline, f"nothing bound {port} inside pid {pid}"
        time.sleep(0.05)


def test_path_mtu_above_the_uplink_warns_naming_both(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    uplink = uplink_mtu()
    mtu = uplink + 100
    net, name = PREFIX + "dr-bigmtu", PREFIX + "dr-bigmtu1"
    lab.network(
        net, "--subnet", f"172.29.{_OCTET + 3}.0/24", "-o", f"com.docker.network.driver.mtu={mtu}"
    )
    lab.run(name, "--net", net)
    code, data = doctor_json(capsys, name)
    check = checks_of(data, name)["mtu"]
    assert check["status"] == "warn", check
    assert f"eth0 has MTU {mtu}, above the host uplink" in check["summary"]
    assert f"'s {uplink}" in check["summary"]
    assert check["fix"] == f"recreate network {net} with -o com.docker.network.driver.mtu={uplink}"
    assert code == 0  # a warning is not a failure


def test_failed_and_no_ping_flags(lab: Lab, patient: str) -> None:
    proc = cnet("doctor", "--no-ping", "--failed", patient, lab.none)
    assert proc.returncode == 0 and proc.stdout == "no container fails a check\n", proc.stdout
    proc = cnet("doctor", "--no-ping", patient)
    assert "(without the gateway ping)" in proc.stdout.splitlines()[0]
    assert proc.stdout.rstrip().endswith("gateways not pinged")
