"""The doctor's shared work (doctor/memo.py, rules/index.py) gives the verdicts and rule
reports of the unshared walk, and matches a bridge's rules once per bridge.

Checked on the recorded lab snapshot (every container, bridge and network) against the
full scan of every rule (``rules_for``), under Docker's rules for its bridges and the
real rulesets recorded from hosts (iptables, nft JSON of Docker 29, netavark, kube).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inspector.doctor import run_checks
from inspector.doctor.memo import Shared
from inspector.model.snapshot import Container, Snapshot
from inspector.rules import Rulesets, parse_iptables_save, parse_nft_json, rules_for
from inspector.rules import index as index_module
from inspector.rules.index import RuleIndex
from inspector.rules.match import report_for_spec, resolve_item
from tests.test_doctor_unit import docker_rules, healthy_facts

DATA = Path(__file__).parent / "data"


NAMES = (
    "docker's rules for the lab",
    "lab1",
    "lab1 with a drop",
    "docker 28",
    "nft-docker29.json",
    "nft-netavark.json",
    "nft-host-with-netavark.json",
    "nft-kube-firewalld.json",
)


def _rulesets(snapshot: Snapshot) -> dict[str, Rulesets]:
    return {
        "docker's rules for the lab": docker_rules(snapshot),
        "lab1": Rulesets(parse_iptables_save((DATA / "iptables-lab1.txt").read_text())),
        "lab1 with a drop": Rulesets(
            parse_iptables_save((DATA / "iptables-lab1-drop.txt").read_text())
        ),
        "docker 28": Rulesets(parse_iptables_save((DATA / "iptables-docker28.txt").read_text())),
        **{
            name: Rulesets(parse_nft_json((DATA / name).read_text()))
            for name in (
                "nft-docker29.json",
                "nft-netavark.json",
                "nft-host-with-netavark.json",
                "nft-kube-firewalld.json",
            )
        },
    }


def _items(snapshot: Snapshot) -> list[str]:
    networks = {n.name for c in snapshot.containers for n in c.networks}
    return [
        *(c.name for c in snapshot.containers),
        *(b.name for b in snapshot.bridges),
        *sorted(networks - {c.name for c in snapshot.containers}),
    ]


@pytest.mark.parametrize("which", NAMES)
def test_indexed_report_is_the_full_scan(recorded: Snapshot, which: str) -> None:
    rulesets = _rulesets(recorded)[which]
    index = RuleIndex(rulesets)  # one for every item, as the doctor keeps it
    shown = 0
    for item in _items(recorded):
        full = rules_for(recorded, rulesets, item)
        indexed = report_for_spec(resolve_item(recorded, item), rulesets, index)
        assert indexed == full, item
        shown += len(full.matches)
    if which in NAMES[:5]:  # rules recorded with Docker name the lab's items
        assert shown > 0


@pytest.mark.parametrize("which", NAMES)
def test_shared_verdicts_are_the_unshared(recorded: Snapshot, which: str) -> None:
    facts = healthy_facts(recorded, rulesets=_rulesets(recorded)[which])
    shared = Shared(recorded, facts)
    for c in recorded.containers:
        alone = run_checks(recorded, c, facts)  # a Shared of its own: nothing kept
        assert run_checks(recorded, c, facts, shared) == alone, c.name


def _crowd(snapshot: Snapshot, n: int) -> Snapshot:
    """``n`` copies of the bridge container on docker0, each with an address of its own."""
    base = next(c for c in snapshot.containers if c.name == "cnetlab-bridge")
    copies: list[Container] = []
    for k in range(n):
        ip = f"172.17.1.{k + 2}"
        eth0 = next(i for i in base.interfaces if i.name == "eth0")
        interfaces = tuple(
            replace(i, addresses=(f"{ip}/16",)) if i is eth0 else i for i in base.interfaces
        )
        networks = tuple(replace(net, ip=ip) for net in base.networks)
        copies.append(
            replace(
                base,
                name=f"crowd-{k}",
                id=f"{k:064x}",
                interfaces=interfaces,
                networks=networks,
                ports=(),
            )
        )
    return replace(snapshot, containers=(*snapshot.containers, *copies))


def test_bridge_rules_matched_once_per_bridge(
    recorded: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    crowd = _crowd(recorded, 30)
    facts = healthy_facts(crowd, rulesets=docker_rules(crowd))
    assert facts.rulesets is not None
    bridge_rules = {  # Docker's rules that name docker0 and no address
        id(r)
        for t in facts.rulesets.tables
        for ch in t.chains
        for r in ch.rules
        if "docker0" in r.text
        and not any(r.options(o) for o in ("-s", "-d"))
        and not (r.target and r.target.option("--to-destination"))
    }
    assert len(bridge_rules) >= 4
    matched: list[int] = []
    real = index_module.direct_reasons

    def counted(rule, spec):  # type: ignore[no-untyped-def]
        matched.append(id(rule))
        return real(rule, spec)

    monkeypatch.setattr(index_module, "direct_reasons", counted)
    accepts: list[str] = []
    real_accept = Shared.first_accept

    def counted_accept(self, table, chain, packet):  # type: ignore[no-untyped-def]
        before = len(self._accepts)
        found = real_accept(self, table, chain, packet)
        if len(self._accepts) > before:
            accepts.append(packet.in_interface)
        return found

    monkeypatch.setattr(Shared, "first_accept", counted_accept)
    shared = Shared(crowd, facts)
    on_docker0 = [c for c in crowd.containers if c.name.startswith("crowd-")]
    reports = [run_checks(crowd, c, facts, shared) for c in on_docker0]
    for r in reports:  # the walk did reach the rules: Docker's rules let them out
        assert {c.id: c.status for c in r.checks if "forward" in c.id or c.id == "masquerade"} == {
            "ip-forward": "pass",
            "ip6-forward": "skip",
            "forward-drop": "pass",
            "forward-drop6": "skip",
            "masquerade": "pass",
        }, r.name
    # each matched once for docker0, not once per container
    assert {rid: matched.count(rid) for rid in bridge_rules} == dict.fromkeys(bridge_rules, 1)
    assert accepts == ["docker0"]  # FORWARD's accept walked once for the bridge
    assert len(shared._masquerades) == 1  # one subnet, one bridge
