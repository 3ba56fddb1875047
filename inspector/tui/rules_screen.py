"""The rules view: the host's firewall rules that concern the selection, with counters.

Threading: a thread worker reads the rulesets (``iptables-save -c``...) and matches them
(``rules_for``, and ``counter_delta`` after a ping), then posts the immutable report as a
message; the UI thread only renders lines.  Nothing on the host is changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen

from inspector.model.snapshot import Snapshot
from inspector.rules import UnknownItem, counter_delta, rules_for
from inspector.tui.action_view import rules_lines, rules_problem_lines
from inspector.tui.backends import Backends
from inspector.tui.detached import Abandoned
from inspector.tui.view import Line
from inspector.tui.widgets import FittedFooter, LinesView, plain

if TYPE_CHECKING:
    from inspector.rules import CounterChange, Rulesets, RulesReport


class RulesReady(Message):
    def __init__(self, report: RulesReport, changes: tuple[CounterChange, ...] | None) -> None:
        super().__init__()
        self.report = report
        self.changes = changes


class RulesFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class RulesScreen(ModalScreen[None]):
    """The rules of ``item``; with ``counters`` (before, after a ping), which moved."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="rules_close"),
        Binding("r", "reload", "Read again", id="rules_reload"),
        Binding("q", "close", "Close", show=False),  # like the help screen: q closes
    ]

    def __init__(
        self,
        snapshot: Snapshot,
        item: str,
        backends: Backends,
        *,
        note: str = "",
        counters: tuple[Rulesets, Rulesets] | None = None,
        ping: str = "",
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.item = item
        self.backends = backends
        self.note = note
        self.counters = counters
        self.ping = ping
        self.report: RulesReport | None = None
        self.changes: tuple[CounterChange, ...] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="rules-box") as box:
            box.border_title = plain(f"Rules · {self.item}")
            if self.ping:
                box.border_subtitle = plain(f"after {self.ping}")
            yield LinesView(id="rules-view")
        yield FittedFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.view_.show([((f"reading the rules for {self.item}…", "muted"),)])
        self.view_.focus()
        self._load()

    @property
    def view_(self) -> LinesView:
        return self.query_one("#rules-view", LinesView)

    def _load(self) -> None:
        self._read(self.counters)

    @work(thread=True, exclusive=True, group="rules", description="rules")
    def _read(self, counters: tuple[Rulesets, Rulesets] | None) -> None:
        try:
            if counters is not None:
                before, after = counters
                report = rules_for(self.snapshot, after, self.item)
                changes: tuple[CounterChange, ...] | None = counter_delta(before, after, report)
            else:
                read = self.backends.read_rules
                if read is None:
                    raise UnknownItem(
                        "firewall rules need the live host (this is a saved snapshot)"
                    )
                report = rules_for(self.snapshot, read(), self.item)
                changes = None
        except Abandoned:  # read again, or the view closed
            return
        except Exception as exc:  # RulesUnavailable, UnknownItem: one line; the rest too
            known = type(exc).__name__ in ("RulesUnavailable", "UnknownItem")
            self.post_message(RulesFailed(str(exc) if known else f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(RulesReady(report, changes))

    @on(RulesReady)
    def _ready(self, message: RulesReady) -> None:
        self.report = message.report
        self.changes = message.changes
        self.view_.show(self.lines())

    @on(RulesFailed)
    def _failed(self, message: RulesFailed) -> None:
        self.view_.show(rules_problem_lines(self.item, message.message))

    def lines(self) -> list[Line]:
        if self.report is None:
            return []
        return rules_lines(self.report, self.changes, note=self.note, ping=self.ping)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reload":
            return self.counters is None and self.backends.read_rules is not None
        return True

    def action_reload(self) -> None:
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)
