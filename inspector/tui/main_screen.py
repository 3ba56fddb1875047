"""The main screen: the four panes, the filter field and the detail panel, laid out.

It only composes and forwards its keys to the App (``Panes``), which routes every
message and keeps the state; the panes' rows come from ``view.py``.  ``MainPanes`` is the
App's side: its handle on the panes, and whether they are still there.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, cast

from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from inspector.tui.view import (
    CONTAINER_COLUMNS,
    CONTAINER_SORTS,
    HOSTED_CONTAINER_COLUMNS,
    HOSTED_CONTAINER_SORTS,
    INTERFACE_COLUMNS,
    INTERFACE_SORTS,
    PORT_COLUMNS,
    PORT_SORTS,
    ROUTE_COLUMNS,
    ROUTE_SORTS,
)
from inspector.tui.widgets import Detail, FittedFooter, Pane

PANE_TITLES: dict[str, str] = {
    "containers": "Containers",
    "interfaces": "Interfaces",
    "routes": "Routes",
    "ports": "Bridge ports",
}
PANE_GROUP = Binding.Group("Pane")
FOOTER_DROP_FIRST = ("enter", "tab", "escape", "e", "n", "r", "s", "y", "slash", "d", "i", "c", "p")
"""The footer keys left out first when the line is short (? help lists them all)."""


class Panes(Protocol):
    """What the main screen asks of the App."""

    panes_unmounted: bool

    def start(self) -> None: ...
    def open_filter(self) -> None: ...
    def back(self) -> None: ...
    def cycle_sort(self) -> None: ...
    def copy_selection(self) -> None: ...
    def open_networks(self) -> None: ...


class MainScreen(Screen[None]):
    """The panes.  Pane focus sets the scope: in Containers the other panes narrow to the
    selected container; in a host pane they show the whole host."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "tab", "app.focus_next", "Pane", id="next_pane", tooltip="Next pane", group=PANE_GROUP
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous pane",
            id="previous_pane",
            key_display="⇧tab",
            group=PANE_GROUP,
            show=False,  # room for the actions at 80 columns: in ? help and the palette
        ),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "back", "Back", id="back"),
        Binding("s", "sort", "Sort", id="sort", tooltip="Sort the pane by its next column"),
        Binding("n", "networks", "Networks", id="networks", tooltip="Every Docker network"),
        Binding(
            "y",
            "copy",
            "Copy",
            id="copy",
            tooltip="Copy the name (y again: address, MAC, veth)",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Static("", id="status", markup=False)
        yield Static("", id="notice", markup=False)
        with Horizontal(id="top"):
            with Vertical(id="containers-pane", classes="pane") as box:
                box.border_title = PANE_TITLES["containers"]
                yield Input(
                    placeholder="name, image, runtime, IP or interface", id="filter", compact=True
                )
                hosts = getattr(self.app, "hosts", False)
                yield Pane(
                    HOSTED_CONTAINER_COLUMNS if hosts else CONTAINER_COLUMNS,
                    id="containers",
                    sorts=HOSTED_CONTAINER_SORTS if hosts else CONTAINER_SORTS,
                )
            yield Detail(id="detail")
        with Horizontal(id="bottom"):
            for pane_id, columns, sorts in (
                ("interfaces", INTERFACE_COLUMNS, INTERFACE_SORTS),
                ("routes", ROUTE_COLUMNS, ROUTE_SORTS),
                ("ports", PORT_COLUMNS, PORT_SORTS),
            ):
                with Vertical(id=f"{pane_id}-pane", classes="pane") as box:
                    box.border_title = PANE_TITLES[pane_id]
                    yield Pane(columns, id=pane_id, sorts=sorts)
        yield FittedFooter(drop_first=FOOTER_DROP_FIRST)

    def on_mount(self) -> None:
        self.app_.start()

    def on_unmount(self) -> None:
        self.app_.panes_unmounted = True

    def on_resize(self) -> None:
        self.set_class(self.size.width < 160, "-narrow")

    def action_filter(self) -> None:
        self.app_.open_filter()

    def action_back(self) -> None:
        self.app_.back()

    def action_sort(self) -> None:
        self.app_.cycle_sort()

    def action_copy(self) -> None:
        self.app_.copy_selection()

    def action_networks(self) -> None:
        self.app_.open_networks()

    @property
    def app_(self) -> Panes:
        return cast("Panes", self.app)


class MainPanes(App[int]):
    """The App's handle on the main screen's panes.  Messages that come late (a feed's, a
    worker's, a focus the teardown moved) check ``panes_gone`` and draw nothing."""

    panes_unmounted = False
    """Set when the main screen is unmounted (quitting)."""

    @property
    def panes_gone(self) -> bool:
        """The panes are gone or going: the main screen is unmounted, or the app is shutting
        down (``is_running`` is False from its first step, before the panes are removed)."""
        return self.panes_unmounted or not self.is_running

    @property
    def screen_main(self) -> MainScreen:
        main = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
        if main is None:  # not a StopIteration, which a coroutine turns into a riddle
            raise ScreenStackError("the main screen is not on the stack: check panes_gone")
        return main

    def pane(self, pane_id: str) -> Pane:
        return self.screen_main.query_one(f"#{pane_id}", Pane)

    @property
    def detail(self) -> Detail:
        return self.screen_main.query_one("#detail", Detail)
