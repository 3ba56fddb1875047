"""Pilot tests of what an operator does all day: filter while data arrives, move, sort, copy.

Run on the recorded lab snapshot; containers are found by what they are, never by name.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from inspector.model import Snapshot
from inspector.tui.app import CnetApp, SnapshotArrived, make_app
from tests.test_tui import multi, sync

SIZE = (120, 40)


def send_keys(app: CnetApp, text: str) -> None:
    """Keys as a terminal delivers a paste or fast typing: queued before any is handled."""
    driver = app._driver
    assert driver is not None
    for ch in text:
        key = events.Key(key_name(ch), ch)
        key.set_sender(app)
        driver.send_message(key)


def key_name(ch: str) -> str:
    if ch.isalnum():
        return ch
    return {"-": "minus", ".": "full_stop", "_": "underscore", " ": "space"}[ch]


def filter_field(app: CnetApp) -> Input:
    return app.screen.query_one("#filter", Input)


@sync
async def test_filter_typed_while_snapshots_arrive_keeps_every_key_in_order(
    recorded: Snapshot,
) -> None:
    name = multi(recorded).name
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        field = filter_field(app)
        chunks = [name[n : n + 3] for n in range(0, len(name), 3)]
        for n, chunk in enumerate(chunks):
            send_keys(app, chunk)
            app.post_message(SnapshotArrived(recorded))  # a refresh lands mid-typing
            await pilot.pause()
            typed = "".join(chunks[: n + 1])
            assert (field.value, field.cursor_position) == (typed, len(typed))
        for ch in "-x":  # and key by key, a snapshot before each
            app.post_message(SnapshotArrived(recorded))
            await pilot.press(key_name(ch))
        assert field.value == name + "-x"
        assert app.pane("containers").rows_shown == ()  # the filter is the field's text
        await pilot.press("backspace", "backspace")
        assert [r.key for r in app.pane("containers").rows_shown] == [name]


@sync
async def test_esc_in_the_detail_goes_back_to_the_pane_and_keeps_the_filter(
    recorded: Snapshot,
) -> None:
    name = multi(recorded).name
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *name, "enter", "enter")
        assert app.focused is app.detail
        await pilot.press("escape")
        assert app.focused is app.pane("containers")
        assert filter_field(app).value == name and filter_field(app).display
        assert [r.key for r in app.pane("containers").rows_shown] == [name]
        await pilot.press("escape")  # in the pane: now Esc clears it
        assert filter_field(app).value == "" and not filter_field(app).display
        assert len(app.pane("containers").rows_shown) == len(recorded.containers)
