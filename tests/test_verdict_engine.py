"""One verdict everywhere, on the real engine: for each of this test's containers the TUI's
mark (Pilot), the report the TUI exports, ``cnet doctor --from`` on the JSON it exports and
the exporter's ``cnet_doctor_check_failed`` agree, and they agree with the kernel (``ss``
and ``iptables-save`` inside the namespace).  Also: a ``container:`` chain judged at its end
by inode, each namespace's counters once, a veth between two namespaces drawn without the
host, ``cnet rules`` on a detached veth, and ``cnet diff``/``D`` on the live host's rules.

Everything made here is named ``cnetvd-`` and removed, also on failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from textual.widgets import Input

from inspector.exporter.metrics import Exporter
from inspector.exporter.serving import Serving
from inspector.live.runner import Live, collect_snapshot
from inspector.render.report import VERDICT_WORDS
from inspector.tui.app import CnetApp, make_app
from inspector.tui.compare_screen import CompareScreen
from inspector.tui.screens import ExportScreen
from tests.cli import cnet
from tests.lab import IMAGE, Lab, free_port, host_links, remove_one_at_a_time, sh
from tests.test_exporter import scrape
from tests.test_tui import detail_text, select_container, sync, wait_for

P = "cnetvd-"
NET = P + "net"
A, B, C = P + "a", P + "b", P + "c"  # C uses B's namespace, B uses A's: a chain
PUB = P + "pub"  # publishes a port behind which nothing listens
DET = P + "det"  # its veth taken off docker0
N1, N2 = P + "n1", P + "n2"  # ip netns, a veth between them, no process in either
X1, X2 = P + "x1", P + "x2"
X1_ADDR, X2_ADDR = "10.254.94.1", "10.254.94.2"
MINE = (A, B, C, PUB, DET)


@dataclass
class Made:
    containers: list[str]
    detached_veth: str


def _run(name: str, *args: str, command: tuple[str, ...] = ("sleep", "86400")) -> None:
    sh("docker", "run", "-d", "--name", name, *args, IMAGE, *command)


def _pid(name: str) -> int:
    return int(sh("docker", "inspect", "-f", "{{.State.Pid}}", name).strip())


def _host_veth(name: str) -> str:
    """The host end of the container's eth0, from iproute2 (not cnet)."""
    inside = json.loads(sh("nsenter", "-t", str(_pid(name)), "-n", "ip", "-j", "link"))
    eth0 = next(link for link in inside if link["ifname"] == "eth0")
    return str({x["ifindex"]: x for x in host_links()}[eth0["link_index"]]["ifname"])


@pytest.fixture(scope="module")
def made(engine: None) -> Iterator[Made]:
    containers: list[str] = []
    try:
        sh("docker", "network", "create", NET)
        for name, args, command in (
            (A, ("--net", NET, "-p", f"127.0.0.1:{free_port()}:80"), ("httpd", "-f", "-p", "80")),
            (B, ("--net", f"container:{A}"), ("sleep", "86400")),
            (C, ("--net", f"container:{B}"), ("sleep", "86400")),
            (PUB, ("-p", f"127.0.0.1:{free_port()}:80"), ("sleep", "86400")),
            (DET, (), ("sleep", "86400")),
        ):
            containers.append(name)
            _run(name, *args, command=command)
        veth = _host_veth(DET)
        sh("ip", "link", "set", veth, "nomaster")  # its own veth, nothing else's
        for ns in (N1, N2):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", X1, "netns", N1, "type", "veth", "peer", "name", X2, "netns", N2)
        for ns, link, addr in ((N1, X1, X1_ADDR), (N2, X2, X2_ADDR)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", link)
            sh("ip", "-n", ns, "link", "set", link, "up")
        yield Made(containers, veth)
    finally:
        remove_one_at_a_time(containers)
        sh("docker", "network", "rm", NET, check=False)
        for ns in (N1, N2):
            sh("ip", "netns", "del", ns, check=False)


def _listening(name: str, proto: str) -> str:
    return sh("nsenter", "-t", str(_pid(name)), "-n", "ss", "-Hln" + proto)


async def _all_marked(app: CnetApp, pilot: object, names: Sequence[str]) -> None:
    """Wait for the live TUI's first whole read and a mark on each of ``names``."""
    await wait_for(
        pilot,
        lambda: (
            app.live_status is not None
            and not app.live_status.reading
            and app.marks_known
            and all(app.mark(n) is not None for n in names)
        ),
        seconds=90,
    )


async def _tui_export(app: CnetApp, pilot: object, path: Path) -> None:
    """``e``, a path typed in, enter: as a user does (the format left as it was)."""
    await pilot.press("e")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
    app.screen.query_one("#export-path", Input).value = str(path)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(pilot, path.exists, seconds=60)


def _exporter_failures(names: tuple[str, ...], judged: set[str]) -> dict[str, set[str]]:
    """Each container's failing checks as the exporter says; waits for those in ``judged``
    (a container with only skipped checks has no sample: nothing was judged)."""
    serving = Serving(Live(reconcile=0), Exporter(), ("127.0.0.1", 0))
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            found: dict[str, set[str]] = {}
            for family in text_string_to_metric_families(scrape(serving.port)):
                if family.name == "cnet_doctor_check_failed":
                    for s in family.samples:
                        found.setdefault(s.labels["container"], set())
                        if s.value == 1:
                            found[s.labels["container"]].add(s.labels["check"])
            if judged <= set(found):
                return {n: found.get(n, set()) for n in names}
            time.sleep(0.5)
        raise AssertionError("the exporter gave no verdict for the test's containers")
    finally:
        serving.close()


@sync
async def test_every_output_gives_the_same_verdict(made: Made, lab: Lab, tmp_path: Path) -> None:
    lab_names = (lab.bridge, lab.multi, lab.host, lab.none, lab.shared, lab.macvlan, lab.stopped)
    names = (*MINE, *lab_names)
    # What the kernel says, read without cnet: nothing listens behind PUB's port, httpd
    # listens in A's namespace, and Docker's resolver (its DNAT and socket) is in the
    # namespace C reaches through B.
    assert ":80 " not in _listening(PUB, "t")
    assert ":80 " in _listening(A, "t")
    assert "127.0.0.11:" in _listening(C, "u")
    inner = sh("nsenter", "-t", str(_pid(C)), "-n", "iptables-save", "-t", "nat")
    assert "-d 127.0.0.11/32" in inner and "DNAT" in inner

    app = make_app(feed=Live(reconcile=0))
    json_path, md_path = tmp_path / "tui.json", tmp_path / "tui.md"
    async with app.run_test(size=(120, 40)) as pilot:
        await _all_marked(app, pilot, names)
        marks = {n: app.mark(n) for n in names}
        await _tui_export(app, pilot, json_path)
        await _tui_export(app, pilot, md_path)  # JSON picked in the dialog: .md wins

    proc = cnet("doctor", "--from", str(json_path), "--json", *names)
    assert proc.returncode == 1, proc.stderr  # PUB fails
    doctor = {c["name"]: c for c in json.loads(proc.stdout)["containers"]}
    report = md_path.read_text()
    assert report.startswith("# cnet report:")  # Markdown, not JSON
    rows = {
        cells[2]: cells[1]
        for line in report.splitlines()
        if (cells := [x.strip() for x in line.split("|")])[2:3] and cells[2] in names
    }
    judged = {n for n in names if any(c["status"] != "skip" for c in doctor[n]["checks"])}
    exported = _exporter_failures(names, judged)

    for name in names:
        d = doctor[name]
        failing = [c["id"] for c in d["checks"] if c["status"] == "fail"]
        headline = f"FAIL at {failing[0]}" if failing else VERDICT_WORDS[d["status"]]
        if d["state"] != "running":
            headline = f"not running ({d['state']})"
        assert marks[name] == d["status"], name  # the TUI's mark
        assert rows[name] == headline, name  # the report's verdict
        assert exported[name] == set(failing), name  # cnet_doctor_check_failed
    checks = {n: {c["id"]: c for c in doctor[n]["checks"]} for n in MINE}
    assert checks[PUB]["ports"]["status"] == "fail"  # nothing listens: ss agrees
    assert checks[A]["ports"]["status"] == "pass"
    for name in (B, C):  # judged at the end of the chain, by inode: A's DNS
        assert checks[name]["dns"]["status"] == "pass", checks[name]["dns"]
        assert A in doctor[name]["note"]


def test_a_chain_ends_at_the_namespaces_owner_by_inode(made: Made) -> None:
    snapshot = collect_snapshot()
    chain = snapshot.container(C)
    assert chain is not None
    owner = snapshot.namespace_owner(chain)
    assert owner.name == A
    ino = {n: os.stat(f"/proc/{_pid(n)}/ns/net").st_ino for n in (A, B, C)}
    assert ino[A] == ino[B] == ino[C]  # the kernel's word: one namespace


def test_the_exporter_counts_each_namespace_once_with_whole_ids(made: Made) -> None:
    send = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        f"s.sendto(b'x' * 512, ('{X2_ADDR}', 9))"
    )
    subprocess.run(["ip", "netns", "exec", N1, sys.executable, "-c", send], check=True)
    stats = json.loads(sh("ip", "-n", N1, "-s", "-j", "link", "show", X1))[0]["stats64"]
    sent = int(stats["tx"]["bytes"])
    assert sent >= 512
    serving = Serving(Live(reconcile=0), Exporter(), ("127.0.0.1", 0))
    try:
        deadline = time.monotonic() + 60
        counters: dict[tuple[str, str], float] = {}
        info: dict[str, dict[str, str]] = {}
        while time.monotonic() < deadline and (
            (N1, X1) not in counters or not all(n in info for n in MINE)
        ):
            time.sleep(0.5)
            for family in text_string_to_metric_families(scrape(serving.port)):
                if family.name == "cnet_interface_transmit_bytes":
                    counters = {
                        (s.labels["container"], s.labels["interface"]): s.value
                        for s in family.samples
                    }
                elif family.name in ("cnet_container", "cnet_container_info"):
                    info = {s.labels["container"]: s.labels for s in family.samples}
    finally:
        serving.close()
    assert counters.get((N1, X1), 0) >= sent  # a namespace with no process is counted
    assert (A, "eth0") in counters
    assert not any(c in (B, C) for c, _ in counters)  # A's bytes once, not thrice
    for name in (A, B, C):
        assert info[name]["namespace"] == A
        assert info[name]["id"] == sh("docker", "inspect", "-f", "{{.Id}}", name).strip()


@sync
async def test_a_veth_between_two_namespaces_is_drawn_without_the_host(made: Made) -> None:
    inside = json.loads(sh("ip", "-n", N1, "-j", "link", "show", X1))[0]
    assert "link_netnsid" in inside  # iproute2: its peer is in another namespace
    assert X2 not in {link["ifname"] for link in host_links()}  # and not the host's
    whole = await asyncio.to_thread(collect_snapshot)  # pyroute2: not in a running loop
    # only what this test made: other helpers' containers are not this test's subject
    snapshot = replace(whole, containers=tuple(c for c in whole.containers if c.name[:7] == P))
    app = make_app(snapshot)
    async with app.run_test(size=(140, 40)) as pilot:
        await select_container(app, pilot, N1)
        await pilot.pause()
        text = detail_text(app)
    assert f"{X1} {X1_ADDR} -> {X2} in {N2}" in text
    assert "-> host" not in text and "not found on the host" not in text
    from inspector.render.html import render_html

    html = render_html(snapshot)  # the report's diagrams: the other end, no host box
    assert f"veth in {N2}" in html and f"veth in {N1}" in html
    assert "host end not found" not in html


def test_rules_names_the_bridge_a_veth_is_on_or_none(made: Made) -> None:
    assert "master" not in json.loads(sh("ip", "-j", "link", "show", made.detached_veth))[0]
    head = cnet("rules", DET).stdout.splitlines()[0]
    assert "on no bridge" in head and "docker0" not in head, head
    attached = _host_veth(PUB)
    assert json.loads(sh("ip", "-j", "link", "show", attached))[0]["master"] == "docker0"
    assert "on docker0" in cnet("rules", PUB).stdout.splitlines()[0]


@sync
async def test_diff_and_d_list_each_new_rule_once(made: Made, tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    proc = cnet("snapshot", "-o", str(old))
    assert proc.returncode == 0, proc.stderr
    late = P + "late"
    try:
        _run(late, "-p", f"127.0.0.1:{free_port()}:80")
        ip = sh("docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", late).strip()
        target = f"--to-destination {ip}:80"
        saved = sh("iptables-save", "-t", "nat")
        assert sum(target in line for line in saved.splitlines()) == 1  # the kernel's count
        text = cnet("diff", str(old)).stdout
        listed = [line for line in text.splitlines() if line.startswith(("  +", "  -", "  ~"))]
        assert sum(target in line for line in listed) == 1, text
        assert not any(line.startswith("  + {") for line in listed)  # no raw nft JSON
        summary = next(line for line in text.splitlines() if " changes: " in line)
        total, rest = summary.split(" changes: ")
        counts = [int(p.split()[0]) for p in rest.split(" (touching")[0].split(", ")]
        assert int(total) == sum(counts) == len(listed), text

        app = make_app(feed=Live(reconcile=0))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(
                pilot,
                lambda: (
                    app.live_status is not None
                    and not app.live_status.reading
                    and app.view is not None
                    and late in app.view.containers
                ),
                seconds=60,
            )
            await pilot.press("D")
            await pilot.pause()
            await pilot.press(*str(old), "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
            screen = app.screen
            assert isinstance(screen, CompareScreen)
            await wait_for(pilot, lambda: screen.result is not None, seconds=60)
            assert screen.result is not None
            result = screen.result.diff
            assert not any("recorded only" in n for n in result.notes), result.notes
            assert sum(target in c.detail for c in result.changes) == 1
            await pilot.press("escape")
            await pilot.pause()
            names = {r.key: r.cells[1] for r in app.pane("containers").rows_shown}
            assert names[late] == f"Δ {late}"
    finally:
        remove_one_at_a_time([late])
