"""Several hosts in one TUI: the pure merge (names say their host, references follow),
the merging feed with a stale host, and the Host column and filter in the app."""

from __future__ import annotations

from collections.abc import Callable

from inspector.live.runner import LiveStatus, LiveUpdate, stale_update
from inspector.model.snapshot import Snapshot
from inspector.remote.hosts import HostedContainer, MergedFeed, merge
from inspector.tui.app import make_app
from inspector.tui.view import HOSTED_CONTAINER_COLUMNS
from tests.test_tui import sync, wait_for

STATUS = LiveStatus(False, True, True, 5.0, 30.0)


def test_merge_prefixes_every_name_and_reference(recorded: Snapshot) -> None:
    up = LiveUpdate(recorded, STATUS)
    merged = merge([("web1", up), ("web2", up)], {}).snapshot
    assert len(merged.containers) == 2 * len(recorded.containers)
    names = [c.name for c in merged.containers]
    assert len(set(names)) == len(names)
    assert all(isinstance(c, HostedContainer) for c in merged.containers)
    for c in merged.containers:
        assert isinstance(c, HostedContainer)
        assert c.name.startswith(c.host + "/")
        for i in c.interfaces:
            if i.peer is not None:
                host_end = merged.host_interface(i.peer.name)
                assert host_end is not None, i.peer.name  # the reference follows the rename
                assert host_end.container in (c.name, c.netns_shared_with)
                if i.peer.bridge:
                    assert merged.bridge(i.peer.bridge) is not None
    shared = [c for c in merged.containers if c.netns_shared_with not in (None, "host")]
    assert shared and all(merged.container(c.netns_shared_with or "") for c in shared)
    for b in merged.bridges:
        assert all(p.container is None or merged.container(p.container) for p in b.ports)
    for r in merged.host.routes:
        assert r.dev is None or merged.host_interface(r.dev) is not None
    assert merged.hostname == "web1, web2"


def test_merge_names_stale_hosts_and_stops_claiming_to_follow(recorded: Snapshot) -> None:
    up = LiveUpdate(recorded, STATUS)
    stale = stale_update(up, "web2: the connection ended")
    merged = merge([("web1", up), ("web2", stale)], {"web2": "the connection ended"})
    assert (
        merged.snapshot.warnings[-1] == "stale (not followed any more): web2 (the connection ended)"
    )
    assert not any(w.startswith("web2: stale") for w in merged.snapshot.warnings)
    assert not merged.status.kernel_events
    assert merge([("web1", up)], {}).status == STATUS


class HostScript:
    """One host's feed, pushed by the test."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lost: str | None = None
        self.publish: Callable[[LiveUpdate], None] | None = None
        self.refreshes = 0

    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        self.publish = publish

    def refresh(self) -> None:
        self.refreshes += 1

    def stop(self) -> None:
        pass


@sync
async def test_two_hosts_in_one_tui_with_a_host_column_and_filter(recorded: Snapshot) -> None:
    web1, web2 = HostScript("web1"), HostScript("web2")
    feed = MergedFeed([web1, web2])
    app = make_app(feed=feed, local=False)
    async with app.run_test(size=(160, 40)) as pilot:
        assert web1.publish is not None and web2.publish is not None
        web1.publish(LiveUpdate(recorded, STATUS))
        web2.publish(LiveUpdate(recorded, STATUS))
        n = len(recorded.containers)
        await wait_for(pilot, lambda: len(app.pane("containers").rows_shown) == 2 * n)
        pane = app.pane("containers")
        assert [c.label for c in pane._columns] == [c.label for c in HOSTED_CONTAINER_COLUMNS]
        assert {r.cells[2] for r in pane.rows_shown} == {"web1", "web2"}
        await pilot.press("slash", *"web2/")
        await wait_for(pilot, lambda: len(pane.rows_shown) == n)
        assert {r.cells[2] for r in pane.rows_shown} == {"web2"}
        await pilot.press("escape")
        web2.lost = "the connection ended"
        web2.publish(stale_update(LiveUpdate(recorded, STATUS), "web2: the connection ended"))
        await wait_for(pilot, lambda: app.view is not None and bool(app.view.snapshot.warnings))
        assert app.view is not None
        assert "web2 (the connection ended)" in app.view.snapshot.warnings[-1]
        await pilot.press("r")
        assert web1.refreshes == web2.refreshes == 1
