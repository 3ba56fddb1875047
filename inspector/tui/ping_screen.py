"""The ping panel: ICMP echo from a container's namespace, replies streaming in live.

Threading: one thread worker per run reads the firewall counters, iterates the pinger
(which waits on the network) and reads the counters again, posting each event as an
immutable message; the UI thread only appends lines.  Every run has its own stop Event:
Esc sets it and the pinger notices within a tenth of a second; closing the panel or
quitting sets it too.  Messages carry the run number, so a late line of an earlier run
never lands in the next one.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from inspector.actions.ping import PingError, PingProblem, PingReply, PingSummary, PingTimeout
from inspector.doctor.drops import DropContext, dropping_rules, probe_drops, probe_lines
from inspector.model.queries import container_gateway, namespace_owner
from inspector.model.snapshot import Snapshot
from inspector.tui.action_view import ping_event_lines, ping_header, ping_status
from inspector.tui.backends import PING_TIMEOUT_S, Backends
from inspector.tui.detached import Abandoned
from inspector.tui.rules_screen import RulesScreen
from inspector.tui.view import Line
from inspector.tui.widgets import FittedFooter, LinesView, plain

if TYPE_CHECKING:
    from inspector.actions.ping import PingEvent, PingPlan
    from inspector.collect.linkdrops import CounterRise
    from inspector.collect.tracefs import DropReport
    from inspector.rules import Rulesets


@dataclass(frozen=True)
class CounterReads:
    """The firewall rules read just before the first packet and just after the last."""

    before: Rulesets | None
    after: Rulesets | None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.before is not None and self.after is not None


class PingStarted(Message):
    def __init__(self, run: int, plan: PingPlan) -> None:
        super().__init__()
        self.run = run
        self.plan = plan


class PingEventArrived(Message):
    def __init__(self, run: int, event: PingEvent) -> None:
        super().__init__()
        self.run = run
        self.event = event


class PingEnded(Message):
    def __init__(
        self, run: int, error: str | None, counters: CounterReads, drops: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.run = run
        self.error = error
        self.counters = counters
        self.drops = drops  # the kernel's drop reasons during the run, in words


def default_target(snapshot: Snapshot, container: str) -> str:
    """The container's gateway address, shown in the target field ("" when it has none)."""
    c = snapshot.container(container)
    found = container_gateway(snapshot, c) if c is not None else None
    return found[0] if found is not None else ""


class PingScreen(ModalScreen[None]):
    """Ping from ``container`` at once (the gateway unless another target is typed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_editing", "Cancel", id="ping_target_cancel"),
        Binding("escape", "stop", "Stop", id="ping_stop"),
        Binding("escape", "close", "Close", id="ping_close"),
        Binding("enter", "again", "Ping again", id="ping_again", key_display="⏎"),
        Binding("t", "edit_target", "Target", id="ping_target"),
        Binding("i", "rules_moved", "Rules moved", id="ping_rules"),
        Binding("q", "quit_panel", "Close", show=False),  # like the help screen: q closes
    ]

    def __init__(self, snapshot: Snapshot, container: str, backends: Backends) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.container = container
        self.backends = backends
        self.running = False
        self.stopped_by_user = False
        self.run_number = 0
        self.plan: PingPlan | None = None
        self.counters: CounterReads | None = None
        self._stop = threading.Event()
        self._sent = 0
        self._received = 0
        self._rtts: list[float] = []
        self._gateway = default_target(snapshot, container)
        self._target_before_edit = self._gateway

    def compose(self) -> ComposeResult:
        with Vertical(id="ping-box") as box:
            box.border_title = plain(f"Ping from {self.container}")
            with Horizontal(id="ping-target-row"):
                yield Label("Target ", id="ping-target-label")
                yield Input(
                    self._gateway,
                    placeholder="address, container name or host (empty: the gateway)",
                    id="ping-target",
                    compact=True,
                )
            yield LinesView(id="ping-log", follow=True)
            yield Static("", id="ping-status", markup=False)
        yield FittedFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.log_view.focus()
        self.start()

    def on_unmount(self) -> None:
        self._stop.set()

    @property
    def log_view(self) -> LinesView:
        return self.query_one("#ping-log", LinesView)

    @property
    def target_field(self) -> Input:
        return self.query_one("#ping-target", Input)

    # -- running ------------------------------------------------------------------------

    def start(self) -> None:
        """(Re)start with the target in the field: the previous run is told to stop."""
        self._stop.set()
        self._stop = threading.Event()
        self.run_number += 1
        self.running = True
        self.stopped_by_user = False
        self.plan = None
        self.counters = None
        self._sent = self._received = 0
        self._rtts = []
        typed = self.target_field.value.strip()
        # The gateway as filled in: let the pinger resolve it, so the header names it.
        target = None if typed in ("", self._gateway) else typed
        self.log_view.show([])
        self._update_status()
        self.refresh_bindings()
        self._ping(self.run_number, target, self._stop)

    @work(thread=True, exclusive=True, group="ping", description="ping")
    def _ping(self, run: int, target: str | None, stop: threading.Event) -> None:
        # Abandoned: a counter read outlived its run (another run began, or the panel closed).
        with contextlib.suppress(Abandoned):
            self._ping_between_counter_reads(run, target, stop)

    def _ping_between_counter_reads(
        self, run: int, target: str | None, stop: threading.Event
    ) -> None:
        from inspector.collect.linkdrops import read_link_drops, risen  # why: TUI start-up

        pinger = self.backends.ping
        before = self._read_counters()
        start = self.backends.drops
        probe, problem = start() if start is not None else (None, None)
        links_before = read_link_drops() if start is not None else {}
        thread = probe.watch() if probe is not None else 0
        error: str | None = None
        try:
            if pinger is None:
                raise PingError("ping needs the live host (this is a saved snapshot)")
            session = pinger(self.snapshot, self.container, target, stop)
            self.post_message(PingStarted(run, session.plan))
            for event in session.events:
                self.post_message(PingEventArrived(run, event))
        except PingError as exc:
            error = str(exc)
        except Exception as exc:  # a surprise must end up in the panel, not kill the app
            error = f"{type(exc).__name__}: {exc}"
        finally:
            report = probe.finish() if probe is not None else None
        try:
            links = risen(links_before, read_link_drops()) if start is not None else []
            after = self._read_counters() if before.before is not None else before
            counters = CounterReads(before.before, after.before, before.problem or after.problem)
            drops: tuple[str, ...] = ()
            if start is not None:
                drops = self._drop_lines(report, thread, problem, counters, links)
        finally:
            if probe is not None:
                probe.close()
        self.post_message(PingEnded(run, error, counters, drops))

    def _drop_lines(
        self,
        report: DropReport | None,
        thread: int,
        problem: str | None,
        counters: CounterReads,
        links: list[CounterRise],
    ) -> tuple[str, ...]:
        bridge: str | None = None
        c = self.snapshot.container(self.container)
        if c is not None:
            owner = namespace_owner(self.snapshot, c)
            bridge = next(
                (i.peer.bridge for i in owner.interfaces if i.peer and i.peer.bridge), None
            )
        from inspector.collect.tracefs import read_rp_filter  # why: TUI start-up

        rp = read_rp_filter({bridge}).get(bridge) if bridge else None
        rules = None
        if counters.before is not None and counters.after is not None:
            rules = dropping_rules(counters.before, counters.after)
        drops = probe_drops(report, thread) if report is not None else None
        words = DropContext(bridge, rp)
        lost = report.lost if report is not None else 0
        lines = probe_lines(drops, words, problem=problem, rules=rules, counters=links, lost=lost)
        return tuple(lines)

    def _read_counters(self) -> CounterReads:
        read = self.backends.read_rules
        if read is None:
            return CounterReads(None, None, "no firewall rules on a saved snapshot")
        try:
            return CounterReads(read(), None)
        except Abandoned:
            raise  # for _ping, which ends quietly
        except Exception as exc:  # RulesUnavailable and parser surprises alike
            return CounterReads(None, None, str(exc))

    @on(PingStarted)
    def _started(self, message: PingStarted) -> None:
        if message.run != self.run_number:
            return
        self.plan = message.plan
        self.log_view.append([ping_header(message.plan)])

    @on(PingEventArrived)
    def _event(self, message: PingEventArrived) -> None:
        if message.run != self.run_number:
            return
        event = message.event
        if isinstance(event, PingReply | PingTimeout | PingProblem):
            self._sent = max(self._sent, event.seq)
        if isinstance(event, PingReply):
            self._received += 1
            self._rtts.append(event.rtt_ms)
        elif isinstance(event, PingSummary):
            self._sent, self._received = event.transmitted, event.received
            self._rtts = list(event.rtts_ms)
        self.log_view.append(ping_event_lines(event, PING_TIMEOUT_S))
        self._update_status()

    @on(PingEnded)
    def _ended(self, message: PingEnded) -> None:
        if message.run != self.run_number:
            return
        self.running = False
        self.counters = message.counters
        lines: list[Line] = []
        if message.error:
            lines.append(((f"ping: {message.error}", "bad"),))
        if message.counters.usable and self.plan is not None:
            lines.append((("i shows the firewall rules whose counters moved", "muted"),))
        elif message.counters.problem and self.plan is not None:
            lines.append(((f"counters not read: {message.counters.problem}", "muted"),))
        lines.extend(((text, "muted"),) for text in message.drops)
        self.log_view.append(lines)
        self._update_status()
        self.refresh_bindings()

    def _update_status(self) -> None:
        status = self.query_one("#ping-status", Static)
        status.update(
            ping_status(self.running, self._sent, self._received, self._rtts, self.stopped_by_user)
        )
        status.set_class(not self.running and self._sent > 0 and self._received == 0, "-failed")

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        editing = self.target_field.has_focus
        if action == "stop_editing":
            return editing  # Esc in the field only leaves it: the ping and the panel stay
        if action == "stop":
            return self.running and not editing
        if action == "close":
            return not self.running and not editing
        if action == "again":
            return not self.running and not self.target_field.has_focus
        if action == "rules_moved":
            if self.running or self.counters is None:
                return False
            return self.counters.usable and self.plan is not None
        return True

    def action_stop(self) -> None:
        self.stopped_by_user = True
        self._stop.set()
        self._update_status()

    def action_close(self) -> None:
        self._stop.set()
        self.dismiss(None)

    def action_quit_panel(self) -> None:
        self.action_close()  # stops a running ping first

    def action_again(self) -> None:
        self.start()

    def action_edit_target(self) -> None:
        self._target_before_edit = self.target_field.value
        self.target_field.focus()
        self.refresh_bindings()

    def action_stop_editing(self) -> None:
        """Esc in the target field: put back what it said, and leave it."""
        self.target_field.value = self._target_before_edit
        self.log_view.focus()
        self.refresh_bindings()

    @on(Input.Submitted, "#ping-target")
    def _target_submitted(self) -> None:
        self.log_view.focus()
        self.start()

    def action_rules_moved(self) -> None:
        counters = self.counters
        if counters is None or counters.before is None or counters.after is None:
            return
        target = self.plan.target if self.plan is not None else "the target"
        self.app.push_screen(
            RulesScreen(
                self.snapshot,
                self.container,
                self.backends,
                counters=(counters.before, counters.after),
                ping=f"ping {self.container} -> {target}",
            )
        )
