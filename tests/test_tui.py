"""Pilot tests of the TUI on the recorded lab snapshot.

Containers are found by what they are (multi-network, host mode, ...), never by name,
and veth names are read from the snapshot, so a re-recorded lab keeps these passing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, RadioButton, Static

from inspector.cli import main
from inspector.model.paths import interface_path
from inspector.model.snapshot import Container, Snapshot
from inspector.render.snapshot_json import load_demo_snapshot, load_snapshot
from inspector.tui.app import CnetApp, make_app
from inspector.tui.screens import ExportScreen, HelpScreen
from inspector.tui.status_line import Source
from inspector.tui.view import fit_text, plain
from tests.tui_fakes import ScriptedFeed

SIZE = (120, 40)


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test with plain pytest (no async plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def _pick(snapshot: Snapshot, test: Callable[[Container], bool]) -> Container:
    found = [c for c in snapshot.containers if test(c)]
    assert found, "the recorded lab lacks a container of this kind"
    return found[0]


def multi(s: Snapshot) -> Container:
    return _pick(s, lambda c: sum(1 for i in c.interfaces if i.peer is not None) >= 2)


def host_mode(s: Snapshot) -> Container:
    return _pick(s, lambda c: c.netns_shared_with == "host")


def none_mode(s: Snapshot) -> Container:
    return _pick(s, lambda c: c.running and c.network_mode == "none")


def shared(s: Snapshot) -> Container:
    return _pick(s, lambda c: c.netns_shared_with not in (None, "host"))


def stopped(s: Snapshot) -> Container:
    return _pick(s, lambda c: not c.running)


def bridged(s: Snapshot) -> Container:
    return _pick(
        s,
        lambda c: (
            c.netns_shared_with is None and sum(1 for i in c.interfaces if i.peer is not None) == 1
        ),
    )


def peers(c: Container) -> list[str]:
    return [i.peer.name for i in c.interfaces if i.peer is not None]


async def select_container(app: CnetApp, pilot: object, name: str) -> None:
    """Walk the cursor down to ``name`` with the keyboard (j), as a user would."""
    table = app.pane("containers")
    table.move_cursor(row=0)
    await pilot.pause()  # type: ignore[attr-defined]
    for _ in range(len(table.rows_shown)):
        if table.current_key == name:
            return
        await pilot.press("j")  # type: ignore[attr-defined]
    assert table.current_key == name


def detail_text(app: CnetApp) -> str:
    return plain(app.detail_lines())


def port_keys(app: CnetApp) -> list[str]:
    return [
        r.key.removeprefix("port:")
        for r in app.pane("ports").rows_shown
        if r.key.startswith("port:")
    ]


@sync
async def test_four_titled_panes_and_containers_at_80x24(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [
            str(app.screen.query_one(f"#{p}-pane").border_title)
            for p in ("containers", "interfaces", "routes", "ports")
        ]
        assert [t.split(" ")[0] for t in titles] == ["Containers", "Interfaces", "Routes", "Bridge"]
        assert titles[3].startswith("Bridge ports")
        for p in ("containers", "interfaces", "routes", "ports"):
            region = app.screen.query_one(f"#{p}-pane").region
            assert (
                region.width > 0
                and region.height >= 4
                and region.right <= 80
                and region.bottom <= 24
            )
        assert [r.key for r in app.pane("containers").rows_shown] == [
            c.name for c in recorded.containers
        ]
        assert "snapshot" in app.sub_title and recorded.hostname in app.sub_title


@sync
async def test_selecting_the_multi_network_container_narrows_the_host_panes(
    recorded: Snapshot,
) -> None:
    c = multi(recorded)
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.pause()
        assert [r.key for r in app.pane("interfaces").rows_shown] == peers(c)
        assert port_keys(app) == peers(c)
        assert [r.cells[0] for r in app.pane("routes").rows_shown] == [r.dst for r in c.routes]
        text = detail_text(app)
        for i in c.interfaces:
            if i.peer is not None:
                assert interface_path(recorded, c, i) + " -> host" in text
                host_end = recorded.host_interface(i.peer.name)
                assert host_end is not None and host_end.mac and host_end.mac in text
                assert i.mac and i.mac in text
        for n in c.networks:
            assert n.name in text


@pytest.mark.parametrize(
    ("kind", "wording"),
    [
        (host_mode, "shares the host's network stack"),
        (none_mode, "loopback only"),
        (stopped, "not running"),
    ],
)
@sync
async def test_network_modes_in_words(
    recorded: Snapshot, kind: Callable[[Snapshot], Container], wording: str
) -> None:
    c = kind(recorded)
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        assert wording in detail_text(app)
        if kind is host_mode:  # the host's own panes, not a narrowed view
            assert len(app.pane("interfaces").rows_shown) == len(recorded.host.interfaces)


@sync
async def test_container_mode_names_its_owner_and_shows_its_interfaces(recorded: Snapshot) -> None:
    c = shared(recorded)
    owner = recorded.container(c.netns_shared_with or "")
    assert owner is not None
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        text = detail_text(app)
        assert f"shares the network namespace of container {owner.name}" in text
        for veth in peers(owner):
            assert veth in text
        assert [r.key for r in app.pane("interfaces").rows_shown] == peers(owner)


@sync
async def test_filter_as_you_type_enter_keeps_it_esc_clears(recorded: Snapshot) -> None:
    c = multi(recorded)
    ip = c.ips[-1]
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*ip)
        assert [r.key for r in app.pane("containers").rows_shown] == [c.name]
        await pilot.press("enter")
        assert app.focused is app.pane("containers")
        assert app.pane("containers").current_key == c.name
        assert [r.key for r in app.pane("containers").rows_shown] == [c.name]
        assert port_keys(app) == peers(c)
        await pilot.press("escape")
        assert len(app.pane("containers").rows_shown) == len(recorded.containers)


@sync
async def test_filter_by_image_and_by_host_veth_name(recorded: Snapshot) -> None:
    c = bridged(recorded)
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *peers(c)[0])
        shown = [r.key for r in app.pane("containers").rows_shown]
        assert c.name in shown and multi(recorded).name not in shown
        await pilot.press("escape")
        await pilot.press("slash", *c.image.split(":")[0].upper())
        assert len(app.pane("containers").rows_shown) == len(
            [x for x in recorded.containers if c.image.split(":")[0] in x.image]
        )


@sync
async def test_enter_on_a_bridge_port_jumps_to_its_container_and_esc_comes_back(
    recorded: Snapshot,
) -> None:
    c = multi(recorded)
    veth = peers(c)[-1]
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        ports = app.pane("ports")
        ports.focus()
        whole_host = sum(len(b.ports) for b in recorded.bridges)
        await wait_for(pilot, lambda: len(port_keys(app)) == whole_host)  # focus: the whole host
        assert ports.select_key(f"port:{veth}")
        await pilot.pause()
        assert c.name in detail_text(app) and "enter" in detail_text(app)
        await pilot.press("enter")
        assert app.focused is app.pane("containers")
        assert app.pane("containers").current_key == c.name
        assert port_keys(app) == peers(c)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is ports
        assert ports.current_key == f"port:{veth}"


@sync
async def test_enter_on_a_host_veth_jumps_to_its_container(recorded: Snapshot) -> None:
    c = bridged(recorded)
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab")  # Containers -> Detail -> Interfaces
        assert app.focused is app.pane("interfaces")
        assert app.pane("interfaces").select_key(peers(c)[0])
        await pilot.pause()
        assert f"{c.name} (" in detail_text(app)
        await pilot.press("enter")
        assert app.pane("containers").current_key == c.name


@sync
async def test_export_dialog_writes_the_file_where_it_says(
    recorded: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        path_input = app.screen.query_one("#export-path", Input)
        assert path_input.value.startswith(
            f"cnet-{recorded.hostname}-"
        ) and path_input.value.endswith(".json")
        app.screen.query(RadioButton)[1].value = True  # Markdown
        await pilot.pause()
        assert path_input.value.endswith(".md")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        written = list(tmp_path.glob("cnet-*.md"))
        assert len(written) == 1
        assert multi(recorded).name in written[0].read_text()
        assert not list(tmp_path.glob(".*tmp"))


@sync
async def test_export_json_to_a_typed_path_round_trips(recorded: Snapshot, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert load_snapshot(target) == recorded


@sync
async def test_help_lists_every_key_and_esc_closes_it(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {k for k, _ in app.key_help()}
        for expected in ("q", "?", "r", "e", "/", "tab", "⇧tab", "⏎", "esc", "ctrl+p"):
            assert expected in keys
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@sync
async def test_command_palette_offers_the_same_actions(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {
            "Refresh",
            "Export",
            "Filter containers",
            "Help",
            "Next pane",
            "Previous pane",
            "Back",
            "Quit",
        } <= titles


@sync
async def test_q_quits(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def wait_for(pilot: object, condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)  # type: ignore[attr-defined]


@sync
async def test_refresh_keeps_selection_when_rows_move(recorded: Snapshot) -> None:
    c = multi(recorded)
    extra = dataclasses.replace(stopped(recorded), name="aaa-new", id="f" * 64)
    later = dataclasses.replace(recorded, containers=(extra, *recorded.containers))
    feed = ScriptedFeed(recorded, later)
    app = make_app(feed=feed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view is not None)
        assert "live" in app.sub_title
        await select_container(app, pilot, c.name)
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: (
                feed.refreshes == 1
                and len(app.pane("containers").rows_shown) == len(later.containers)
            ),
        )
        assert app.pane("containers").current_key == c.name
        assert port_keys(app) == peers(c)
    assert feed.stopped  # the app stops its feed when it exits


@sync
async def test_updates_from_the_feed_thread_keep_selection_and_draw_the_newest(
    recorded: Snapshot,
) -> None:
    """Snapshots posted from another thread, many at once: the UI shows the last one."""
    c = multi(recorded)
    feed = ScriptedFeed(recorded)
    app = make_app(feed=feed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view is not None)
        await select_container(app, pilot, c.name)
        versions = [
            dataclasses.replace(recorded, taken_at=f"2026-01-01T00:00:{n:02d}Z") for n in range(20)
        ]
        pusher = threading.Thread(target=lambda: [feed.push(v) for v in versions])
        pusher.start()
        pusher.join()
        await wait_for(pilot, lambda: app.view is not None and app.view.snapshot is versions[-1])
        assert app.pane("containers").current_key == c.name


@sync
async def test_lost_engine_events_say_so_and_the_data_stays(recorded: Snapshot) -> None:
    feed = ScriptedFeed(recorded)
    frozen = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    app = make_app(feed=feed, clock=lambda: frozen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view is not None)
        assert "live" in app.status_text()
        cut = dataclasses.replace(feed.status, engine_events=False)
        kept = dataclasses.replace(recorded, warnings=("Docker is not reachable: cut",))
        feed.push(kept, cut)
        await wait_for(pilot, lambda: "not following Docker events" in app.status_text())
        status = app.screen.query_one("#status", Static)
        assert status.has_class("-stale")
        assert len(app.pane("containers").rows_shown) == len(recorded.containers)
        before = app.pane("containers").current_key
        await pilot.press("j")
        assert app.pane("containers").current_key != before  # still answering keys


@sync
async def test_live_warnings_are_a_visible_notice(recorded: Snapshot) -> None:
    warned = dataclasses.replace(
        recorded, containers=(), warnings=("Docker is not reachable: test",)
    )
    app = make_app(feed=ScriptedFeed(warned))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.view is not None)
        notice = app.screen.query_one("#notice", Static)
        assert notice.display and notice.region.height >= 1
        assert "Docker is not reachable" in str(notice.render())
        assert len(app.pane("interfaces").rows_shown) == len(recorded.host.interfaces)


def test_bad_load_file_exits_2_with_one_line_before_the_ui(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["--load", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid JSON" in err


def test_the_demo_snapshot_ships_in_the_package() -> None:
    demo = load_demo_snapshot()
    assert demo.containers and demo.bridges
    assert make_app(demo, source=Source("demo")).source.kind == "demo"


def test_make_app_needs_data() -> None:
    with pytest.raises(ValueError):
        make_app()


def test_the_tui_does_not_import_collectors_at_start() -> None:
    # collect.children is no collector: the tracker every child process is started through
    # (subprocess and weakref; the rule reader's iptables-save uses it).
    tracker = ("inspector.collect", "inspector.collect.children")
    code = f"import sys, inspector.commands.tui, inspector.tui.app; print(any((m.startswith('inspector.collect') and m not in {tracker!r}) or m.startswith('pyroute2') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fit_text_cuts_with_one_ellipsis() -> None:
    assert fit_text("veth6e4ddd7", 11, True) == "veth6e4ddd7"
    assert fit_text("cnetlab-multi", 9, True) == "cnet…ulti"
    assert fit_text("cnetlab-multi eth1", 14, True) == "cnet…ulti eth1"
    assert fit_text("172.30.231.0/24", 8, False) == "172.30.…"


@sync
async def test_help_wraps_at_80_columns_and_end_scrolls_it_down(recorded: Snapshot) -> None:
    from inspector.tui.widgets import LinesView

    app = make_app(recorded)
    for width in (80, 120):
        async with app.run_test(size=(width, 24)) as pilot:
            await pilot.press("question_mark")
            await pilot.pause()
            view = app.screen.query_one("#help-keys", LinesView)
            assert view.max_scroll_x == 0  # wrapped inside the box: nothing cut at the side
            assert view.region.right <= width
            await pilot.press("end")
            await pilot.pause()
            assert view.scroll_x == 0
            assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y
        app = make_app(recorded)
