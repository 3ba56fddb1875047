"""Pilot tests of what an operator does all day: filter while data arrives, move, sort, copy.

Run on the recorded lab snapshot; containers are found by what they are, never by name.
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from textual import events
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from inspector.model.natural import natural_sorted
from inspector.model.snapshot import Snapshot
from inspector.tui.action_view import NAT_NOTE, rules_lines
from inspector.tui.app import CnetApp, make_app
from inspector.tui.messages import SnapshotArrived
from inspector.tui.ping_screen import PingScreen
from inspector.tui.view import CONTAINER_SORTS, Line, plain, wrap_line
from inspector.tui.widgets import footer_drops
from tests.test_tui import multi, select_container, sync, wait_for
from tests.tui_fakes import FakePinger, bridged_container, bump, recorded_rules_text

FORWARD_IN = "-A FORWARD -o docker0 -j DOCKER"

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


@sync
async def test_home_end_g_and_G_go_to_the_first_and_last_row(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.pane("containers")
        last = table.rows_shown[-1].key
        for key, row in (("end", last), ("home", table.rows_shown[0].key), ("G", last)):
            await pilot.press(key)
            assert table.current_key == row and table.scroll_x == 0  # Name stays in view
        await pilot.press("g")
        assert table.cursor_row == 0
        assert app.pane("containers").current_key == app.selection().item  # type: ignore[union-attr]


@sync
async def test_the_detail_scrolls_with_j_k_and_starts_at_the_top_for_a_new_selection(
    recorded: Snapshot,
) -> None:
    c = multi(recorded)
    app = make_app(recorded)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("tab")  # to the detail
        assert app.focused is app.detail and app.detail.max_scroll_y > 2
        await pilot.press("j", "j")
        assert app.detail.scroll_y == 2
        await pilot.press("k")
        assert app.detail.scroll_y == 1
        await pilot.press("G")
        assert app.detail.scroll_y == app.detail.max_scroll_y
        await pilot.press("g")
        assert app.detail.scroll_y == 0
        await pilot.press("end")
        app.post_message(SnapshotArrived(recorded))  # a refresh keeps the place
        await pilot.pause()
        assert app.detail.scroll_y == app.detail.max_scroll_y > 0
        await pilot.press("escape", "k")  # another container: its name is in view
        await pilot.pause()
        assert app.pane("containers").current_key != c.name
        assert app.detail.scroll_y == 0


def numbered(recorded: Snapshot, *names: str) -> Snapshot:
    """The recording with its containers renamed (hx-perf-N) and listed in ``names``' order."""
    base = multi(recorded)
    return dataclasses.replace(
        recorded,
        containers=tuple(
            dataclasses.replace(base, name=n, id=f"{k:064x}", state=("running", "exited")[k % 2])
            for k, n in enumerate(names)
        ),
    )


@sync
async def test_names_in_natural_order_and_s_cycles_the_sort_column(recorded: Snapshot) -> None:
    snap = numbered(recorded, "hx-perf-10", "hx-perf-2", "hx-perf-1", "hx-perf-3")
    app = make_app(snap)
    async with app.run_test(size=SIZE) as pilot:
        table = app.pane("containers")
        keys = lambda: [r.key for r in table.rows_shown]  # noqa: E731
        assert keys() == ["hx-perf-1", "hx-perf-2", "hx-perf-3", "hx-perf-10"]
        assert str(table.ordered_columns[1].label).strip() == "Name ▲"
        await pilot.press("G")  # the cursor stays on its container through every sort
        await pilot.press("s")  # by state: exited before running, names in order within
        assert keys() == ["hx-perf-2", "hx-perf-3", "hx-perf-1", "hx-perf-10"]
        assert table.current_key == "hx-perf-10" and app.selection().item == "hx-perf-10"  # type: ignore[union-attr]
        assert "State ▲" in str(table.ordered_columns[2].label)
        await pilot.press(*"s" * (len(CONTAINER_SORTS) - 1))  # round to name again
        assert keys() == ["hx-perf-1", "hx-perf-2", "hx-perf-3", "hx-perf-10"]
        assert table.current_key == "hx-perf-10"


@sync
async def test_s_in_bridge_ports_keeps_each_port_under_its_bridge(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab", "tab", "tab")  # detail, interfaces, routes, ports
        ports = app.pane("ports")
        assert app.focused is ports
        await pilot.press("s")  # by name
        shown = [r.key for r in ports.rows_shown]
        bridges = [k.removeprefix("bridge:") for k in shown if k.startswith("bridge:")]
        assert bridges == natural_sorted([b.name for b in recorded.bridges])
        for b in recorded.bridges:
            at = shown.index(f"bridge:{b.name}")
            under = shown[at + 1 : at + 1 + len(b.ports)]
            assert under == [f"port:{n}" for n in natural_sorted([p.name for p in b.ports])]


def cells_shown(app: CnetApp, pane_id: str) -> list[tuple[str, ...]]:
    """What each row of a pane shows on screen, cut as it is (hidden columns are blank)."""
    pane = app.pane(pane_id)
    return [tuple(str(c).strip() for c in pane.get_row(r.key)) for r in pane.rows_shown]


@pytest.mark.parametrize("size", [(100, 30), (120, 40), (200, 50)])
def test_routes_show_gateway_and_device_and_ports_their_state(
    recorded: Snapshot, size: tuple[int, int]
) -> None:
    @sync
    async def run() -> None:
        app = make_app(recorded)
        async with app.run_test(size=size) as pilot:
            await pilot.press("tab", "tab")  # Interfaces: the host panes show the whole host
            await pilot.pause()
            routes = cells_shown(app, "routes")
            assert len(routes) == len(recorded.host.routes)
            for shown, route in zip(routes, recorded.host.routes, strict=True):
                assert shown[1] == (route.gateway or "direct")  # never cut
            assert len(set(routes)) == len(routes)  # six fe80::/64 direct rows told apart
            ports = cells_shown(app, "ports")
            states = [p.state for b in recorded.bridges for p in (b, *b.ports)]
            assert [row[-1] for row in ports] == states
            for pane_id in ("containers", "interfaces", "routes", "ports"):
                pane = app.pane(pane_id)
                assert sum(w + 1 for w in pane.widths if w) <= pane.scrollable_content_region.width
                assert pane.max_scroll_x == 0  # nothing hides off to the side

    run()


@sync
async def test_a_blank_ports_column_takes_only_its_label(recorded: Snapshot) -> None:
    unpublished = dataclasses.replace(
        recorded, containers=tuple(dataclasses.replace(c, ports=()) for c in recorded.containers)
    )
    app = make_app(unpublished)
    async with app.run_test(size=(200, 50)):
        widths = app.pane("containers").widths
        assert widths[-1] == len("Ports")


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
def test_the_footer_keys_fit_whole_and_apart(recorded: Snapshot, size: tuple[int, int]) -> None:
    @sync
    async def run() -> None:
        app = make_app(recorded)
        async with app.run_test(size=size) as pilot:

            def shown_keys() -> list[FooterKey]:
                return [k for k in app.screen.query(FooterKey) if k.display]

            def laid_out() -> bool:
                keys = shown_keys()
                return bool(keys) and all(k.region.width for k in keys)

            # The footer recomposes when the focus sets its bindings: wait until it is laid
            # out (a key just mounted has no region yet), then judge what it draws.
            await wait_for(pilot, laid_out)
            keys = sorted(shown_keys(), key=lambda k: k.region.x)
            shown = {k.key for k in keys}
            assert {"question_mark", "q", "slash", "p", "i", "d"} <= shown
            for left, right in itertools.pairwise(keys):
                assert right.region.x - left.region.right >= 2  # never run together
            assert keys[-1].region.right <= size[0]  # never cut
            for k in keys:
                assert str(k.render()).startswith(k.key_display + " ")  # key, space, label

    run()


def test_footer_drops_only_what_does_not_fit() -> None:
    keys = [("enter", 6), ("tab", 8), ("q", 6), ("question_mark", 6)]
    assert footer_drops(keys, 40, ("enter", "tab")) == set()
    assert footer_drops(keys, 30, ("enter", "tab")) == {"enter"}
    assert footer_drops(keys, 20, ("enter", "tab")) == {"enter", "tab"}


@sync
async def test_esc_while_editing_the_ping_target_only_leaves_the_field(recorded: Snapshot) -> None:
    c = bridged_container(recorded)
    pinger = FakePinger(replies=2)
    app = make_app(recorded, ping=pinger)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("p")
        ping = app.screen
        assert isinstance(ping, PingScreen)
        gateway = ping.target_field.value
        await pilot.press("t", "x", "y")
        assert ping.target_field.has_focus and ping.target_field.value.endswith("xy")
        await pilot.press("escape")
        assert app.screen is ping and ping.running  # the panel and the ping stay
        assert ping.target_field.value == gateway and not ping.target_field.has_focus
        await pilot.press("escape")  # now Esc stops the ping, as before
        await wait_for(pilot, lambda: not ping.running)
        assert app.screen is ping
        await pilot.press("escape")
        assert app.screen is not ping


def test_a_nat_rule_that_moved_by_one_is_explained(recorded: Snapshot) -> None:
    from inspector.rules import counter_delta, parse_iptables_save, rules_for
    from inspector.rules.model import Rulesets

    c = bridged_container(recorded)
    masquerade = "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"
    text = recorded_rules_text(recorded, drop=False)
    before = Rulesets(tables=parse_iptables_save(text))
    after = Rulesets(
        tables=parse_iptables_save(bump(bump(text, masquerade, 1, 84), FORWARD_IN, 6, 504))
    )
    report = rules_for(recorded, after, c.name)
    changes = counter_delta(before, after, report)
    text_shown = plain(rules_lines(report, changes, ping="ping"))
    assert "+1 pkts +84 B  ip nat POSTROUTING" in text_shown
    assert NAT_NOTE.strip() in text_shown
    only_filter = counter_delta(
        before, Rulesets(tables=parse_iptables_save(bump(text, FORWARD_IN, 6, 504))), report
    )
    assert NAT_NOTE.strip() not in plain(rules_lines(report, only_filter, ping="ping"))


def test_wrapped_lines_keep_their_indent() -> None:
    line: Line = (("   eth0 172.30.231.2 -> vethe048717 -> cnetlab-br1", "path"), (" up", "muted"))
    wrapped = wrap_line(line, 24)
    assert [plain([w]) for w in wrapped] == [
        "   eth0 172.30.231.2 ->",
        "     vethe048717 ->",
        "     cnetlab-br1 up",
    ]
    assert wrapped[2] == (("     ", ""), ("cnetlab-br1", "path"), (" up", "muted"))
    assert wrap_line(line, 80) == [line]
    assert [plain([w]) for w in wrap_line((("abcdefghij", ""),), 4)] == [
        "abcd",
        "  ef",
        "  gh",
        "  ij",
    ]


@sync
async def test_the_detail_wraps_under_the_indent_at_80_columns(recorded: Snapshot) -> None:
    c = multi(recorded)
    app = make_app(recorded)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.pause()
        width = app.detail.scrollable_content_region.width
        drawn = [plain([w]) for w in app.detail.wrapped]
        assert len(drawn) > len(app.detail.lines)  # some lines did wrap
        assert all(len(text) <= width for text in drawn)
        originals = iter(plain([ln]) for ln in app.detail.lines)
        current = next(originals, "")
        for text in drawn:  # a continuation is further in than the line it continues
            if current.startswith(text) or text == current:
                indent = len(current) - len(current.lstrip(" "))
            else:
                assert text.startswith(" " * (indent + 2)), text
            if current.endswith(text.strip()):
                current = next(originals, "")


@sync
async def test_y_copies_the_name_then_each_value_of_the_row(recorded: Snapshot) -> None:
    c = multi(recorded)
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        await select_container(app, pilot, c.name)
        await pilot.press("y")
        assert app.clipboard == c.name
        assert any(f"name {c.name}" in str(n.message) for n in app._notifications)
        await pilot.press("y")
        assert app.clipboard == c.ips[0]
        for _ in range(20):  # round the values: the MACs and the host veths are there
            await pilot.press("y")
            seen = app.clipboard
            assert seen
            if seen == c.name:
                break
        values = [v for _, v in app.view.copy_values("containers", c.name, None)]  # type: ignore[union-attr]
        assert {i.mac for i in c.interfaces if i.peer} <= set(values)
        assert {i.peer.name for i in c.interfaces if i.peer} <= set(values)
        await pilot.press("tab", "tab")  # Interfaces, on the container's veth
        await pilot.press("y")
        assert app.clipboard == app.pane("interfaces").current_key


@sync
async def test_sort_and_copy_are_in_the_help_and_the_palette(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE):
        helped = dict(app.key_help())
        assert "s" in helped and "y" in helped and "home g" in helped and "end G" in helped
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Sort", "Copy"} <= titles


@sync
async def test_j_k_g_G_scroll_the_rules_view(recorded: Snapshot) -> None:
    from inspector.tui.rules_screen import RulesScreen
    from tests.tui_fakes import recorded_rules

    rules = recorded_rules(recorded)
    app = make_app(recorded, read_rules=lambda: rules)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_container(app, pilot, bridged_container(recorded).name)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, RulesScreen)
        await wait_for(pilot, lambda: screen.report is not None)
        await pilot.pause()
        view = screen.view_
        assert app.focused is view and view.max_scroll_y > 3
        await pilot.press("j", "j", "j", "k")
        assert view.scroll_y == 2
        await pilot.press("G")
        assert view.scroll_y == view.max_scroll_y
        await pilot.press("g")
        assert view.scroll_y == 0


def test_a_macvlan_parent_lists_its_containers_in_natural_order(recorded: Snapshot) -> None:
    from inspector.tui.view import SnapshotView

    base = next(c for c in recorded.containers if any(i.parent for i in c.interfaces))
    parent = next(i.parent.name for i in base.interfaces if i.parent)
    names = ["mv-10", "mv-2", "mv-1"]
    snap = dataclasses.replace(
        recorded,
        containers=tuple(
            dataclasses.replace(base, name=n, id=f"{k:064x}") for k, n in enumerate(names)
        ),
    )
    view = SnapshotView(snap)
    text = plain(view.interface_detail(view.host_interfaces[parent]))
    assert "parent of: mv-1, mv-2, mv-10" in text


@sync
async def test_the_columns_stay_put_while_a_filter_narrows_the_rows(recorded: Snapshot) -> None:
    app = make_app(recorded)
    async with app.run_test(size=SIZE) as pilot:
        table = app.pane("containers")
        before = table.widths
        await pilot.press("slash", *multi(recorded).name)
        assert len(table.rows_shown) == 1 and table.widths == before


def test_fit_widths_gives_way_by_priority_and_hides_optional_columns_first() -> None:
    from inspector.tui.view import Column, fit_widths

    cols = (
        Column("Name", 15, 8),
        Column("Via", 15, 10, priority=1),
        Column("Note", 20, 6, priority=3, optional=True),
        Column("State", 10, 10, priority=2),
    )
    content = [15, 12, 20, 2]
    assert fit_widths(cols, content, 100) == [15, 12, 20, 10]  # content, a fixed state
    assert fit_widths(cols, content, 40) == [15, 12, 0, 10]  # the optional one goes first
    assert fit_widths(cols, content, 34) == [11, 10, 0, 10]  # Via to its minimum, then Name
    assert fit_widths(cols, [0, 0, 0, 0], 100) == [4, 3, 4, 10]  # blank: the label's width


def test_sort_values_and_descending_columns_sort_rates_largest_first() -> None:
    from inspector.tui.view import Column, Row, sort_rows

    cols = (Column("Name", 10, 5), Column("Rx/s", 8, 6, descending=True))
    rows = [
        Row("a-10", ("a-10", "1.2 KB/s"), sort_values=(None, 1200.0)),
        Row("a-2", ("a-2", "90 MB/s"), sort_values=(None, 90e6)),
        Row("a-1", ("a-1", "3 B/s"), sort_values=(None, 3.0)),
    ]
    assert [r.key for r in sort_rows(rows, cols, 0)] == ["a-1", "a-2", "a-10"]
    assert [r.key for r in sort_rows(rows, cols, 1)] == ["a-2", "a-10", "a-1"]
    assert [r.key for r in sort_rows(rows, cols, None)] == ["a-10", "a-2", "a-1"]
