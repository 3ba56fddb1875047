"""The keys, in the two places they are listed: the help screen (``?``) and the command
palette (``ctrl+p``), so that every binding and its palette entry are found together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

from inspector.tui.actions import ACTIONS


class Commands(Protocol):
    """What the palette's entries call on the App."""

    def action_refresh_now(self) -> None: ...
    def action_export(self) -> None: ...
    def action_compare(self) -> None: ...
    def open_filter(self) -> None: ...
    def action_focus_next(self) -> None: ...
    def action_focus_previous(self) -> None: ...
    def back(self) -> None: ...
    def cycle_sort(self) -> None: ...
    def open_networks(self) -> None: ...
    def copy_selection(self) -> None: ...
    def action_help(self) -> None: ...
    def action_selection_action(self, action_id: str) -> None: ...
    def exit(self, *args: Any, **kwargs: Any) -> None: ...


def key_help(
    groups: Iterable[Iterable[BindingType]], key_display: Callable[[Binding], str]
) -> Iterable[tuple[str, str]]:
    """Every key of ``groups`` (the first binding of a key wins), plus motion."""
    seen: set[str] = set()
    for group in groups:
        for b in group:
            if not isinstance(b, Binding) or b.key in seen:
                continue
            seen.add(b.key)
            yield (b.key_display or key_display(b), b.tooltip or b.description)
    yield ("↑ ↓ j k", "move within a pane, scroll the detail")
    yield ("pgup pgdn", "page up / down")
    yield ("ctrl+p", "command palette (the same actions)")


def palette(app: Commands) -> Iterable[SystemCommand]:
    """The command palette: the same actions as the keys."""
    yield SystemCommand(
        "Refresh", "Read the host and every namespace again (r)", app.action_refresh_now
    )
    yield SystemCommand(
        "Export", "Write the snapshot as JSON, Markdown or HTML (e)", app.action_export
    )
    yield SystemCommand(
        "Compare", "With a saved snapshot: list and mark what changed (D)", app.action_compare
    )
    yield SystemCommand("Filter containers", "By name, image, IP or interface (/)", app.open_filter)
    yield SystemCommand("Next pane", "Move to the next pane (tab)", app.action_focus_next)
    yield SystemCommand(
        "Previous pane", "Move to the previous pane (shift+tab)", app.action_focus_previous
    )
    yield SystemCommand("Back", "Clear the filter or return from a jump (esc)", app.back)
    yield SystemCommand("Sort", "Sort the pane by its next column (s)", app.cycle_sort)
    yield SystemCommand("Networks", "Every Docker network and its members (n)", app.open_networks)
    yield SystemCommand(
        "Copy", "Copy the selected name, address, MAC or veth (y)", app.copy_selection
    )
    yield SystemCommand("Help", "List every key (?)", app.action_help)
    for a in ACTIONS:
        yield SystemCommand(
            a.label,
            f"{a.description} ({a.key})",
            lambda a=a: app.action_selection_action(a.id),
        )
    yield SystemCommand("Quit", "Leave cnet (q)", app.exit)
