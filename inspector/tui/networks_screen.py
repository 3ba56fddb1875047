"""The networks view (``n``): every Docker network on a line, its members under it.

Threading: on the live host a thread worker asks Docker for its network list
(``read_networks``) and posts the rows; the UI thread only renders.  A saved snapshot
has no list: the view shows what its containers say about their networks, and says so.
Enter on a member closes the view and selects that container (Esc there comes back to
the pane it was opened from).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from inspector.model.snapshot import Snapshot
from inspector.tui.backends import NetworksReader
from inspector.tui.networks_view import (
    NETWORK_COLUMNS,
    NETWORK_SORTS,
    NetworkInfo,
    member_of,
    network_rows,
    networks_from_engine,
    networks_from_snapshot,
)
from inspector.tui.widgets import FittedFooter, Pane

FROM_SNAPSHOT = "from the snapshot's containers: drivers and options were not recorded"


class NetworksRead(Message):
    def __init__(self, networks: list[NetworkInfo], source: str) -> None:
        super().__init__()
        self.networks = networks
        self.source = source


class NetworksScreen(ModalScreen[str | None]):
    """Dismissed with the member container chosen with Enter, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="networks_close"),
        Binding("s", "sort", "Sort", id="networks_sort"),
        Binding("r", "reload", "Read again", id="networks_reload"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, snapshot: Snapshot, read: NetworksReader | None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.read = read
        self.networks: list[NetworkInfo] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="networks-box") as box:
            box.border_title = "Networks"
            yield Static("", id="networks-source", markup=False)
            yield Pane(NETWORK_COLUMNS, id="networks", sorts=NETWORK_SORTS)
        yield FittedFooter(show_command_palette=False)

    @property
    def table(self) -> Pane:
        return self.query_one("#networks", Pane)

    def on_mount(self) -> None:
        self.table.focus()
        self._load()

    def _load(self) -> None:
        if self.read is None:
            self._show(networks_from_snapshot(self.snapshot), FROM_SNAPSHOT)
            return
        self.query_one("#networks-source", Static).update("asking Docker for its networks…")
        self._read(self.read)

    @work(thread=True, exclusive=True, group="networks", description="networks")
    def _read(self, read: NetworksReader) -> None:
        try:
            listed = list(read())
        except Exception as exc:  # never take the view down: say it and show the snapshot's
            listed, problem = [], f"{type(exc).__name__}: {exc}"
        else:
            problem = ""
        if listed:
            found = networks_from_engine(listed, self.snapshot)
            source = f"from Docker: {len(found)} networks"
        else:
            found = networks_from_snapshot(self.snapshot)
            source = f"Docker did not answer{f' ({problem})' if problem else ''}: " + FROM_SNAPSHOT
        self.post_message(NetworksRead(found, source))

    @on(NetworksRead)
    def _ready(self, message: NetworksRead) -> None:
        self._show(message.networks, message.source)

    def _show(self, networks: list[NetworkInfo], source: str) -> None:
        self.networks = networks
        self.query_one("#networks-source", Static).update(source)
        self.query_one("#networks-box").border_title = f"Networks {len(networks)}"
        self.table.set_rows(network_rows(networks))

    @on(DataTable.RowSelected, "#networks")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # the main screen's panes handle their own
        container = member_of(self.table.current_key)
        if container is not None:
            self.dismiss(container)
        else:
            self.notify("enter on a member (the lines under a network) goes to it")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reload":
            return self.read is not None
        return True

    def action_sort(self) -> None:
        how = self.table.cycle_sort()
        self.notify(f"Networks sorted {how}", timeout=3)

    def action_reload(self) -> None:
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)
