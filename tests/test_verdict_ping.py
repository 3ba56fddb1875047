"""The TUI's export records the gateway pings behind its marks: after ``d`` the marks of a
namespace's containers show the ping's verdict for a minute, and the report and
``cnet doctor --from`` of a file exported then must give that same verdict.

The gateway of ``cnetvd2-mute`` is made to go unanswered by a rule inside its own namespace
(the kernel's word: busybox's ping from inside gets no reply, and did before the rule);
``cnetvd2-side`` shares that namespace, so ``d`` on it judges both.  Everything made here is
named ``cnetvd2-`` and removed, also on failure.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.doctor import run_checks, worst_status
from inspector.doctor.model import GatewayPing
from inspector.doctor.offline import offline_reports
from inspector.doctor.recorded import record_pings, recorded_facts
from inspector.live.runner import Live
from inspector.model.snapshot import Snapshot
from inspector.tui.app import make_app
from inspector.tui.marks import DoctorMarks, DoctorReady, Marks
from tests.cli import cnet
from tests.lab import IMAGE, remove_one_at_a_time, sh
from tests.test_tui import select_container, shared, sync, wait_for
from tests.test_verdict_engine import _all_marked, _tui_export

P = "cnetvd2-"
MUTE = P + "mute"  # its gateway's replies are dropped inside its namespace
SIDE = P + "side"  # shares MUTE's namespace


def _answers(name: str, gateway: str) -> bool:
    """Busybox's own ping from inside the container: the kernel's word, not cnet's."""
    ping = ["docker", "exec", name, "ping", "-c", "1", "-W", "2", gateway]
    return subprocess.run(ping, capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="module")
def muted(engine: None) -> Iterator[str]:
    """MUTE and SIDE running, MUTE's gateway unanswered from inside; its address."""
    made: list[str] = []
    try:
        for name, net in ((MUTE, "bridge"), (SIDE, f"container:{MUTE}")):
            made.append(name)
            sh("docker", "run", "-d", "--name", name, "--net", net, IMAGE, "sleep", "86400")
        gateway = sh(
            "docker", "inspect", "-f", "{{.NetworkSettings.Networks.bridge.Gateway}}", MUTE
        ).strip()
        assert _answers(MUTE, gateway)  # it did answer before the rule
        pid = sh("docker", "inspect", "-f", "{{.State.Pid}}", MUTE).strip()
        drop = ["-I", "INPUT", "-s", gateway, "-p", "icmp", "-j", "DROP"]
        sh("nsenter", "-t", pid, "-n", "iptables", *drop)  # its own namespace only
        assert not _answers(MUTE, gateway)
        yield gateway
    finally:
        remove_one_at_a_time(made)


@sync
async def test_an_export_after_d_gives_the_marks_gateway_verdict(
    muted: str, tmp_path: Path
) -> None:
    names = (MUTE, SIDE)
    app = make_app(feed=Live(reconcile=0))
    json_path, md_path = tmp_path / "tui.json", tmp_path / "tui.md"
    async with app.run_test(size=(120, 40)) as pilot:
        await _all_marked(app, pilot, names)
        before = {n: app.mark(n) for n in names}
        assert "fail" not in before.values(), before  # the background marks never ping
        await select_container(app, pilot, SIDE)
        await pilot.press("d")
        await wait_for(
            pilot,
            lambda: app.marks.view is not None and not app.marks.view.running,
            seconds=60,
        )
        marks = {n: app.mark(n) for n in names}
        assert marks == {MUTE: "fail", SIDE: "fail"}  # one namespace: one ping for both
        await _tui_export(app, pilot, json_path)
        await _tui_export(app, pilot, md_path)

    proc = cnet("doctor", "--from", str(json_path), "--json", *names)
    assert proc.returncode == 1, proc.stderr
    doctor = {c["name"]: c for c in json.loads(proc.stdout)["containers"]}
    report = md_path.read_text()
    rows = {
        cells[2]: cells[1]
        for line in report.splitlines()
        if (cells := [x.strip() for x in line.split("|")])[2:3] and cells[2] in names
    }
    for name in names:
        d = doctor[name]
        failing = [c["id"] for c in d["checks"] if c["status"] == "fail"]
        assert failing == ["gateway"], (name, d["checks"])
        gateway = next(c for c in d["checks"] if c["id"] == "gateway")
        assert gateway["summary"].startswith(f"{muted} did not answer"), gateway
        assert d["status"] == marks[name], name  # doctor --from: the TUI's mark
        assert rows[name] == "FAIL at gateway", name  # the report's verdict


def test_a_d_on_a_shared_namespace_marks_its_owner_and_its_ping_is_recorded(
    recorded: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the engine: ``d`` on a ``container:`` user gives its owner the gateway
    verdict too, and the ping the marks hold, recorded, gives ``--from`` that verdict."""
    user = shared(recorded)
    owner = recorded.namespace_owner(user)
    facts = replace(recorded_facts(recorded), pings={owner.name: GatewayPing("10.0.0.1", 3, 0)})
    marks = Marks()
    marks.arrived(DoctorMarks(recorded, tuple(offline_reports(recorded)), None))
    assert {marks.mark(user.name), marks.mark(owner.name)} != {"fail"}
    d = run_checks(recorded, user, facts)
    marks.gateway_pinged(DoctorReady(1, recorded, user.name, d, None))
    assert marks.mark(user.name) == marks.mark(owner.name) == "fail"
    saved = record_pings(recorded, marks.held_pings())
    again = {r.name: r for r in offline_reports(saved, (user.name, owner.name))}
    assert worst_status(again[user.name]) == worst_status(again[owner.name]) == "fail"
    monkeypatch.setattr("inspector.tui.marks.GATEWAY_CHECK_FRESH_S", 0.0)
    assert marks.mark(owner.name) != "fail" and marks.held_pings() == {}  # stale: neither
