"""``D`` in the TUI: compare what is shown with a saved snapshot, list and mark the changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.pilot import Pilot

from inspector.model.snapshot import Snapshot
from inspector.render.snapshot_json import dumps
from inspector.tui.app import CnetApp, make_app
from inspector.tui.compare_screen import CompareScreen
from inspector.tui.view import plain
from inspector.tui.widgets import LinesView
from tests.test_tui import SIZE, sync, wait_for
from tests.tui_fakes import ScriptedFeed


def _older(recorded: Snapshot) -> Snapshot:
    """The recorded lab as it was before: without cnetlab-multi, cnetlab-bridge's pid other."""
    return dataclasses.replace(
        recorded,
        containers=tuple(
            dataclasses.replace(c, pid=(c.pid or 0) + 1) if c.name == "cnetlab-bridge" else c
            for c in recorded.containers
            if c.name != "cnetlab-multi"
        ),
    )


async def compare_with(app: CnetApp, pilot: Pilot[int], path: Path) -> CompareScreen:
    """Press D, type the path, and wait for the comparison screen."""
    await pilot.press("D")
    await pilot.pause()
    await pilot.press(*str(path), "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
    assert isinstance(app.screen, CompareScreen)
    return app.screen


@sync
async def test_d_lists_the_changes_marks_them_and_d_again_clears(
    recorded: Snapshot, tmp_path: Path
) -> None:
    saved = tmp_path / "before.json"
    saved.write_text(dumps(_older(recorded)))
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        screen = await compare_with(app, pilot, saved)
        await wait_for(pilot, lambda: screen.result is not None)
        text = plain(screen.query_one("#compare-view", LinesView).lines)
        assert "+ cnetlab-multi" in text  # it is new since the saved snapshot
        assert "cnetlab-bridge" in text and "restarted" in text
        await pilot.press("escape")
        await pilot.pause()
        names = {r.key: r.cells[1] for r in app.pane("containers").rows_shown}
        assert names["cnetlab-multi"] == "Δ cnetlab-multi"
        assert names["cnetlab-bridge"] == "Δ cnetlab-bridge"
        assert names["cnetlab-none"] == "cnetlab-none"
        assert "changed since the compared snapshot" in str(
            app.screen.query_one("#containers-pane").border_subtitle
        )
        await pilot.press("D")  # again: the marks go
        await pilot.pause()
        assert all(not r.cells[1].startswith("Δ") for r in app.pane("containers").rows_shown)


@sync
async def test_d_on_a_file_that_is_not_a_snapshot_says_so_in_one_line(
    recorded: Snapshot, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        screen = await compare_with(app, pilot, bad)
        await wait_for(
            pilot,
            lambda: "not valid JSON" in plain(screen.query_one("#compare-view").lines),  # type: ignore[attr-defined]
        )
        await pilot.press("escape")
        await pilot.pause()
        assert app.compared is None


@sync
async def test_a_container_that_appears_after_d_is_marked_too(
    recorded: Snapshot, tmp_path: Path
) -> None:
    saved = tmp_path / "before.json"
    saved.write_text(dumps(recorded))
    feed = ScriptedFeed(recorded)
    app = make_app(feed=feed, local=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view is not None)
        screen = await compare_with(app, pilot, saved)
        await wait_for(pilot, lambda: screen.result is not None)
        await pilot.press("escape")
        await pilot.pause()
        bridge = next(c for c in recorded.containers if c.name == "cnetlab-bridge")
        later = dataclasses.replace(bridge, name="cnetlab-later", id="f" * 64)
        feed.push(dataclasses.replace(recorded, containers=(*recorded.containers, later)))
        await wait_for(
            pilot, lambda: "cnetlab-later" in {r.key for r in app.pane("containers").rows_shown}
        )
        names = {r.key: r.cells[1] for r in app.pane("containers").rows_shown}
        assert names["cnetlab-later"] == "Δ cnetlab-later"  # not in the saved snapshot
        assert names["cnetlab-bridge"] == "cnetlab-bridge"  # unchanged since
