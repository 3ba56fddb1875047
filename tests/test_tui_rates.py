"""Pilot tests of the rate columns and the detail's traffic, on a scripted rates feed.

The rates are what a ``RateMeter`` makes of scripted counters of the recorded lab, so the
cells come through the same code as on a live host; containers are found by what they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

from textual.widgets import Input

from inspector.live.rates import BARS, Rates, human_rate, recorded_rates, sparkline
from inspector.model.natural import natural_key, natural_sorted
from inspector.model.snapshot import Snapshot
from inspector.render.snapshot_json import load_snapshot
from inspector.tui.app import CnetApp, make_app
from inspector.tui.rate_detail import SPARK_CELLS, SPARK_PER
from inspector.tui.screens import ExportScreen
from inspector.tui.view import CONTAINER_COLUMNS, INTERFACE_COLUMNS, RATES_AT
from tests.test_tui import (
    SIZE,
    detail_text,
    multi,
    peers,
    select_container,
    stopped,
    sync,
    wait_for,
)
from tests.tui_fakes import ScriptedFeed, ScriptedRates, scripted_rates

RX = RATES_AT


def per_second(snapshot: Snapshot) -> dict[str, int]:
    """Each running container moves a different number of bytes a second (the last in the
    list the most), so sorting by rate is a different order from sorting by name."""
    running = [c.name for c in snapshot.containers if c.running]
    return {name: 1000 * (n + 1) for n, name in enumerate(running)}


def script(snapshot: Snapshot, seconds: int = 3, grow: int = 0) -> list[Rates]:
    base = per_second(snapshot)
    return scripted_rates(snapshot, seconds, lambda t, name: base[name] + grow * t)


def cells(app: CnetApp, pane: str = "containers") -> dict[str, tuple[str, ...]]:
    return {r.key: r.cells for r in app.pane(pane).rows_shown}


def test_the_rate_columns_are_where_the_cells_are() -> None:
    assert [c.label for c in CONTAINER_COLUMNS[RX : RX + 2]] == ["Rx/s", "Tx/s"]
    assert [c.label for c in INTERFACE_COLUMNS[RX : RX + 2]] == ["Rx/s", "Tx/s"]
    assert all(c.descending for c in CONTAINER_COLUMNS[RX : RX + 2])


@sync
async def test_rate_cells_update_while_the_selection_and_scroll_stay(recorded: Snapshot) -> None:
    rates = script(recorded, seconds=4, grow=700)
    feed = ScriptedRates()
    app = make_app(recorded, rates=feed)
    name = multi(recorded).name
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, feed.started.is_set)
        assert feed.followed == [recorded]  # told which interfaces to sample
        await select_container(app, pilot, name)
        table = app.pane("containers")
        where = (table.cursor_row, table.scroll_y)
        assert cells(app)[name][RX] == ""  # nothing sampled yet
        for step in rates:
            feed.push(step)
            want = human_rate(step.containers[name].rx_bytes)
            await wait_for(pilot, lambda want=want: cells(app)[name][RX] == want)
            assert (table.current_key, table.cursor_row, table.scroll_y) == (name, *where)
            assert app.focused is table
        assert cells(app)[name][RX] != human_rate(rates[0].containers[name].rx_bytes)
        assert cells(app)[stopped(recorded).name][RX : RX + 2] == ("", "")
        # the host ends of its veths, in the narrowed Interfaces pane, as the host counts them
        host = cells(app, "interfaces")
        for veth in peers(multi(recorded)):
            assert host[veth][RX] == human_rate(rates[-1].host[veth].rx_bytes)


@sync
async def test_sorting_by_rate_puts_the_busiest_first_and_keeps_the_cursor(
    recorded: Snapshot,
) -> None:
    feed = ScriptedRates()
    app = make_app(recorded, rates=feed)
    name = multi(recorded).name
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        await select_container(app, pilot, name)
        step = script(recorded)[-1]
        feed.push(step)
        await wait_for(pilot, lambda: cells(app)[name][RX] != "")
        table = app.pane("containers")
        while table.sort_column != RX:
            await pilot.press("s")
        keys = [r.key for r in table.rows_shown]
        rx = {n: r.rx_bytes for n, r in step.containers.items()}
        busiest = sorted(rx, key=lambda n: (-rx[n], natural_key(n)))
        assert busiest != natural_sorted(busiest) and len(set(rx.values())) >= 2
        assert keys[: len(busiest)] == busiest
        # no rate (stopped; no interface of its own): after every rate, by name
        assert keys[len(busiest) :] == natural_sorted(set(keys) - set(busiest))
        assert table.current_key == name
        label = str(table.columns[table.ordered_columns[RX].key].label)
        assert label.strip().endswith("▼")


@sync
async def test_the_detail_shows_a_sparkline_of_the_last_minute(recorded: Snapshot) -> None:
    rates = script(recorded, seconds=8, grow=2000)
    feed = ScriptedRates()
    app = make_app(recorded, rates=feed)
    c = multi(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        await select_container(app, pilot, c.name)
        assert "Traffic" not in detail_text(app)
        for step in rates:
            feed.push(step)
        last = rates[-1]
        line = sparkline(last.container_history(c.name), SPARK_CELLS, SPARK_PER)
        await wait_for(pilot, lambda: line in detail_text(app))
        text = detail_text(app)
        # growing traffic, oldest first
        assert list(line) == sorted(line, key=BARS.index) and line[0] != line[-1] == "█"
        assert f"peak {human_rate(max(last.container_history(c.name)))}B/s" in text
        for i in c.interfaces:  # two networks: each interface's own rates too
            if i.peer is not None:
                assert (
                    f"{i.name}: rx {human_rate(last.interfaces[(c.name, i.name)].rx_bytes)}" in text
                )
        assert app.detail.scroll_y == 0
        # a host veth's detail has its own line
        await pilot.press("tab", "tab")
        await wait_for(pilot, lambda: app.pane("interfaces").has_focus)
        veth = app.pane("interfaces").current_key
        assert veth is not None
        assert sparkline(last.host_history(veth), SPARK_CELLS, SPARK_PER) in detail_text(app)


@sync
async def test_a_new_snapshot_from_the_feed_is_followed_by_the_sampler(recorded: Snapshot) -> None:
    later = dataclasses.replace(recorded, taken_at="2030-01-01T00:00:00Z")  # a new object
    feed = ScriptedFeed(recorded, later)
    rates = ScriptedRates()
    app = make_app(feed=feed, rates=rates)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.view is not None)
        await pilot.press("r")
        await wait_for(pilot, lambda: rates.followed[-1:] == [later])
        assert recorded in rates.followed
    assert rates.stopped


@sync
async def test_the_export_writes_the_rates_shown_when_e_was_pressed(
    recorded: Snapshot, tmp_path: Path
) -> None:
    rates = script(recorded, seconds=3, grow=500)
    feed = ScriptedRates()
    app = make_app(recorded, rates=feed)
    name = multi(recorded).name
    target = tmp_path / "with-rates.json"
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        shown = rates[1]
        feed.push(shown)
        want = human_rate(shown.containers[name].rx_bytes)
        await wait_for(pilot, lambda: cells(app)[name][RX] == want)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        feed.push(rates[2])  # a later step while the dialog is open: not the one exported
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    written = load_snapshot(target)
    assert written.rates == recorded_rates(shown)
    assert written.rates != recorded_rates(rates[2])
    assert replace(written, rates=None) == recorded
    by = {r.container: r.rate for r in written.rates.containers}
    assert human_rate(by[name].rx_bytes) == want


def test_rate_columns_wait_for_network_and_ips_to_shrink_before_hiding() -> None:
    """At about 100 columns the containers pane keeps Rx/s (Network and IPs at their
    minimum); at 80 the rates are hidden whole, never cut to a stub."""
    from inspector.tui.view import fit_widths

    content = [0, 15, 7, 4, 4, 6, 25, 26, 23]  # the recorded lab's widest cells
    at_100 = fit_widths(CONTAINER_COLUMNS, content, 57)
    assert at_100[RX] == 5 and at_100[RX + 1] == 0 and at_100[6] == 8
    assert at_100[5] == 0  # Runtime, optional and least needed, goes first
    assert fit_widths(CONTAINER_COLUMNS, content, 60)[RX : RX + 2] == [5, 5]
    at_80 = fit_widths(CONTAINER_COLUMNS, content, 46)
    assert at_80[RX : RX + 2] == [0, 0] and min(w for w in at_80 if w) >= 1
    assert at_80[6:8] == [8, 11]  # Network and IPs at their minimum, not below


@sync
async def test_rates_that_change_nothing_shown_repaint_nothing(recorded: Snapshot) -> None:
    """Steady traffic with a full minute of history: each second's rates say what the
    last said, so neither the cells nor the detail (its frame or its text) are drawn
    again; Textual repaints a widget on any title assignment, even of the same text."""
    rates = script(recorded, seconds=70)  # the same bytes every second
    feed = ScriptedRates()
    app = make_app(recorded, rates=feed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        await select_container(app, pilot, multi(recorded).name)
        for step in rates[:64]:
            feed.push(step)
        await wait_for(pilot, lambda: app.rates is rates[63])
        await pilot.pause()
        repaints: list[str] = []
        for widget in (app.detail, *app.detail.children, app.pane("containers")):
            original = widget.refresh

            def counted(*args: object, widget: object = widget, original=original, **kw: object):  # type: ignore[no-untyped-def]
                repaints.append(type(widget).__name__)
                return original(*args, **kw)

            widget.refresh = counted  # type: ignore[method-assign]
        for step in rates[64:]:
            feed.push(step)
            await wait_for(pilot, lambda step=step: app.rates is step)
        assert repaints == []
