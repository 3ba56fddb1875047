"""Actions on the selected container, each a key and a screen: the place to add one.

The app turns every entry of ``CONTAINER_ACTIONS`` into a footer binding, a help line and
a command palette entry, and opens ``screen(snapshot, container)`` for the container
under the cursor.  Adding e.g. a ping panel is one entry here plus its screen module::

    ContainerAction("ping", "p", "Ping", "Ping from the selected container", open_ping_screen)

``open_*`` functions should import their screen module lazily, so start-up stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.screen import Screen

from inspector.model import Container, Snapshot


@dataclass(frozen=True)
class ContainerAction:
    id: str
    key: str
    label: str
    description: str
    screen: Callable[[Snapshot, Container], Screen[Any]]


CONTAINER_ACTIONS: tuple[ContainerAction, ...] = ()


def container_action(action_id: str) -> ContainerAction | None:
    return next((a for a in CONTAINER_ACTIONS if a.id == action_id), None)


def container_action_bindings() -> list[Binding]:
    return [
        Binding(a.key, f"container_action('{a.id}')", a.label, id=a.id, tooltip=a.description)
        for a in CONTAINER_ACTIONS
    ]
