"""A hostile local user, for real: namespaces, interfaces and a process named to attack
the operator's terminal, the shell and the reports; cnet (as root) shows them all inert.

Made here and removed afterwards (prefix ``cnethx-``):
- as uid 65534 (``setpriv`` + ``unshare -rn``): a namespace of its own with a veth pair
  named ``ESC[2J ESC[H`` and ``[b]x;$(id)``, held by a process renamed with
  ``prctl(PR_SET_NAME)`` to ``[/]ESC[2J ESC]0;X BEL``;
- as root: two named namespaces (``ip netns add``), one named with a control character and
  markup, the other with HTML and a newline, joined by a veth whose end in the first is
  named ``a;echo${IFS}PWN`` and is down, so the doctor suggests bringing it up.

Docker is kept out (``DOCKER_HOST`` points nowhere).  The names are checked against the
kernel's own answers (``ip -j link`` in each namespace, ``/proc/PID/comm``); the output
against the rule: no raw control character, no HTML, no heading from a name, and a fix
that a real ``sh`` splits into the exact names.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.render.snapshot_json import load_snapshot
from tests.cli import cnet
from tests.test_hostile_text import assert_inert, shell_words

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(
        shutil.which("ip") is None or shutil.which("setpriv") is None,
        reason="needs iproute2's ip and util-linux's setpriv",
    ),
]

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/cnethx.sock", "NO_COLOR": "1"}
ESC_LINK = "\x1b[2J\x1b[H"
MARKUP_LINK = "[b]x;$(id)"
COMM = "[/]\x1b[2J\x1b]0;X\x07"  # 15 bytes: all a comm holds
PWN_LINK = "a;echo${IFS}PWN"
UNPRIVILEGED_USER = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")

# Runs as uid 65534 inside its own user and network namespace: makes the links, renames
# itself with prctl, tells the test it is ready, and waits to be killed.
UNPRIVILEGED = f"""
import ctypes, subprocess, sys, time
for args in (["link", "add", {ESC_LINK!r}, "type", "veth", "peer", "name", {MARKUP_LINK!r}],
             ["link", "set", {ESC_LINK!r}, "up"], ["link", "set", {MARKUP_LINK!r}, "up"]):
    subprocess.run(["ip", *args], check=True)
ctypes.CDLL(None).prctl(15, {COMM.encode()!r}, 0, 0, 0)
print("ready", flush=True)
time.sleep(600)
"""


@dataclass
class Hostile:
    process: subprocess.Popen[str]
    ns_a: str
    ns_b: str
    peer: str

    def links_in(self, ns: str) -> set[str]:
        out = subprocess.run(["ip", "-n", ns, "-j", "link"], capture_output=True, check=True)
        return {
            link["ifname"] for link in json.loads(out.stdout, strict=False)
        }  # ip -j writes them raw


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    tag = secrets.token_hex(2)
    ns_a = f"cnethx-{tag}-\x01[a=b=c][bold red]X"
    ns_b = f"cnethx-{tag}-<svg onload=alert(1)>\n## All checks pass"
    peer = f"cnethx-{tag}p"
    proc = subprocess.Popen(
        [*UNPRIVILEGED_USER, "unshare", "-rn", sys.executable, "-c", UNPRIVILEGED],
        stdout=subprocess.PIPE,
        text=True,
    )
    made: list[str] = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for ns in (ns_a, ns_b):
            _ip("netns", "add", ns)
            made.append(ns)
        _ip("-n", ns_a, "link", "add", PWN_LINK, "type", "veth", "peer", "name", peer)
        _ip("-n", ns_a, "link", "set", peer, "netns", ns_b)
        _ip("-n", ns_b, "addr", "add", "10.254.77.2/30", "dev", peer)
        _ip("-n", ns_b, "link", "set", peer, "up")  # its other end, PWN_LINK, stays down
        yield Hostile(proc, ns_a, ns_b, peer)
    finally:
        proc.kill()
        proc.wait(10)
        for ns in made:  # deleting a namespace deletes the veth in it
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def test_the_kernel_holds_the_hostile_names(hostile: Hostile) -> None:
    """The independent source: what the kernel says the names are."""
    comm = Path(f"/proc/{hostile.process.pid}/comm").read_bytes().rstrip(b"\n")
    assert comm == COMM.encode()
    assert PWN_LINK in hostile.links_in(hostile.ns_a)
    assert hostile.peer in hostile.links_in(hostile.ns_b)
    netns = subprocess.run(["ip", "-j", "netns"], capture_output=True, check=True).stdout
    assert {hostile.ns_a, hostile.ns_b} <= {n["name"] for n in json.loads(netns, strict=False)}


@pytest.fixture(scope="module")
def saved(hostile: Hostile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cnethx") / "snapshot.json"
    proc = cnet("snapshot", "-o", str(path), env=NO_ENGINE)
    assert proc.returncode == 0, proc.stderr
    assert_inert(proc.stderr)
    return path


def test_the_json_snapshot_keeps_the_exact_names(hostile: Hostile, saved: Path) -> None:
    snap = load_snapshot(saved)
    a = snap.container(hostile.ns_a)
    b = snap.container(hostile.ns_b)
    assert a is not None and b is not None
    assert {i.name for i in a.interfaces} == hostile.links_in(hostile.ns_a)
    assert {i.name for i in b.interfaces} == hostile.links_in(hostile.ns_b)
    theirs = [c for c in snap.containers if str(hostile.process.pid) in c.name]
    assert theirs, [c.name for c in snap.containers]
    assert COMM in theirs[0].name
    assert {ESC_LINK, MARKUP_LINK} <= {i.name for i in theirs[0].interfaces}


def test_the_reports_show_them_inert(hostile: Hostile, saved: Path) -> None:
    from markdown_it import MarkdownIt

    md = cnet("snapshot", "--from", str(saved), "-f", "markdown")
    assert md.returncode == 0, md.stderr
    assert_inert(md.stdout)
    assert not re.search(r"^#+ All checks pass", md.stdout, re.M)
    tokens = MarkdownIt("commonmark").enable("table").parse(md.stdout)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    assert not kinds & {"html_block", "html_inline"}
    html = cnet("snapshot", "--from", str(saved), "-f", "html")
    assert html.returncode == 0, html.stderr
    assert_inert(html.stdout)
    assert "<svg" not in html.stdout


def test_cnet_doctor_prints_nothing_raw_and_its_fix_is_the_exact_names(
    hostile: Hostile,
) -> None:
    proc = cnet("doctor", "--verbose", env=NO_ENGINE)
    assert "Traceback" not in proc.stderr
    assert_inert(proc.stdout)
    assert_inert(proc.stderr)
    fixes = [
        line.split("fix: ", 1)[1]
        for line in proc.stdout.splitlines()
        if "fix: " in line and "PWN" in line
    ]
    assert fixes, proc.stdout
    data = json.loads(cnet("doctor", "--json", env=NO_ENGINE).stdout)
    ours = next(c for c in data["containers"] if c["name"] == hostile.ns_b)
    fix = next(c["fix"] for c in ours["checks"] if c["fix"] and "PWN" in c["fix"])
    assert shell_words(fix) == ["ip", "-n", hostile.ns_a, "link", "set", PWN_LINK, "up"]


def test_the_tui_shows_them_without_crashing_or_retitling(hostile: Hostile, saved: Path) -> None:
    from inspector.tui.app import make_app
    from tests.test_tui import wait_for

    snapshot = load_snapshot(saved)

    async def run() -> None:
        app = make_app(snapshot)
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(pilot, lambda: bool(app.pane("containers").rows_shown))
            pane = app.pane("containers")
            for _ in range(len(pane.rows_shown)):  # every row, its detail, doctor and copy
                await pilot.press("down", "d", "y")
                await pilot.pause()
                assert_inert(str(app.detail.border_title))
                for line in app.detail.wrapped:
                    assert_inert("".join(text for text, _ in line))
            for _ in range(3):  # the other panes too
                await pilot.press("tab", "down", "down", "y")
            assert app.title == "cnet"
            assert_inert(app.sub_title)
            await pilot.press("q")

    asyncio.run(run())
