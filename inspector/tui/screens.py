"""Modal screens: the key help and the export dialog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from inspector.model.snapshot import Snapshot
from inspector.render import format_of
from inspector.tui.widgets import LinesView

EXPORT_FORMATS: tuple[tuple[str, str, str], ...] = (
    ("json", "JSON", "json"),
    ("markdown", "Markdown", "md"),
    ("html", "HTML", "html"),
)


KEY_WIDTH = 12
"""The key column of the help: wider keys push their words along."""


class HelpScreen(ModalScreen[None]):
    """Every key, generated from the live bindings so it cannot drift from the footer.

    Lines that wrap inside the box (never cut at 80 columns) and scroll vertically only:
    a table's columns ran past the box and End scrolled it sideways."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="help_close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box") as box:
            box.border_title = "Keys"
            yield LinesView(id="help-keys")
            yield Label("esc closes", id="help-hint")

    def on_mount(self) -> None:
        view = self.query_one("#help-keys", LinesView)
        view.show([((f"{key:<{KEY_WIDTH}} ", "key"), (words, "")) for key, words in self._keys])
        view.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    path: str


def default_export_name(snapshot: Snapshot, ext: str) -> str:
    """``cnet-<hostname>-<UTC timestamp>.<ext>``; the timestamp is the snapshot's own."""
    try:
        taken = datetime.fromisoformat(snapshot.taken_at.replace("Z", "+00:00"))
        stamp = taken.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    except ValueError:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    host = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in snapshot.hostname) or "host"
    return f"cnet-{host}-{stamp}.{ext}"


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Choose a format and a path; the app writes the file (off the UI thread)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export_cancel"),
    ]

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self._snapshot = snapshot
        self._fmt = "json"
        self._picked = False  # the user chose a format: it wins over the file's extension

    def _default(self, fmt: str) -> str:
        ext = next(e for f, _, e in EXPORT_FORMATS if f == fmt)
        return default_export_name(self._snapshot, ext)

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box") as box:
            box.border_title = "Export snapshot"
            with RadioSet(id="export-format"):
                for fmt, label, _ in EXPORT_FORMATS:
                    yield RadioButton(label, value=fmt == self._fmt, name=fmt)
            yield Label("Path (relative to the current directory)")
            yield Input(self._default(self._fmt), id="export-path")
            with Horizontal(id="export-buttons"):
                yield Button("Write", variant="primary", id="export-write")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(RadioSet.Changed)
    def _format_changed(self, event: RadioSet.Changed) -> None:
        new = event.pressed.name or "json"
        path = self.query_one("#export-path", Input)
        if path.value == self._default(self._fmt):  # not edited: follow the format
            path.value = self._default(new)
        if new != self._fmt:
            self._picked = True
        self._fmt = new

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-write")
    def _write(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.notify("give a path to write to", severity="warning")
            return
        fmt = self._fmt if self._picked else (format_of(path) or self._fmt)
        self.dismiss(ExportRequest(fmt, path))

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
