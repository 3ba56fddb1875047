"""The Connections view (``o``): what one workload listens on, how its published ports
reach it, whom it talks to, and how its TCP fares.

Threading: a thread worker reads the selected workload only (``read_connections``: one
sock_diag read in its namespace, one conntrack dump filtered to its addresses, two small
``/proc`` files) every ``REFRESH_S`` and, when the view opens or ``r`` is pressed, the
host's rules for the DNAT step of each chain.  It posts immutable data; the UI thread
only derives rows (``connections_view``) and renders them.  Nothing on the host changes.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from inspector.model.queries import namespace_owner
from inspector.model.snapshot import Snapshot, TcpHealth
from inspector.rules import Rulesets
from inspector.tui.backends import Backends
from inspector.tui.connections_view import (
    CHAIN_COLUMNS,
    FLOW_COLUMNS,
    FLOW_SORTS,
    HISTORY,
    LISTENER_COLUMNS,
    FlowTable,
    chain_rows,
    chains,
    flow_table,
    flows_note,
    health_line,
    listener_rows,
    matching,
    row_text,
    shown_flows,
    talkers_line,
)
from inspector.tui.detached import Abandoned
from inspector.tui.widgets import FittedFooter, Pane

if TYPE_CHECKING:  # the collectors load only on the live host
    from inspector.collect.connections import Connections

REFRESH_S = 3.0
"""How often the open view reads the workload again: a few ms each, one workload only."""
FIRST_PAINT_WAIT_S = 1.0
"""How long the reader waits for the first flows to be drawn before it goes on anyway."""


class ConnectionsRead(Message):
    def __init__(
        self,
        conns: Connections,
        table: FlowTable,
        at: float,
        rulesets: Rulesets | None,
        rules_problem: str | None,
        rules_read: bool,
        shown: threading.Event | None = None,
    ) -> None:
        super().__init__()
        # The first flows of many, the rest being decoded: ``shown`` is set once they
        # are on screen, and the reader waits for it.
        self.shown = shown
        self.partial = shown is not None
        self.conns = conns
        self.table = table
        self.at = at
        self.rulesets = rulesets
        self.rules_problem = rules_problem
        self.rules_read = rules_read


class ConnectionsFailed(Message):
    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class ConnectionsScreen(Screen[None]):
    """The connections of ``container`` (its namespace owner's, under ``container:X``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="connections_close"),
        Binding("s", "sort", "Sort flows", id="connections_sort"),
        Binding("slash", "filter", "Filter flows", id="connections_filter"),
        Binding("y", "copy", "Copy row", id="connections_copy"),
        Binding("r", "reload", "Read again", id="connections_reload"),
        Binding("tab", "app.focus_next", "Table", id="connections_next", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, snapshot: Snapshot, container: str, backends: Backends) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.container = container
        self.backends = backends
        self.conns: Connections | None = None
        self.table = FlowTable((), ())
        self.rulesets: Rulesets | None = None
        self.rules_problem: str | None = None
        self.history: list[tuple[float, TcpHealth]] = []
        self.needle = ""
        self.partial = False  # what is shown is the first flows of a read still going on
        self.built = False  # the tables are mounted (with the first read)

    def compose(self) -> ComposeResult:
        """The frame and a "reading" line only: the tables come with the first read
        (``_build``), so the screen is laid out once with them rather than twice, and
        what the reader decodes meanwhile does not wait on an empty screen's drawing."""
        with Vertical(id="connections-box") as box:
            box.border_title = f"Connections · {self.container}"
            yield Static(f"reading {self.container}…", id="connections-health", markup=False)
        yield FittedFooter(show_command_palette=False)

    async def _build(self) -> None:
        if self.built:
            return
        self.built = True
        note = Static("Flows", id="connections-note", classes="connections-heading", markup=False)
        talkers = Static("", id="connections-talkers", markup=False)
        talkers.display = False
        needle = Input(placeholder="address, port, state", id="connections-filter", compact=True)
        needle.display = False
        flows = Pane(FLOW_COLUMNS, id="connections-flows", sorts=FLOW_SORTS)
        await self.query_one("#connections-box").mount_all(
            [
                Static("Sockets", classes="connections-heading", markup=False),
                Pane(LISTENER_COLUMNS, id="connections-listeners"),
                Static("Published ports", classes="connections-heading", markup=False),
                Pane(CHAIN_COLUMNS, id="connections-chains"),
                note,
                talkers,
                needle,
                flows,
            ]
        )
        flows.focus()

    def pane(self, name: str) -> Pane:
        return self.query_one(f"#connections-{name}", Pane)

    def on_mount(self) -> None:
        self._read(with_rules=True, progressive=True)
        self.set_interval(REFRESH_S, lambda: self._read(with_rules=False))

    @work(thread=True, exclusive=True, group="connections", description="connections")
    def _read(self, with_rules: bool, progressive: bool = False) -> None:
        """``progressive``: the view's first read shows a screenful of flows while the
        rest are decoded; a refresh replaces the table at once (no shrinking and growing
        back)."""
        read = self.backends.read_connections
        if read is None:
            self.post_message(ConnectionsFailed("connections need the live host"))
            return
        rulesets: Rulesets | None = None
        rules_problem: str | None = None
        addresses = self._addresses()

        def first(part: Connections) -> None:
            """From the reading thread: the first screenful goes out, and the rest is
            decoded once it is drawn (the two would share one interpreter lock, and
            the screen took twice as long)."""
            shown = threading.Event()
            table = flow_table(part, addresses)
            at = time.monotonic()
            self.post_message(ConnectionsRead(part, table, at, None, None, False, shown))
            shown.wait(FIRST_PAINT_WAIT_S)

        try:
            conns = read(self.snapshot, self.container, first if progressive else None)
            if with_rules and self.backends.read_rules is not None:
                try:
                    rulesets = self.backends.read_rules()
                except Abandoned:
                    raise
                except Exception as exc:  # RulesUnavailable: one line, the chains say so
                    rules_problem = str(exc)
        except Abandoned:
            return
        except KeyError:
            self.post_message(ConnectionsFailed(f"{self.container} is gone"))
            return
        table = flow_table(conns, addresses)
        self.post_message(
            ConnectionsRead(conns, table, time.monotonic(), rulesets, rules_problem, with_rules)
        )

    def _addresses(self) -> list[str]:
        """The workload's own addresses (its namespace owner's): the talkers are the others."""
        found = self.snapshot.container(self.container)
        if found is None:
            return []
        owner = namespace_owner(self.snapshot, found)
        return [*owner.ips, *(n.ipv6 for n in owner.networks if n.ipv6)]

    @on(ConnectionsRead)
    async def _ready(self, message: ConnectionsRead) -> None:
        await self._build()
        self.partial = message.partial
        self.conns, self.table = message.conns, message.table
        if message.rules_read:
            self.rulesets, self.rules_problem = message.rulesets, message.rules_problem
        if message.conns.health is not None and not message.partial:
            self.history = [*self.history, (message.at, message.conns.health)][-HISTORY:]
        self._show()
        if message.shown is not None:  # drawn: laid out, then the table's rows measured
            shown = message.shown
            self.call_after_refresh(lambda: self.call_after_refresh(shown.set))

    @on(ConnectionsFailed)
    def _failed(self, message: ConnectionsFailed) -> None:
        self.query_one("#connections-health", Static).update(message.problem)

    def _show(self) -> None:
        conns = self.conns
        if conns is None:
            return
        owner = self.snapshot.container(self.container)
        problems = [p for p in (conns.sockets.problem, self.rules_problem) if p]
        health = health_line(self.history) if conns.health is not None else "TCP health: not read"
        self.query_one("#connections-health", Static).update(" · ".join([health, *problems]))
        self.pane("listeners").set_rows(listener_rows(conns))
        chain_list = chains(owner, conns, self.rulesets) if owner is not None else []
        self.pane("chains").set_rows(chain_rows(chain_list))
        self._show_flows()

    def _show_flows(self) -> None:
        """The first rows in the table's order: sorted here, then cut, then shown."""
        if self.conns is None:
            return
        table = self.pane("flows")
        rows, found = shown_flows(matching(self.table.rows, self.needle), table.sort_column)
        note = flows_note(self.conns, len(rows), found, reading=self.partial)
        self.query_one("#connections-note", Static).update("Flows · " + note)
        talkers = self.query_one("#connections-talkers", Static)
        talkers.update(talkers_line(self.table.talkers))
        talkers.display = bool(self.table.talkers)
        table.set_rows(rows)

    @on(Input.Changed, "#connections-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.input.value
        self._show_flows()

    @on(Input.Submitted, "#connections-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.pane("flows").focus()
        if not self.needle:
            event.input.display = False

    def action_filter(self) -> None:
        if not self.built:
            return  # nothing read yet: no table
        field = self.query_one("#connections-filter", Input)
        field.display = True
        field.focus()

    def action_sort(self) -> None:
        if not self.built:
            return  # nothing read yet: no table
        how = self.pane("flows").cycle_sort()
        self._show_flows()  # the first rows of the new order
        self.notify(f"Flows sorted {how}", timeout=3)

    def action_copy(self) -> None:
        if not self.built:
            return  # nothing read yet: no table
        focused = self.focused if isinstance(self.focused, Pane) else self.pane("flows")
        key = focused.current_key
        row = next((r for r in focused.rows_shown if r.key == key), None)
        if row is None:
            self.notify("nothing to copy here", severity="warning")
            return
        text = row_text(row)
        self.app.copy_to_clipboard(text)
        self.notify(text, title="Copied", timeout=4, markup=False)

    def action_reload(self) -> None:
        self._read(with_rules=True)

    def action_close(self) -> None:
        self.dismiss(None)
