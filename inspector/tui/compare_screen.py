"""``D``: compare what is shown with a saved snapshot, as ``cnet diff`` does.

A modal asks for the file; a thread worker reads it (bounded, validated, as ``--load``
does) and diffs it against the snapshot shown, then posts the immutable ``Diff``.  The
view lists the changes in ``cnet diff``'s words; the app marks the changed containers
in the panes until ``D`` is pressed again, and those that appear later (not in the saved
snapshot) too.  On the live host the rules are read for the comparison, as ``cnet diff``
and the export record them; nothing on the host is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from inspector.model.snapshot import Snapshot
from inspector.render.diff import Diff, diff
from inspector.render.difftext import format_diff
from inspector.render.snapshot_json import SnapshotFormatError, load_snapshot
from inspector.rules.recorded import record
from inspector.tui.view import Style
from inspector.tui.widgets import FittedFooter, LinesView, plain


class CompareAsk(ModalScreen[str | None]):
    """The path of the saved snapshot to compare with."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="compare_cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-box") as box:
            box.border_title = "Compare with a saved snapshot"
            yield Label("Path of a JSON snapshot (cnet snapshot -o FILE)")
            yield Input(placeholder="saved.json", id="compare-path")

    def on_mount(self) -> None:
        self.query_one("#compare-path", Input).focus()

    @on(Input.Submitted, "#compare-path")
    def _chosen(self) -> None:
        path = self.query_one("#compare-path", Input).value.strip()
        if not path:
            self.notify("give the path of a saved snapshot", severity="warning")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Comparison:
    """What ``D`` found: the diff, and the containers the saved snapshot holds (one that
    is in neither is new since it, whenever it appears)."""

    diff: Diff
    saved: frozenset[str]

    def changed(self, names: frozenset[str] | set[str]) -> frozenset[str]:
        """Of ``names`` (shown now), those changed since the saved snapshot."""
        return self.diff.containers | frozenset(n for n in names if n not in self.saved)


class Compared(Message):
    """The diff of the saved snapshot at ``path`` against the one shown, or why not."""

    def __init__(self, path: str, result: Comparison | None, text: str, error: str = "") -> None:
        super().__init__()
        self.path = path
        self.result = result
        self.text = text
        self.error = error


class CompareScreen(ModalScreen[Comparison | None]):
    """The changes from the saved snapshot at ``path`` to ``shown``; dismissed with the
    diff so the app can mark what changed (None when it could not be read)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="compare_close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, path: str, shown: Snapshot, shown_label: str, *, live: bool = False) -> None:
        super().__init__()
        self.path = path
        self.shown = shown
        self.shown_label = shown_label
        self.live = live
        """The live host: its rules are read to compare with the saved ones."""
        self.result: Comparison | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="compare-view-box") as box:
            box.border_title = plain(f"Changes since {self.path}")
            yield LinesView(id="compare-view")
        yield FittedFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(LinesView).show([((f"reading {self.path}…", "muted"),)])
        self.query_one(LinesView).focus()
        self._compare()

    @work(thread=True, exclusive=True, group="compare", description="compare")
    def _compare(self) -> None:
        try:
            saved = load_snapshot(self.path)
        except SnapshotFormatError as exc:
            self.post_message(Compared(self.path, None, "", str(exc)))
            return
        shown = self.shown
        if self.live and not shown.rulesets:
            shown = record(shown)
        result = diff(saved, shown)
        text = format_diff(result, (self.path, saved), (self.shown_label, shown))
        known = frozenset(c.name for c in saved.containers)
        self.post_message(Compared(self.path, Comparison(result, known), text))

    @on(Compared)
    def _shown(self, message: Compared) -> None:
        view = self.query_one(LinesView)
        if message.result is None:
            view.show([((message.error, "bad"),)])
            return
        self.result = message.result
        styles: dict[str, Style] = {"+": "good", "-": "bad", "~": "warning"}
        view.show(
            [
                ((line, styles.get(line.strip()[:1], "") if line.startswith("  ") else "heading"),)
                for line in message.text.splitlines()
            ]
        )

    def action_close(self) -> None:
        self.dismiss(self.result)


def ask_and_compare(
    app: App[Any],
    shown: Snapshot,
    label: str,
    live: bool,
    compared: Callable[[Comparison | None], None],
) -> None:
    """``D``: ask for a saved snapshot's path, then compare it with ``shown`` on its screen;
    ``compared`` gets the result (None when the user backed out)."""

    def asked(path: str | None) -> None:
        if path:
            app.push_screen(CompareScreen(path, shown, label, live=live), compared)

    app.push_screen(CompareAsk(), asked)
