"""The cnet TUI: four linked panes over one immutable snapshot, live or loaded.

Threading: live data is collected by one thread worker that hands each collect to a
daemon thread owning the collector (a Collector stays on one thread; a hung Docker socket
then never blocks quitting), and posts the finished, immutable Snapshot as a message.
The actions (``actions.py``) do their I/O in thread workers too: the ping panel and the
rules view in their own screens, the doctor here (one run per new snapshot for the
containers pane's marks, without pinging; one run with the gateway ping for ``d``), each
posting immutable results.  Their rule reads and doctor runs are ``detached``: a hung
``iptables-save`` or Docker socket never blocks quitting either, and an abandoned read's
late answer reaches nobody.  The UI thread only renders.  ``make_app`` is the one way to
build the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from inspector.live.feed import Feed, RatesFeed
from inspector.live.rates import RateCells, moved_rates
from inspector.model.safe import safe
from inspector.model.snapshot import Container, Snapshot
from inspector.tui.action_view import marks_summary
from inspector.tui.actions import selection_action, selection_action_bindings
from inspector.tui.backends import (
    Backends,
    Capturer,
    ConnectionsReader,
    Doctor,
    DropsStarter,
    HealthReader,
    NetworksReader,
    Pinger,
    RulesReader,
    default_backends,
)
from inspector.tui.compare_screen import ask_and_compare
from inspector.tui.detached import Abandoned, assemble_backends
from inspector.tui.export import export_worker
from inspector.tui.health_detail import HealthRead, HealthWatch
from inspector.tui.heap import settle_heap
from inspector.tui.keys import key_help, palette
from inspector.tui.main_screen import PANE_TITLES, MainPanes, MainScreen
from inspector.tui.marks import DoctorMarks, DoctorReady, Marks
from inspector.tui.messages import RatesArrived, SnapshotArrived
from inspector.tui.networks_screen import NetworksScreen
from inspector.tui.rate_detail import container_rates, interface_rates
from inspector.tui.rate_panes import (
    patch_interface_rates,
    show_container_rates,
    show_interface_rows,
)
from inspector.tui.screens import ExportRequest, ExportScreen, HelpScreen
from inspector.tui.signals import QuitsOnSignals
from inspector.tui.status_line import (
    Freshness,
    Source,
    freshness_of,
    header_subtitle,
    status_line,
    utc_now,
)
from inspector.tui.toasts import PlainToasts
from inspector.tui.view import (
    EMPTY_KEY,
    RATES_AT,
    Line,
    Row,
    Selection,
    SnapshotView,
    changed,
    marked,
)
from inspector.tui.widgets import Pane, set_titles

if TYPE_CHECKING:
    from inspector.live.rates import Rates
    from inspector.live.runner import LiveStatus, LiveUpdate
    from inspector.tui.compare_screen import Comparison

Clock = Callable[[], datetime]
PaneId = Literal["containers", "interfaces", "routes", "ports"]
HOST_PANES = ("interfaces", "routes", "ports")
COMPARE_TIP = "Compare with a saved snapshot and mark what changed (again: clear)"
MAIN_SCREEN_ONLY = frozenset({"export", "compare", "refresh_now", "help", "selection_action"})


class CnetApp(PlainToasts, QuitsOnSignals, MainPanes):
    """Browse one host's container networking; see ``make_app``."""

    CSS_PATH = "cnet.tcss"
    TITLE = "cnet"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("r", "refresh_now", "Refresh", id="refresh"),
        Binding("e", "export", "Export", id="export"),
        Binding("D", "compare", "Compare", id="compare", tooltip=COMPARE_TIP, show=False),
        *selection_action_bindings(),
    ]

    def __init__(
        self,
        snapshot: Snapshot | None,
        *,
        feed: Feed | None,
        source: Source,
        clock: Clock,
        backends: Backends,
        rates: RatesFeed | None = None,
    ) -> None:
        super().__init__()
        self._backends = backends
        self._feed = feed
        self._rates_feed = rates
        self.rates: Rates | None = None
        self._rate_cells: RateCells | None = None
        self.hosts: bool = getattr(feed, "hosts", False)
        """Several hosts (inspector/remote/hosts.py's MergedFeed): the Host column is shown."""
        self.source = source
        self._clock = clock
        self.view: SnapshotView | None = SnapshotView(snapshot) if snapshot else None
        self.live_status: LiveStatus | None = None
        self._latest: Snapshot | None = None  # the feed's newest, set from its thread
        self.compared: Comparison | None = None
        """The changes since the snapshot compared with ``D``; their containers are marked."""
        self._selected: str | None = None  # container under the Containers cursor
        self._scope: str | None = None  # container the host panes are narrowed to
        self._pane: PaneId = "containers"  # the pane last focused
        self._history: list[tuple[PaneId, str]] = []
        self._filter = ""
        self._marked: tuple[Row, ...] = ()  # the Containers rows shown, marked, without rates
        self._copied: tuple[tuple[str, str | None], int] = (("", None), -1)
        self.marks = Marks()
        """The doctor's marks and the doctor view (tui/marks.py)."""
        self.health = HealthWatch(self, backends.read_health)

    # -- building -------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen()

    def start(self) -> None:
        """Called once the main screen exists: show what we have and start collecting."""
        self._filter_input.display = False
        self._update_header()
        if self.view is not None:
            self._show_snapshot()
            self._schedule_marks()
        if self._rates_feed is not None:
            if self.view is not None:
                self._rates_feed.follow(self.view.snapshot)
            self._rates_feed.start(self._publish_rates)
        if self._feed is not None:
            self._feed.start(self._publish)
        self.pane("containers").focus()
        self.health.start()
        self.ready_to_quit()  # a signal quits from now on (tui/signals.py)

    @property
    def _filter_input(self) -> Input:
        return self.screen_main.query_one("#filter", Input)

    # -- data in --------------------------------------------------------------------------

    def _publish(self, update: LiveUpdate) -> None:
        """From the feed's thread: hand the update to the UI thread as a message."""
        self._latest = update.snapshot
        if self._rates_feed is not None:
            self._rates_feed.follow(update.snapshot)
        self.post_message(SnapshotArrived(update.snapshot, update.status))

    def _publish_rates(self, rates: Rates) -> None:  # from the rates feed's thread
        self.post_message(RatesArrived(rates))

    def on_unmount(self) -> None:
        if self._feed is not None:
            self._feed.stop()
        if self._rates_feed is not None:
            self._rates_feed.stop()

    def on_rates_arrived(self, message: RatesArrived) -> None:
        """Only the rate cells that changed are redrawn; rows, cursors and scroll stay."""
        if self.panes_gone:
            return
        self.rates = message.rates
        before, self._rate_cells = self._rate_cells, message.cells
        if self.view is None:
            return
        if self._rates_feed is not None:  # the next read's namespaces: what is in view
            self._rates_feed.watch(self.pane("containers").keys_on_screen(self._selected))
        if before == message.cells:
            self._show_detail()  # the cells say the same (idle: all quiet); the sparkline moves
            return
        if moved := moved_rates(before, message.cells):
            self._show_container_rates(self.pane("containers"), moved)
        moved = moved_rates(before, message.cells, 1)
        if patch_interface_rates(self.pane("interfaces"), self.view, self.rates, moved):
            self._show_detail()
        else:
            self._link()

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        if self.panes_gone:
            return
        if self._latest is not None and message.snapshot is not self._latest:
            return  # a newer one is already queued: draw only that
        self.live_status = message.status
        self.view = SnapshotView(message.snapshot)
        self._show_snapshot()
        self._schedule_marks()

    def on_health_read(self, message: HealthRead) -> None:
        if not self.panes_gone and self.health.arrived(message) and self._pane == "containers":
            self._show_detail()

    # -- the doctor -----------------------------------------------------------------------

    def _schedule_marks(self) -> None:
        """Run the doctor (no ping) for every container of the current snapshot, once per
        snapshot and one run at a time; a snapshot that arrives meanwhile is done next."""
        if self.view is None or not self.marks.due(self.view.snapshot):
            return
        if self.live_status is not None and self.live_status.reading:
            return  # the first read is still filling in: mark the complete picture
        self.marks.running = True
        self._doctor_marks(self.view.snapshot)

    @work(thread=True, group="doctor-marks", name="doctor marks", description="doctor marks")
    def _doctor_marks(self, snapshot: Snapshot) -> None:
        try:
            reports = tuple(self._backends.doctor(snapshot, (), False))
        except Abandoned:  # the app is closing
            return
        except Exception as exc:  # the marks are a hint: never take the UI down
            self.post_message(DoctorMarks(snapshot, (), f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(DoctorMarks(snapshot, reports, None))

    def on_doctor_marks(self, message: DoctorMarks) -> None:
        if self.panes_gone:
            return
        first = self.marks.reports_for is None
        self.marks.arrived(message)
        if first:
            settle_heap()
        if self.view is not None:
            self._show_containers()
            if self._pane == "containers":
                self._show_detail()
        self._schedule_marks()

    @property
    def marks_known(self) -> bool:
        """The doctor's marks are those of the snapshot shown (tests and screenshots wait)."""
        return self.view is not None and self.marks.reports_for is self.view.snapshot

    def mark(self, name: str) -> str | None:
        """The worst doctor status of a container, None while not known."""
        return self.marks.mark(name)

    def show_doctor(self, container: str) -> None:
        """``d``: the container's checks in the detail panel, with its gateway ping."""
        if self.view is None or container not in self.view.containers:
            return
        if self._pane != "containers" or self._selected != container:
            self.jump_to_container(container)
        run = self.marks.start(container)
        self._show_detail()
        self._doctor_one(run, self.view.snapshot, container)

    @work(thread=True, exclusive=True, group="doctor", name="doctor", description="doctor")
    def _doctor_one(self, run: int, snapshot: Snapshot, name: str) -> None:
        try:
            reports = self._backends.doctor(snapshot, (name,), True)
            report = next((r for r in reports if r.name == name), None)
        except Abandoned:  # another run took over, or the app is closing
            return
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
            self.post_message(DoctorReady(run, snapshot, name, None, problem))
            return
        self.post_message(DoctorReady(run, snapshot, name, report, None))

    def on_doctor_ready(self, message: DoctorReady) -> None:
        if self.panes_gone:
            return
        if self.marks.gateway_pinged(message):
            self._show_containers()
        if self.marks.finished(message):
            self._show_detail()

    def doctor_detail(self, name: str) -> list[Line]:
        return self.marks.lines(name, self._backends.live)

    # -- rendering ------------------------------------------------------------------------

    def _show_snapshot(self) -> None:
        """Re-render every pane from the current view, keeping cursors and scroll."""
        assert self.view is not None
        self._update_header()
        self._update_status()
        notice = self.screen_main.query_one("#notice", Static)
        warnings = self.view.snapshot.warnings
        notice.update("\n".join(f"! {safe(w)}" for w in warnings))
        notice.display = bool(warnings)
        self._show_containers()
        if self._pane == "containers":
            self._scope = self._selected
        self._link()

    def _show_containers(self) -> None:
        assert self.view is not None
        table = self.pane("containers")
        since = (
            self.compared.changed(set(self.view.containers))
            if self.compared is not None
            else frozenset()
        )
        self._marked = tuple(
            changed(marked(r, self.mark(r.key)), r.key in since)
            for r in self.view.container_rows_matching(self._filter)
        )
        rows = self._show_container_rates(table)
        total = len(self.view.container_rows)
        box = self.screen_main.query_one("#containers-pane")
        title = PANE_TITLES["containers"]
        subtitle = marks_summary(self.mark(name) for name in self.view.containers)
        if self.compared is not None:
            subtitle += f" · Δ {len(since)} changed since the compared snapshot"
        set_titles(
            box, f"{title} {len(rows)}/{total}" if self._filter else f"{title} {total}", subtitle
        )
        self._selected = table.current_key if rows else None

    def _show_container_rates(self, table: Pane, moved: set[str] | None = None) -> tuple[Row, ...]:
        assert self.view is not None
        at = RATES_AT + 1 if self.hosts else RATES_AT  # after the Host column, when shown
        return show_container_rates(table, self.view, self._marked, self.rates, at, moved)

    def _link(self) -> None:
        """Narrow the host panes to the scope and show the detail: only the dependent work."""
        if self.view is None:
            return
        c = self.view.containers.get(self._scope or "")
        scope_name = c.name if c is not None else "host"
        if c is None:
            rows = (self.view.interface_rows, self.view.host_route_rows, self.view.port_rows)
        else:
            rows = (
                self.view.interface_rows_for(c),
                self.view.route_rows_for(c),
                self.view.port_rows_for(c),
            )
        show_interface_rows(self.pane("interfaces"), self.view, rows[0], self.rates)
        for pane_id, pane_rows in zip(HOST_PANES[1:], rows[1:], strict=True):
            self.pane(pane_id).set_rows(pane_rows)
        for pane_id in HOST_PANES:
            set_titles(
                self.screen_main.query_one(f"#{pane_id}-pane"), PANE_TITLES[pane_id], scope_name
            )
        self._show_detail()

    def _show_detail(self) -> None:
        if self.view is None:
            return
        doctor = self._doctor_shown()
        key = self._selected if self._pane == "containers" else self.pane(self._pane).current_key
        self.detail.show(self.detail_lines(), subject=(self._pane, key, doctor))
        set_titles(self.detail, f"Doctor · {doctor}" if doctor else "Detail")

    def _doctor_shown(self) -> str | None:
        """The container whose checks the detail panel shows, if it shows them."""
        d = self.marks.view
        if d is not None and self._pane == "containers" and d.name == self._selected:
            return d.name
        return None

    def detail_lines(self) -> list[Line]:
        """What the detail panel shows for the pane last focused."""
        view = self.view
        if view is None:
            return [(("collecting…", "muted"),)]
        if self._pane == "containers":
            c = view.containers.get(self._selected or "")
            if c is None:
                return [(("no container matches" if self._filter else "no containers", "muted"),)]
            if self._doctor_shown() == c.name:
                return self.doctor_detail(c.name)
            lines = view.container_detail(c)
            health = self.health.lines(c.name)
            return [*lines[:3], *container_rates(self.rates, c), *health, *lines[3:]]
        key = self.pane(self._pane).current_key
        if key is None or key == EMPTY_KEY:
            return []
        if self._pane == "interfaces":
            iface = view.host_interfaces.get(key)
            if iface is None:
                return []
            lines = view.interface_detail(iface)
            return [*lines[:2], *interface_rates(self.rates, iface), *lines[2:]]
        if self._pane == "ports":
            return view.port_detail(key)
        scope = view.containers.get(self._scope or "")
        route = view.route_for(key, scope)
        where = "the host" if scope is None or view.shares_host_stack(scope) else scope.name
        return view.route_detail(route, where) if route else []

    def _update_header(self) -> None:
        snap = self.view.snapshot if self.view else None
        self.sub_title = header_subtitle(self.source.kind, self.source.path, snap)

    def freshness(self) -> Freshness:
        """What the status line is made from (``status_line.py`` words it)."""
        snap = self.view.snapshot if self.view else None
        return freshness_of(self.source.kind, snap, self.live_status)

    def status_text(self) -> str:
        """The status line: where the data is from and, when live, how fresh it is."""
        return status_line(self.freshness()).text

    def _update_status(self) -> None:
        status = self.screen_main.query_one("#status", Static)
        line = status_line(self.freshness())
        status.update(safe(line.text))
        status.set_class(line.alarm, "-stale")

    # -- selection and focus --------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        pane = event.data_table
        if self.panes_gone or not isinstance(pane, Pane) or event.row_key.value != pane.current_key:
            return  # a stale event from a rebuild, or from the teardown
        if pane.id == "containers":
            if pane.current_key == self._selected:
                return
            self._selected = pane.current_key
            if self.marks.view is not None and self.marks.view.name != self._selected:
                self.marks.view = None  # d is for the container it was pressed on
            if self._pane == "containers":
                self._scope = self._selected
                self._link()
        elif pane.id == self._pane:
            self._show_detail()

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        widget: Widget = event.widget
        if self.panes_gone or not isinstance(widget, Pane) or widget.id not in PANE_TITLES:
            return  # late, from the teardown: the panes are going
        pane_id: PaneId = widget.id  # type: ignore[assignment]
        if pane_id == self._pane:
            return
        self._pane = pane_id
        scope = self._selected if pane_id == "containers" else None
        if pane_id != "containers" and scope != self._scope:
            self._scope = scope
            self._link()
            self._cursor_to_selected(widget)
        elif scope != self._scope:
            self._scope = scope
            self._link()
        else:
            self._show_detail()

    def _cursor_to_selected(self, pane: Pane) -> None:
        """Entering a host pane from Containers: start on the selected container's row."""
        if self.view is None or self._selected is None:
            return
        c = self.view.containers.get(self._selected)
        if c is None:
            return
        names = self.view.host_side_names(c)
        keys = names if pane.id == "interfaces" else [f"port:{n}" for n in names]
        current = pane.current_key
        if current is not None and current in keys:
            return
        for key in keys:
            if pane.select_key(key):
                break

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        pane = event.data_table
        if not isinstance(pane, Pane) or self.view is None or self.panes_gone:
            return
        key = pane.current_key
        if pane.id == "containers":
            self.detail.focus()
            return
        owner: str | None = None
        if pane.id == "interfaces" and key is not None:
            iface = self.view.host_interfaces.get(key)
            owner = iface.container if iface else None
        elif pane.id == "ports" and key is not None and key.startswith("port:"):
            found = self.view.ports.get(key.removeprefix("port:"))
            owner = found[1].container if found else None
        if owner:
            self.jump_to_container(owner)
        else:
            self.detail.focus()

    def jump_to_container(self, name: str) -> None:
        """Follow a link: select ``name`` in Containers; Esc comes back."""
        if self.view is None or name not in self.view.containers:
            self.notify(f"container {name} is not in this snapshot", severity="warning")
            return
        origin = self.pane(self._pane).current_key
        if origin is not None:
            self._history.append((self._pane, origin))
        table = self.pane("containers")
        if table.current_key != name and not table.select_key(name):
            self._set_filter("")
            table.select_key(name)
        table.focus()

    def back(self) -> None:
        """Esc: clear the filter being typed, else return from a jump, else from the detail
        to its pane, else clear the filter, else go to Containers."""
        if self._filter_input.has_focus:
            self._set_filter("")
            self.pane("containers").focus()
            return
        if self._doctor_shown() is not None:
            self.marks.view = None
            self._show_detail()
            return
        if self._history:
            pane_id, key = self._history.pop()
            target = self.pane(pane_id)
            target.focus()
            self.call_after_refresh(target.select_key, key)
            return
        if self.focused is self.detail:  # back to the pane it details, filter kept
            self.pane(self._pane).focus()
        elif self._filter:
            self._set_filter("")
        else:
            self.pane("containers").focus()

    def cycle_sort(self) -> None:
        """``s``: the pane last focused sorts by its next column."""
        how = self.pane(self._pane).cycle_sort()
        self.notify(f"{PANE_TITLES[self._pane]} sorted {how}", timeout=3)

    def open_networks(self) -> None:
        """``n``: every network; Enter on a member selects it here."""
        if self.view is None:
            return

        def chosen(container: str | None) -> None:
            if container is not None:
                self.jump_to_container(container)

        self.push_screen(NetworksScreen(self.view.snapshot, self._backends.read_networks), chosen)

    def copy_selection(self) -> None:
        """``y``: copy the selected row's name (OSC 52: works over SSH); ``y`` again on the
        same row copies its next value (address, MAC, veth)."""
        if self.view is None:
            return
        key = self._selected if self._pane == "containers" else self.pane(self._pane).current_key
        scope = self.view.containers.get(self._scope or "")
        values = self.view.copy_values(self._pane, key, scope)
        if not values:
            self.notify("nothing to copy here", severity="warning")
            return
        row = (self._pane, key)
        step = self._copied[1] + 1 if self._copied[0] == row else 0
        self._copied = (row, step)
        label, value = values[step % len(values)]
        self.copy_to_clipboard(value)
        more = f" (y again: {values[(step + 1) % len(values)][0]})" if len(values) > 1 else ""
        self.notify(f"{label} {value}{more}", title="Copied", timeout=4)

    # -- filter ---------------------------------------------------------------------------

    def open_filter(self) -> None:
        field = self._filter_input
        field.display = True
        field.focus()

    def _set_filter(self, text: str) -> None:
        """Set the filter from code (Esc, a jump): the field follows."""
        field = self._filter_input
        if field.value != text:
            with field.prevent(Input.Changed):
                field.value = text
        if not text:
            field.display = False
        self._apply_filter(text)

    def _apply_filter(self, text: str) -> None:
        if text == self._filter:
            return
        self._filter = text
        if self.view is not None:
            before = self._selected
            self._show_containers()
            if self._selected != before:
                if self._pane == "containers":
                    self._scope = self._selected
                self._link()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # The field is the one source of truth while it is edited: never write into it here.
        # ``event.value`` may be stale (keys typed or pasted while a snapshot was rendered
        # arrive ahead of their Changed), so read the field itself.
        self._apply_filter(event.input.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        table = self.pane("containers")
        if table.row_count:
            table.move_cursor(row=0, animate=False)
        table.focus()
        if not self._filter:
            self._filter_input.display = False

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_SCREEN_ONLY and not isinstance(self.screen, MainScreen):
            return False  # not in the dialogs and the action screens (their own keys show)
        if action == "refresh_now" and self._feed is None:
            return None  # shown, greyed: a loaded snapshot does not change
        if action in ("export", "compare", "selection_action") and self.view is None:
            return None
        if action == "selection_action" and parameters:
            found = selection_action(str(parameters[0]))
            if found is not None and found.backend and not getattr(self._backends, found.backend):
                return None  # shown, greyed: ping and rules need the live host
        return True

    def action_refresh_now(self) -> None:
        if self._feed is None:
            self.notify("this is a saved snapshot: nothing to refresh")
            return
        self._feed.refresh()
        self.notify("reading the host and every namespace again")

    def action_help(self) -> None:
        self.push_screen(HelpScreen(list(self.key_help())))

    def key_help(self) -> Iterable[tuple[str, str]]:
        """Every key: the bindings of the main screen, the panes and the app, plus motion."""
        groups = (MainScreen.BINDINGS, Pane.BINDINGS, CnetApp.BINDINGS)
        return key_help(groups, self.get_key_display)

    def action_compare(self) -> None:
        """``D``: compare with a saved snapshot; pressed again, clear the marks."""
        if self.view is None:
            return
        if self.compared is not None:
            self.compared = None
            self._show_containers()
            self.notify("comparison cleared")
            return
        shown = self.view.snapshot
        label = "the live host" if self.source.kind == "live" else "the snapshot shown"

        def compared(result: Comparison | None) -> None:
            if result is not None:
                self.compared = result
                self._show_containers()

        ask_and_compare(self, shown, label, self._backends.live, compared)

    def action_export(self) -> None:
        if self.view is None:
            return
        # What the panes show now: the rates, and the pings behind the marks' gateway checks.
        shown, live = (self.view.snapshot, self.rates, self.marks.held_pings()), self._backends.live

        def done(request: ExportRequest | None) -> None:
            if request is not None:  # a thread worker (tui/export.py) says where it went
                job = partial(export_worker, self, *shown, request.fmt, request.path, live)
                self.run_worker(job, thread=True, group="export", description="export")

        self.push_screen(ExportScreen(shown[0]), done)

    # -- actions on the selection (actions.py) ---------------------------------------------

    @property
    def backends(self) -> Backends:
        return self._backends

    def current_snapshot(self) -> Snapshot | None:
        return self.view.snapshot if self.view is not None else None

    def open_screen(self, screen: Screen[Any]) -> None:
        self.push_screen(screen)

    def selection(self) -> Selection | None:
        """The item under the cursor of the pane last focused."""
        if self.view is None:
            return None
        if self._pane == "containers":
            return self.view.selection("containers", self._selected, None)
        scope = self.view.containers.get(self._scope or "")
        return self.view.selection(self._pane, self.pane(self._pane).current_key, scope)

    def action_selection_action(self, action_id: str) -> None:
        action = selection_action(action_id)
        if action is None or self.view is None:
            return
        if action.backend and not getattr(self._backends, action.backend):
            self.notify(f"{action.label} needs the live host: this is a saved snapshot")
            return
        selection = self.selection()
        if selection is None:
            self.notify("nothing selected", severity="warning")
            return
        if action.needs_container and selection.container is None:
            self.notify(
                f"{action.label}: select a container (this {selection.kind} has none)",
                severity="warning",
            )
            return
        action.run(self, selection)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (keys.py), then Textual's own entries but its Quit and Keys."""
        yield from palette(self)
        yield from (
            c for c in super().get_system_commands(screen) if c.title not in ("Quit", "Keys")
        )

    def selected_container(self) -> Container | None:
        return self.view.containers.get(self._selected or "") if self.view else None


def make_app(
    snapshot: Snapshot | None = None,
    *,
    feed: Feed | None = None,
    source: Source | None = None,
    clock: Clock = utc_now,
    ping: Pinger | None = None,
    read_rules: RulesReader | None = None,
    doctor: Doctor | None = None,
    rates: RatesFeed | None = None,
    read_networks: NetworksReader | None = None,
    capture: Capturer | None = None,
    read_connections: ConnectionsReader | None = None,
    local: bool = True,
    drops: DropsStarter | None = None,
    read_health: HealthReader | None = None,
) -> CnetApp:
    """The app, on a given snapshot (``--load``, ``--demo``, tests) or a live ``feed``
    (``live.runner.Live``: started when the main screen is up, stopped at exit); ``rates``
    (``live.sampler.LiveRates``) samples the counters once a second.

    ``ping``, ``capture``, ``read_rules``, ``doctor``, ``drops`` (the probe around a ping)
    and the readers are what the actions call from thread workers (``backends.py``); left
    out, a live app uses the real ones (a recorded ``ping`` gets no probe), a saved snapshot
    greys ping, capture and rules out, and so does a feed of other hosts (``local=False``).
    """
    if snapshot is None and feed is None:
        raise ValueError("make_app needs a snapshot or a feed")
    if source is None:
        source = Source("live") if feed is not None else Source("file", "snapshot")
    backends = assemble_backends(
        default_backends(live=feed is not None and local),
        ping=ping,
        read_rules=read_rules,
        doctor=doctor,
        read_networks=read_networks,
        read_connections=read_connections,
        capture=capture,
        drops=drops,
        recorded_ping=ping is not None,
        read_health=read_health,
    )
    return CnetApp(snapshot, feed=feed, source=source, clock=clock, backends=backends, rates=rates)
