"""What the live runner makes of an event, as data: which ones make it look for namespaces."""

from __future__ import annotations

from inspector.collect.engine import EngineEvent
from inspector.live import _Container, _Discover, engine_items


def test_a_container_that_starts_or_dies_makes_the_runner_look_for_namespaces() -> None:
    for action in ("start", "die"):
        items = engine_items(EngineEvent("container", action, "c1", 0))
        assert any(isinstance(i, _Discover) for i in items), action
        assert any(isinstance(i, _Container) and i.container_id == "c1" for i in items)


def test_other_engine_events_do_not_scan_proc() -> None:
    for kind, action in (("container", "rename"), ("container", "pause"), ("network", "connect")):
        items = engine_items(EngineEvent(kind, action, "c1", 0))
        assert not any(isinstance(i, _Discover) for i in items), action
