"""The live TUI at a thousand namespaces (issue 23, second pass), as behaviour, untimed:
rows before reads, progress patched in, counters read only for what is on screen."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets.data_table import RowKey

from inspector.collect.counters import Counters
from inspector.inventory import events as ev
from inspector.live.runner import Live, LiveUpdate
from inspector.live.sampler import sample
from inspector.model.snapshot import Container, HostNetwork, Interface, PeerRef, Snapshot
from inspector.tui import row_patch
from inspector.tui.app import CnetApp, make_app
from inspector.tui.view import Row
from inspector.tui.widgets import Pane
from tests.test_scale import OTHERS, OtherNamespacesReader
from tests.test_tui import SIZE, sync, wait_for
from tests.tui_fakes import ScriptedRates, scripted_rates


class CountingReader(OtherNamespacesReader):
    """Records how many rows each publication had when a namespace read began."""

    def __init__(self, published: list[LiveUpdate]) -> None:
        super().__init__()
        self.published = published
        self.rows_at_first_read: int | None = None
        self.rows_at_host_read: int | None = None

    def rows(self) -> int:
        return len(self.published[-1].snapshot.containers) if self.published else 0

    def host(self) -> ev.HostDumped:
        self.rows_at_host_read = self.rows()
        return super().host()

    def read_namespaces(self, identities: list[tuple[int, int]]) -> list[object]:  # type: ignore[override]
        if self.rows_at_first_read is None:
            self.rows_at_first_read = self.rows()
        return super().read_namespaces(identities)  # type: ignore[return-value]


def test_every_namespace_found_is_a_row_before_the_first_is_read() -> None:
    """The listing is cheap, the reads are not: the first pass publishes every namespace
    discovery found (unread) before it reads any, or the host (1,000 veths to parse)."""
    live = Live(reconcile=0)
    published: list[LiveUpdate] = []
    live._publish = published.append
    reader = CountingReader(published)
    live._list(reader)  # type: ignore[arg-type]  # as the runner starts
    live._full(reader, first=True)  # type: ignore[arg-type]
    assert reader.rows_at_first_read == OTHERS
    assert reader.rows_at_host_read == OTHERS
    assert published[-1].snapshot.containers and not published[-1].status.reading


def bridged(count: int) -> Snapshot:
    """``count`` running workloads, each an ``eth0`` whose veth's host end is a port of
    ``br0``: their rates come from the host's counters."""
    ports = tuple(
        Interface(f"veth{n:04d}", 100 + n, kind="veth", state="up", master="br0")
        for n in range(count)
    )
    return Snapshot(
        taken_at="2026-12-07T00:00:00Z",
        hostname="h",
        host=HostNetwork((Interface("br0", 3, kind="bridge", state="up"), *ports)),
        containers=tuple(
            Container(
                f"id{n:04d}",
                f"w{n:04d}",
                "",
                "running",
                10_000 + n,
                "bridge",
                interfaces=(
                    Interface(
                        "eth0",
                        2,
                        kind="veth",
                        state="up",
                        peer=PeerRef(f"veth{n:04d}", 100 + n, "br0"),
                    ),
                ),
            )
            for n in range(count)
        ),
    )


def many(count: int) -> Snapshot:
    """``count`` running workloads, each with an interface no host end reads (a macvlan):
    every one needs its own namespace's counters."""
    mac = Interface("eth0", 2, kind="macvlan")
    return Snapshot(
        taken_at="2026-12-07T00:00:00Z",
        hostname="h",
        host=HostNetwork(),
        containers=tuple(
            Container(
                f"id{n:04d}", f"w{n:04d}", "", "running", 100 + n, "bridge", interfaces=(mac,)
            )
            for n in range(count)
        ),
    )


def test_namespace_counters_are_read_only_for_the_watched_containers() -> None:
    snap = many(50)
    read: list[int] = []

    def inside_of(pid: int) -> dict[str, Counters]:
        read.append(pid)
        return {"eth0": Counters(1, 1, 1, 1, 0, 0, 0, 0)}

    sample(snap, 0.0, {"w0003", "w0007"}, inside_of=inside_of)
    assert sorted(read) == [103, 107]
    read.clear()
    sample(snap, 0.0, None, inside_of=inside_of)  # cnet snapshot --rates: every one
    assert len(read) == 50


@sync
async def test_the_app_asks_the_sampler_for_the_rows_in_view_and_the_selected_one() -> None:
    """At 1,000 rows the sampler read every namespace once a second: the app tells it
    the rows on screen (and the selected), never the whole list."""
    snap = many(200)
    feed = ScriptedRates()
    app = make_app(snap, rates=feed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        rates = scripted_rates(snap, 2, lambda t, name: 1000 * t)
        feed.push(rates[0])
        await wait_for(pilot, lambda: bool(feed.watched))
        watched = feed.watched[-1]
        table = app.pane("containers")
        assert 0 < len(watched) < 60 and table.current_key in watched
        assert watched <= {r.key for r in table.rows_shown[: table.size.height]}
        await pilot.press("G")  # the last row: the view moves, so does what is read
        await pilot.pause()
        feed.push(rates[1])
        await wait_for(pilot, lambda: "w0199" in feed.watched[-1])
        assert "w0000" not in feed.watched[-1]


@sync
async def test_a_rates_tick_draws_only_the_rows_in_view_and_the_rest_when_they_come() -> None:
    """Every row's rate moves: the table is repainted for the rows on screen only; a row
    out of view is drawn with its latest rate once it scrolls in (``G``)."""
    snap = bridged(200)
    feed = ScriptedRates()
    app = make_app(snap, rates=feed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        rates = scripted_rates(snap, 3, lambda t, name: 1000 * t * t)
        table = app.pane("containers")
        feed.push(rates[0])
        await wait_for(pilot, lambda: app.rates is rates[0])
        drawn = drawn_rows(table)
        feed.push(rates[1])
        await wait_for(pilot, lambda: app.rates is rates[1])
        in_view = {r.key for r in table.rows_shown[: table.size.height]}
        await pilot.pause()
        assert drawn and set(drawn) <= in_view  # nothing drawn for the 150-odd out of view
        last = table.rows_shown[-1]
        assert last.key not in drawn
        await pilot.press("G")
        await pilot.pause()
        column = next(n for n, c in enumerate(table._columns) if c.label.startswith("Rx"))
        cell, line = rx_shown(table, last.key)
        assert last.cells[column] and last.cells[column] == cell
        assert f" {cell} " in line  # drawn on screen, not only held


def drawn_rows(table: Pane) -> list[str]:
    """The keys of the rows whose lines ``table`` renders from now on (a cached line is
    not rendered: what a repaint really costs)."""
    drawn: list[str] = []
    render = table._render_line_in_row

    def counted(row_key: RowKey, *args: Any, **kw: Any) -> Any:
        drawn.append(str(row_key.value))
        return render(row_key, *args, **kw)

    table._render_line_in_row = counted  # type: ignore[method-assign]
    return drawn


@contextlib.asynccontextmanager
async def one_moves(
    name: str,
) -> AsyncIterator[tuple[CnetApp, Pilot[int], Callable[[], Awaitable[None]]]]:
    """A TUI over ``bridged(200)`` with a first rates tick drawn, in which every workload
    moved 1,000 B/s each way; ``tick()`` draws the next, in which only ``name`` moved more
    (5,000 B/s: ``4.9K``) and every other row's cells say the same."""
    snap = bridged(200)
    feed = ScriptedRates()
    app = make_app(snap, rates=feed)
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(pilot, feed.started.is_set)
        rates = scripted_rates(snap, 2, lambda t, n: 5000 if t == 2 and n == name else 1000)
        feed.push(rates[0])
        await wait_for(pilot, lambda: app.rates is rates[0])
        await pilot.pause()

        async def tick() -> None:
            feed.push(rates[1])
            await wait_for(pilot, lambda: app.rates is rates[1])
            await pilot.pause()

        yield app, pilot, tick


def rx_shown(table: Pane, key: str) -> tuple[str, str]:
    """Row ``key``'s Rx/s cell as the table holds it, and its line as the table renders it."""
    column = next(c.key for c in table._columns if c.label.startswith("Rx"))
    line = table.render_line(table.get_row_index(key) + 1 - int(table.scroll_y))
    return table.get_cell(key, column).plain.strip(), line.text


@sync
async def test_a_rates_tick_repaints_only_the_rows_whose_cells_changed() -> None:
    """One workload's rate moves, the others' cells say the same: that row's line alone
    is rendered again, with its new rate (``update_cell`` repainted every row in view)."""
    async with one_moves("w0002") as (app, _, tick):
        table = app.pane("containers")
        drawn = drawn_rows(table)
        await tick()
        assert set(drawn) == {"w0002"}
        cell, line = rx_shown(table, "w0002")
        assert cell == "4.9K" and "4.9K" in line


@sync
async def test_a_table_whose_internals_are_not_known_is_updated_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another Textual's DataTable (a cache this does not know): ``update_cell`` as before,
    every row in view repainted, and the new rate shown all the same."""
    monkeypatch.setattr(row_patch, "_CACHES", (*row_patch._CACHES, ("_gone_cache", 0, "y")))
    async with one_moves("w0002") as (app, _, tick):
        table = app.pane("containers")
        drawn = drawn_rows(table)
        await tick()
        assert {"w0002", "w0003"} <= set(drawn)
        assert "4.9K" in rx_shown(table, "w0002")[1]


@sync
async def test_a_rates_tick_patches_the_host_links_that_moved_into_the_interfaces_pane() -> None:
    """The Interfaces pane shows the host links; a tick that moved one patches its rate
    cells in, and the pane is not given its rows again."""
    async with one_moves("w0000") as (app, _, tick):
        links = app.pane("interfaces")
        assert "veth0000" in {r.key for r in links.rows_shown}  # w0000's host side
        given: list[int] = []
        set_rows = links.set_rows

        def counted(rows: Sequence[Row], **kw: Any) -> None:
            given.append(len(rows))
            set_rows(rows, **kw)

        links.set_rows = counted  # type: ignore[method-assign]
        drawn = drawn_rows(links)
        await tick()
        assert given == [] and set(drawn) == {"veth0000"}
        assert rx_shown(links, "veth0000")[0] == "4.9K"


@sync
async def test_a_row_that_moved_out_of_view_is_drawn_anew_when_it_scrolls_back() -> None:
    """Its line was drawn (and kept by the table) before it went out of view; a tick moved
    it meanwhile: back in view, the line shows the new rate, not the kept one."""
    async with one_moves("w0002") as (app, pilot, tick):
        table = app.pane("containers")
        cell, line = rx_shown(table, "w0002")
        assert cell != "4.9K" and f" {cell} " in line
        table.focus()
        await pilot.press("G")
        await pilot.pause()
        assert table.get_row_index("w0002") not in table._in_view()
        await tick()
        await pilot.press("g")
        await pilot.pause()
        cell, line = rx_shown(table, "w0002")
        assert cell == "4.9K" and " 4.9K " in line
