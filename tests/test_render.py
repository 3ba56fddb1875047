"""Markdown and HTML reports on the recorded lab: what a person reads is there, in the TUI's
words, in natural order, with the doctor's verdict for each container."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape
from html.parser import HTMLParser

import pytest

from inspector.doctor import worst_status
from inspector.model.paths import interface_path
from inspector.model.snapshot import RulesetText, Snapshot
from inspector.render import render
from inspector.render.report import VERDICT_WORDS
from inspector.tui.backends import offline_doctor
from inspector.tui.view import SnapshotView
from tests.test_diff import BRIDGED, _off_its_bridge, _veth_of
from tests.tui_fakes import uplink_at_1500


def _md_rows(md: str, title: str) -> list[list[str]]:
    """The body rows of the Markdown table under ``## title``."""
    block = md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in block.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def _broken(recorded: Snapshot) -> Snapshot:
    return _off_its_bridge(uplink_at_1500(recorded), _veth_of(recorded, BRIDGED).name)


def test_markdown_has_a_table_per_pane_and_paths(recorded) -> None:
    md = render(recorded, "markdown")
    for title in ("## Containers", "## Host interfaces", "## Host routes", "## Bridge ports"):
        assert title in md
    multi = recorded.container("cnetlab-multi")
    for i in multi.interfaces:
        if i.peer:
            # e.g. eth0 172.30.231.2 -> vethXXXX -> cnetlab-br1 172.30.231.1
            line = interface_path(recorded, multi, i)
            assert f"`{line}`" in md
            assert re.fullmatch(rf"{i.name} \S+ -> {i.peer.name} -> {i.peer.bridge} \S+", line)


def test_markdown_says_the_modes_in_words(recorded) -> None:
    md = render(recorded, "markdown")
    assert "shares the host's network stack" in md
    assert "shares the network namespace of container cnetlab-bridge" in md
    assert "loopback only" in md
    assert "not running (exited)" in md
    assert "macvlan on cnetlab-mvp" in md


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_containers_table_says_what_the_tui_shows(recorded, fmt: str) -> None:
    """Each container's state, network, IPs and ports as the TUI's containers pane has them."""
    view = SnapshotView(recorded)
    text = render(recorded, fmt)
    if fmt == "markdown":
        rows = {row[1]: row[2:] for row in _md_rows(text, "Containers")}
        for name, row in view.container_rows.items():
            assert rows[name] == [cell or "" for cell in row.cells[2:]], name
    else:
        for name, row in view.container_rows.items():
            cells = "".join(f"<td>{escape(c)}</td>" for c in row.cells[2:])
            assert f"{name}</a></td>{cells}" in text, name
    # the words the issue asked for
    networks = {name: row.cells[4] for name, row in view.container_rows.items()}
    assert networks[BRIDGED] == "bridge"
    assert networks["cnetlab-shared"] == "container:cnetlab-bridge"
    assert networks["cnetlab-multi"] == "cnetlab-net1,cnetlab-net2"
    assert not re.search(r"[0-9a-f]{64}", text)  # no full container id anywhere
    table = text.split("Containers", 1)[1].split("Container paths", 1)[0]
    assert "default" not in table


def test_a_shared_namespace_that_was_not_read_is_still_named(recorded) -> None:
    shared = recorded.container("cnetlab-shared")
    unread = replace(
        recorded,
        containers=tuple(
            replace(c, netns_shared_with=None) if c is shared else c for c in recorded.containers
        ),
    )
    assert shared.network_mode.startswith("container:") and len(shared.network_mode) == 74
    md = render(unread, "markdown")
    row = next(r for r in _md_rows(md, "Containers") if r[1] == "cnetlab-shared")
    assert row[4] == "container:cnetlab-bridge"


def test_reports_list_in_natural_order(recorded) -> None:
    names = ["hx-10", "hx-2", "hx-1", "HX-3"]
    renamed = replace(
        recorded,
        containers=tuple(
            replace(c, name=n, netns_shared_with=None)
            for c, n in zip(recorded.containers, names, strict=False)
        ),
    )
    md = render(renamed, "markdown")
    assert [r[1] for r in _md_rows(md, "Containers")] == ["hx-1", "hx-2", "HX-3", "hx-10"]
    html = render(renamed, "html")
    sections = re.findall(r"<section class='container' id='c-([^']+)'>", html)
    assert sections == ["hx-1", "hx-2", "HX-3", "hx-10"]


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_each_container_carries_the_doctors_verdict(recorded, fmt: str) -> None:
    """The verdict is the TUI's offline doctor's worst status, with the failing check's
    evidence and fix."""
    broken = _broken(recorded)
    text = render(broken, fmt)
    for report in offline_doctor(broken, [], False):
        if report.running:
            status = worst_status(report)
            expected = (
                f"FAIL at {report.first_failure.id}" if status == "fail" else VERDICT_WORDS[status]
            )
        else:
            expected = f"not running ({report.state})"
        if fmt == "markdown":
            assert f"### {report.name} ({expected})" in text
        else:
            assert re.search(
                rf"id='c-{report.name}'><header><h3>{report.name}</h3><span class='chip \w+'>"
                rf"{re.escape(expected)}</span>",
                text,
            ), report.name
    veth = _veth_of(recorded, BRIDGED).name
    assert "FAIL at veth" in text
    assert f"{veth} is on no bridge; it should be on docker0" in text
    assert f"fix (not run): <code>ip link set {veth} master docker0</code>" in text or (
        f"fix (not run): `ip link set {veth} master docker0`" in text
    )
    assert f"{veth} master" in text  # the evidence
    attention = text.split("Needs attention", 1)[1][:600]
    assert BRIDGED in attention and "cnetlab-multi" not in attention


def test_a_healthy_lab_needs_no_attention(recorded) -> None:
    md = render(uplink_at_1500(recorded), "markdown")
    assert "No check failed or warned." in md
    assert "- Doctor: 5 ok, 1 nothing to check, 1 not running" in md
    assert "no traffic" in md  # says the doctor was the offline one


def test_html_draws_each_path(recorded) -> None:
    html = render(recorded, "html")
    multi = html.split("id='c-cnetlab-multi'>", 1)[1].split("</section>", 1)[0]
    paths = re.findall(r"<div class='path'[^>]*>(.*?)</div>", multi)
    assert len(paths) == 2  # one per network
    veth = _veth_of(recorded, "cnetlab-multi")
    assert "<span class='hop container'><b>eth0</b><small>172.30.231.2</small></span>" in paths[0]
    assert f"<b>{veth.name}</b>" in paths[0]
    assert (
        "<span class='hop bridge'><b>cnetlab-br1</b><small>172.30.231.1</small></span>" in paths[0]
    )
    host = html.split("id='c-cnetlab-host'>", 1)[1].split("</section>", 1)[0]
    assert "<span class='hop host'><b>host network</b>" in host
    none = html.split("id='c-cnetlab-none'>", 1)[1].split("</section>", 1)[0]
    assert "<b>lo</b><small>loopback only</small>" in none
    stopped = html.split("id='c-cnetlab-stopped'>", 1)[1].split("</section>", 1)[0]
    assert "class='path'" not in stopped
    broken = render(_broken(recorded), "html")
    bridged = broken.split(f"id='c-{BRIDGED}'>", 1)[1].split("</section>", 1)[0]
    assert "<span class='hop missing bad'><b>no bridge</b>" in bridged


def test_html_is_one_self_contained_well_formed_file(recorded) -> None:
    html = render(replace(recorded, rulesets=(RulesetText("iptables-save", "*filter\n"),)), "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "src=" not in html and "url(" not in html
    assert "@import" not in html
    assert all(link.startswith("#") for link in re.findall(r"href='([^']*)'", html))
    assert "<style>" in html
    _assert_balanced(html)


def _assert_balanced(html: str) -> None:
    void = {"meta", "br", "hr", "img", "input", "link"}

    class Checker(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag not in void:
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()

    checker = Checker()
    checker.feed(html)
    assert checker.stack == []


def test_html_escapes_what_it_shows(recorded) -> None:
    evil = replace(
        recorded,
        hostname="<img onerror=x>",
        rulesets=(RulesetText("iptables-save", "-A X -m comment --comment '</pre><b>'"),),
    )
    html = render(evil, "html")
    assert "<img onerror" not in html and "</pre><b>" not in html


def test_the_recorded_rules_are_in_the_reports(recorded) -> None:
    rules = "*filter\n:FORWARD DROP [0:0]\n[0:0] -A DOCKER-USER -s 172.17.0.4/32 -j DROP\nCOMMIT\n"
    with_rules = replace(recorded, rulesets=(RulesetText("iptables-save", rules),))
    md = render(with_rules, "markdown")
    assert "## Firewall rules recorded with the snapshot" in md
    assert "### iptables-save\n\n```\n*filter\n" in md
    html = render(with_rules, "html")
    assert "<summary>iptables-save (4 lines)</summary><pre>*filter" in html
    assert "Firewall rules" not in render(recorded, "markdown")


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        render(None, "yaml")  # type: ignore[arg-type]


def test_summary_counts_read_as_english(recorded) -> None:
    one = replace(recorded, bridges=recorded.bridges[:1], containers=recorded.containers[:1])
    md = render(one, "markdown")
    assert "1 container (" in md and "1 bridge with" in md
    assert f"{len(recorded.containers)} containers (" in render(recorded, "markdown")


def _crowd(recorded: Snapshot, n: int) -> Snapshot:
    """The recorded lab with ``n`` more copies of one bridged container (the uplink's 1400
    below their 1500 warns on each), names in natural order after the original."""
    base = recorded.container(BRIDGED)
    assert base is not None
    copies = tuple(replace(base, id=f"{k:064x}", name=f"crowd-{k}") for k in range(n))
    return replace(recorded, containers=(*recorded.containers, *copies))


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_one_finding_in_many_containers_is_one_line_of_attention(recorded, fmt: str) -> None:
    crowded = _crowd(recorded, 200)
    text = render(crowded, fmt)
    attention = text.split("Needs attention", 1)[1]
    attention = attention.split("</ul>" if fmt == "html" else "## Containers", 1)[0]
    said = "has MTU 1500, above the host uplink eth0's 1400"
    said = escape(said) if fmt == "html" else said
    lines = [line for line in attention.split("<li>" if fmt == "html" else "\n") if said in line]
    assert len(lines) == 1, lines
    # the doctor's own word: which containers' first problem is that one
    first = [
        next(c for c in r.checks if c.status in ("fail", "warn"))
        for r in offline_doctor(crowded, (), False)
        if any(c.status in ("fail", "warn") for c in r.checks)
    ]
    same = [c for c in first if "has MTU 1500, above the host uplink eth0's 1400" in c.summary]
    assert len(same) > 200
    assert f"and {len(same) - 3} others" in lines[0]
    assert "crowd-199" not in attention  # counted, not listed
