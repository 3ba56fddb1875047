"""One verdict everywhere, on recorded data: a snapshot keeps the doctor's facts, and
``cnet doctor --from``, the reports, the TUI on a saved snapshot and the exporter judge
from them alike; a check skipped for want of a fact says so in the same words in each.
Also the namespace owner at the end of a chain, constant-time lookups, each runtime's MTU
fix, the export format by extension, and the words of ``--help``."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from inspector.cli import LIVE_ONLY
from inspector.doctor import (
    NOT_RECORDED,
    DnsFacts,
    DoctorFacts,
    GatewayPing,
    Listener,
    is_unchecked,
    run_checks,
    unchecked,
)
from inspector.doctor.offline import offline_reports
from inspector.doctor.recorded import record_facts, recorded_facts
from inspector.exporter.metrics import all_interface_labels, info_family, skipped_family
from inspector.model.snapshot import RulesetText, Snapshot
from inspector.render import format_of
from inspector.render.diff import diff
from inspector.render.difftext import summary_line
from inspector.render.html import render_html
from inspector.render.markdown import render_markdown
from inspector.render.snapshot_json import dumps, from_dict
from inspector.tui.backends import offline_doctor
from tests.cli import cnet
from tests.test_doctor_unit import EMBEDDED_DNS_RULES, docker_rules_text, healthy_facts, role

BRIDGE = "cnetlab-bridge"


def _fit(recorded: Snapshot) -> Snapshot:
    """The recorded lab with an uplink at 1500 and Docker's rules recorded."""
    host = replace(
        recorded.host,
        interfaces=tuple(
            replace(i, mtu=1500) if i.name == "eth0" else i for i in recorded.host.interfaces
        ),
    )
    rules = (RulesetText("iptables-save", docker_rules_text(recorded)),)
    return replace(recorded, host=host, rulesets=rules)


def _facts(snapshot: Snapshot, **changes: object) -> DoctorFacts:
    """Healthy facts, with the texts of the rules inside each namespace (what a snapshot
    records), and nothing listening behind cnetlab-bridge's published port."""
    from inspector.rules.recorded import recorded

    facts = healthy_facts(snapshot)
    dns = {
        name: replace(d, texts=(("iptables-save", EMBEDDED_DNS_RULES),)) if d.rulesets else d
        for name, d in facts.dns.items()
    }
    listeners = {**facts.listeners, BRIDGE: ()}
    wanted: dict[str, object] = {
        "rulesets": recorded(snapshot),
        "dns": dns,
        "listeners": listeners,
        "pinged": False,
        "pings": {},
        **changes,
    }
    return replace(facts, **wanted)  # type: ignore[arg-type]


def _saved(snapshot: Snapshot) -> Snapshot:
    """Written and read back, as a file is."""
    return from_dict(json.loads(dumps(snapshot)))


def _verdicts(reports: list) -> dict[str, list[tuple[str, str, str]]]:  # type: ignore[type-arg]
    return {r.name: [(c.id, c.status, c.summary) for c in r.checks] for r in reports}


def test_a_saved_snapshot_gets_the_live_doctors_verdict(recorded: Snapshot) -> None:
    snapshot = _fit(recorded)
    facts = _facts(snapshot)
    live = [run_checks(snapshot, c, facts) for c in snapshot.containers]
    bridge = next(r for r in live if r.name == BRIDGE)
    assert bridge.first_failure is not None and bridge.first_failure.id == "ports"

    saved = _saved(record_facts(snapshot, facts))
    assert saved.container(BRIDGE).doctor_facts.listeners == ()  # type: ignore[union-attr]
    assert _verdicts(offline_reports(saved)) == _verdicts(live)  # doctor --from
    assert _verdicts(offline_doctor(saved, (), False)) == _verdicts(live)  # the TUI on it
    for text in (render_markdown(saved), render_html(saved)):  # the reports
        assert "FAIL at ports" in text
    markdown = render_markdown(saved)
    row = next(line for line in markdown.splitlines() if f"| {BRIDGE} |" in line)
    assert row.startswith("| FAIL at ports |")


def test_without_the_facts_each_output_names_the_skipped_check_in_one_sentence(
    recorded: Snapshot,
) -> None:
    snapshot = _fit(recorded)  # rules recorded, nothing else
    reports = offline_reports(snapshot)
    bridge = next(r for r in reports if r.name == BRIDGE)
    ports = bridge.check("ports")
    assert ports is not None and ports.status == "skip"
    sentence = unchecked("the sockets listening inside the namespace were not read", NOT_RECORDED)
    assert ports.summary == sentence
    for text in (render_markdown(snapshot), render_html(snapshot)):
        assert f"ports {sentence}" in text.replace("&#x27;", "'")
    skipped = {
        (s.labels["container"], s.labels["check"]): s.labels["reason"]
        for s in skipped_family(reports).samples
    }
    assert skipped[(BRIDGE, "ports")] == sentence
    # the checks that could be judged are not among them
    assert (BRIDGE, "forward-drop") not in skipped
    proc = cnet("doctor", "--from", "-", input=dumps(snapshot))
    assert f"ports: {sentence}" in proc.stdout


def test_rules_recorded_with_a_snapshot_are_used_by_doctor_from(recorded: Snapshot) -> None:
    facts = recorded_facts(_fit(recorded))
    assert facts.rulesets is not None and facts.rules_problem is None
    report = run_checks(_fit(recorded), BRIDGE, facts)
    check = report.check("forward-drop")
    assert check is not None and check.status == "pass"
    bare = run_checks(recorded, BRIDGE, recorded_facts(recorded))
    unknown = bare.check("forward-drop")
    assert unknown is not None and is_unchecked(unknown)
    assert unknown.summary == unchecked("the host's firewall rules were not read", NOT_RECORDED)


def test_a_gateway_left_unpinged_by_a_pinging_run_says_why(recorded: Snapshot) -> None:
    snapshot = _fit(recorded)
    facts = _facts(snapshot, pinged=True)  # pings asked for, none for this namespace
    gateway = run_checks(snapshot, BRIDGE, facts).check("gateway")
    assert gateway is not None and gateway.status == "skip"
    assert gateway.summary == unchecked(
        "the gateway was not pinged", "the run was stopped before its ping"
    )


def test_a_recorded_ping_is_judged_as_it_was(recorded: Snapshot) -> None:
    snapshot = _fit(recorded)
    gateway = role(snapshot, "bridge").networks[0].gateway or ""
    facts = _facts(snapshot, pinged=True, pings={BRIDGE: GatewayPing(gateway, 2, 0)})
    saved = _saved(record_facts(snapshot, facts))
    check = offline_reports(saved, [BRIDGE])[0].check("gateway")
    assert check is not None and check.status == "fail" and "did not answer" in check.summary


# -- namespaces, lookups ----------------------------------------------------------------


def _chain(recorded: Snapshot, *, inodes: bool) -> Snapshot:
    """cnetlab-shared uses cnetlab-bridge's namespace; cnetlab-chain uses cnetlab-shared's."""
    shared = role(recorded, "shared")
    chain = replace(shared, id="c" * 64, name="cnetlab-chain", netns_shared_with=shared.name)
    containers = (*recorded.containers, chain)
    if inodes:
        same = {BRIDGE, shared.name, chain.name}
        containers = tuple(
            replace(c, netns="net:[4026532001]") if c.name in same else c for c in containers
        )
    return replace(recorded, containers=containers)


@pytest.mark.parametrize("inodes", [True, False], ids=["by inode", "by name"])
def test_a_chain_is_judged_at_its_end(recorded: Snapshot, inodes: bool) -> None:
    snapshot = _chain(recorded, inodes=inodes)
    chain = snapshot.container("cnetlab-chain")
    assert chain is not None
    assert snapshot.namespace_owner(chain).name == BRIDGE
    facts = healthy_facts(snapshot)
    end = run_checks(snapshot, BRIDGE, facts)
    report = run_checks(snapshot, chain, facts)
    assert [(c.id, c.status) for c in report.checks] == [(c.id, c.status) for c in end.checks]
    assert f"namespace of {BRIDGE}" in report.note
    labels = {s.labels["container"]: s.labels for s in info_family(snapshot).samples}
    assert labels["cnetlab-chain"]["namespace"] == BRIDGE


def test_each_namespaces_interfaces_are_counted_once(recorded: Snapshot) -> None:
    snapshot = _chain(recorded, inodes=True)
    labelled = {container for container, _ in all_interface_labels(snapshot)}
    assert BRIDGE in labelled
    assert "cnetlab-shared" not in labelled and "cnetlab-chain" not in labelled


def test_lookups_by_name_id_and_unique_prefix(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    assert recorded.container(bridge.name) is bridge
    assert recorded.container(bridge.id) is bridge
    assert recorded.container(bridge.id[:6]) is bridge
    twin = replace(bridge, name="twin", id=bridge.id[:6] + "f" * 58)
    both = replace(recorded, containers=(*recorded.containers, twin))
    assert both.container(bridge.id[:6]) is None  # ambiguous, as docker says
    assert both.container(bridge.id[:7]) is bridge
    assert recorded.container(bridge.id[:3]) is None  # too short to be a prefix
    assert recorded.bridge("docker0") is not None and recorded.host_interface("nope") is None


# -- words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "network", "words"),
    [
        ("docker", "bridge", 'set "mtu": 1400 in /etc/docker/daemon.json and restart Docker'),
        ("docker", "cnetlab-net1", "-o com.docker.network.driver.mtu=1400"),
        ("podman", "podman", "in the [network] table of /etc/containers/containers.conf"),
        ("podman", "cnetlab-net1", "podman network create -o mtu=1400 cnetlab-net1"),
        ("cri", "cnetlab-net1", 'set "mtu": 1400 in the CNI config of network cnetlab-net1'),
        ("netns", "cnetlab-net1", "ip -n cnetlab-bridge link set dev eth0 mtu 1400"),
        ("systemd", "cnetlab-net1", "ip link set dev eth0 mtu 1400"),
    ],
)
def test_mtu_fixes_are_in_each_runtimes_terms(
    recorded: Snapshot, runtime: str, network: str, words: str
) -> None:
    bridge = role(recorded, "bridge")
    renamed = replace(bridge.networks[0], name=network)
    snapshot = replace(
        recorded,
        containers=tuple(
            replace(c, runtime=runtime, networks=(renamed,)) if c is bridge else c
            for c in recorded.containers
        ),
    )
    mtu = run_checks(snapshot, bridge.name, healthy_facts(snapshot)).check("mtu")
    assert mtu is not None and mtu.status == "warn" and mtu.fix is not None
    assert words in mtu.fix
    if runtime != "docker":
        assert "daemon.json" not in mtu.fix


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("report.md", "markdown"),
        ("r.HTML", "html"),
        ("a.htm", "html"),
        ("s.json", "json"),
        ("dir.md/x", None),
        ("report", None),
        ("report.txt", None),
    ],
)
def test_the_format_follows_the_files_extension(path: str, fmt: str | None) -> None:
    assert format_of(path) == fmt


def test_snapshot_o_report_md_writes_markdown(tmp_path, recorded: Snapshot) -> None:
    from tests.conftest import RECORDED

    out = tmp_path / "report.md"
    proc = cnet("snapshot", "--from", str(RECORDED), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("# cnet report: vm")
    picked = tmp_path / "picked.md"
    cnet("snapshot", "--from", str(RECORDED), "-f", "json", "-o", str(picked))
    assert json.loads(picked.read_text())["hostname"] == "vm"  # the user's pick wins


def test_help_names_exactly_the_commands_that_refuse_load() -> None:
    from tests.conftest import RECORDED

    text = " ".join(cnet("--help").stdout.split())
    said = re.search(r"as stdin\); (.*?) refuse it", text)
    assert said is not None
    refusing = set(re.split(r", | and ", said.group(1)))
    assert refusing == set(LIVE_ONLY)
    for command in ("ping", "rules", "doctor", "exporter", "stream", "snapshot"):
        args = {"ping": ("x",), "rules": ("docker0",)}.get(command, ())
        proc = cnet("--load", str(RECORDED), command, *args)
        refused = "cannot use a saved snapshot" in proc.stderr
        assert refused == (command in refusing), (command, proc.stderr)


def test_diffs_summary_adds_up_to_its_list(recorded: Snapshot) -> None:
    bridge = role(recorded, "bridge")
    changed = replace(
        recorded,
        containers=tuple(
            replace(c, pid=(c.pid or 0) + 1, interfaces=c.interfaces[:1]) if c is bridge else c
            for c in recorded.containers
        ),
    )
    result = diff(recorded, changed)
    line = summary_line(result)
    total, rest = line.split(" changes: ")
    counted = [int(part.split()[0]) for part in rest.split(" (touching")[0].split(", ")]
    assert sum(counted) == int(total) == len(result.changes)


def test_dns_facts_for_the_embedded_resolver_round_trip(recorded: Snapshot) -> None:
    snapshot = _fit(recorded)
    multi = role(snapshot, "multi")
    facts = DoctorFacts(
        listeners={multi.name: (Listener("udp", "127.0.0.11", 51155),)},
        dns={
            multi.name: DnsFacts(
                resolv_conf="nameserver 127.0.0.11\n",
                texts=(("iptables-save", EMBEDDED_DNS_RULES),),
            )
        },
        pinged=False,
    )
    saved = _saved(record_facts(snapshot, facts))
    back = recorded_facts(saved).dns[multi.name]
    assert back.rulesets is not None and back.resolv_conf == "nameserver 127.0.0.11\n"
    dns = offline_reports(saved, [multi.name])[0].check("dns")
    assert dns is not None and dns.status == "pass", dns


def test_an_unchanged_namespace_records_the_same_rules_twice(recorded: Snapshot) -> None:
    multi = role(recorded, "multi")

    def taken(stamp: str, packets: int) -> Snapshot:
        text = (
            f"# Generated by iptables-save v1.8.9 (nf_tables) on {stamp}\n"
            + EMBEDDED_DNS_RULES.replace(
                ":OUTPUT ACCEPT [0:0]", f":OUTPUT ACCEPT [{packets}:60]"
            ).replace("-A DOCKER_OUTPUT -d", f"[{packets}:60] -A DOCKER_OUTPUT -d")
            + f"# Completed on {stamp}\n"
        )
        dns = DnsFacts(resolv_conf="nameserver 127.0.0.11\n", texts=(("iptables-save", text),))
        return record_facts(recorded, DoctorFacts(dns={multi.name: dns}, pinged=False))

    first, second = taken("Mon Dec  7 01:45:04 2026", 0), taken("Mon Dec  7 01:45:06 2026", 7)
    assert dumps(first) == dumps(second)
    back = recorded_facts(_saved(first)).dns[multi.name].rulesets
    assert back is not None and any(t.name == "nat" for t in back.tables)
