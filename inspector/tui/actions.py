"""Actions on the selection, each a key: the place to add one.

The app turns every entry of ``ACTIONS`` into a footer binding, a help line and a
command palette entry.  When the key is pressed it works out the ``Selection`` (the item
under the cursor in the pane last focused, and the container it belongs to) and calls
``run(host, selection)``; an action that ``needs_container`` is refused with a one-line
notice when the selection belongs to no container.  ``backend`` names the ``Backends``
field the action calls: when that is None (a saved snapshot) the key is shown greyed.

``run`` functions import their screen module lazily, so start-up stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from textual.binding import Binding

from inspector.model.snapshot import Snapshot
from inspector.tui.backends import Backends
from inspector.tui.ping_screen import PingScreen
from inspector.tui.rules_screen import RulesScreen
from inspector.tui.view import Selection

if TYPE_CHECKING:
    from textual.screen import Screen


class ActionHost(Protocol):
    """What an action may ask of the app."""

    @property
    def backends(self) -> Backends: ...

    def current_snapshot(self) -> Snapshot | None: ...

    def open_screen(self, screen: Screen[Any]) -> None: ...

    def show_doctor(self, container: str) -> None: ...


@dataclass(frozen=True)
class SelectionAction:
    id: str
    key: str
    label: str
    description: str
    run: Callable[[ActionHost, Selection], None]
    needs_container: bool = True
    backend: Literal["ping", "read_rules", "doctor"] | None = None


def _ping(host: ActionHost, selection: Selection) -> None:
    snapshot = host.current_snapshot()
    if snapshot is not None and selection.container is not None:
        host.open_screen(PingScreen(snapshot, selection.container, host.backends))


def _rules(host: ActionHost, selection: Selection) -> None:
    snapshot = host.current_snapshot()
    if snapshot is not None:
        host.open_screen(RulesScreen(snapshot, selection.item, host.backends, note=selection.note))


def _doctor(host: ActionHost, selection: Selection) -> None:
    if selection.container is not None:
        host.show_doctor(selection.container)


ACTIONS: tuple[SelectionAction, ...] = (
    SelectionAction(
        "ping",
        "p",
        "Ping",
        "Ping from the container (its gateway)",
        _ping,
        backend="ping",
    ),
    SelectionAction(
        "rules",
        "i",
        "Rules",
        "Firewall rules of the selection",
        _rules,
        needs_container=False,
        backend="read_rules",
    ),
    SelectionAction(
        "doctor",
        "d",
        "Doctor",
        "Doctor checks of the container",
        _doctor,
        backend="doctor",
    ),
)


def selection_action(action_id: str) -> SelectionAction | None:
    return next((a for a in ACTIONS if a.id == action_id), None)


def selection_action_bindings() -> list[Binding]:
    return [
        Binding(a.key, f"selection_action('{a.id}')", a.label, id=a.id, tooltip=a.description)
        for a in ACTIONS
    ]
