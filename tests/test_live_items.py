"""What the live runner makes of an event, as data: which ones make it look for namespaces."""

from __future__ import annotations

from inspector.collect.engine import EngineEvent
from inspector.inventory import events as ev
from inspector.live.runner import Live, _Container, _Discover, engine_items
from inspector.model.records import AddressRecord, LinkRecord
from inspector.model.snapshot import Interface


def test_a_container_that_starts_or_dies_makes_the_runner_look_for_namespaces() -> None:
    for action in ("start", "die"):
        items = engine_items(EngineEvent("container", action, "c1", 0))
        assert any(isinstance(i, _Discover) for i in items), action
        assert any(isinstance(i, _Container) and i.container_id == "c1" for i in items)


def test_other_engine_events_do_not_scan_proc() -> None:
    for kind, action in (("container", "rename"), ("container", "pause"), ("network", "connect")):
        items = engine_items(EngineEvent(kind, action, "c1", 0))
        assert not any(isinstance(i, _Discover) for i in items), action


class FakeReader:
    """Records what the runner asks; answers as a host with nothing new would."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def host_routes(self) -> ev.HostRoutesDumped:
        self.calls.append("host_routes")
        return ev.HostRoutesDumped(())

    def discover(self) -> list[ev.Event]:
        self.calls.append("discover")
        return [ev.NamespacesFound((4, 1), ())]

    def podman(self) -> list[ev.Event]:
        self.calls.append("podman")
        return []

    def read_namespaces(self, identities: object) -> list[ev.Event]:
        self.calls.append("read_namespaces")
        return []


def test_an_address_is_no_reason_to_scan_proc_and_a_veth_into_the_unknown_is() -> None:
    live = Live(reconcile=0)
    reader = FakeReader()
    live._handle(reader, [ev.AddressAdded(AddressRecord(3, "10.0.0.9/24"))])  # type: ignore[arg-type]
    assert reader.calls == [] and live.discoveries == 0
    veth = Interface("veth9", 9, iflink=2, kind="veth", link_netnsid=77)
    live._handle(reader, [ev.LinkChanged(LinkRecord(veth))])  # type: ignore[arg-type]
    assert live.discoveries == 1 and "discover" in reader.calls
    assert "podman" not in reader.calls  # discovery found no Podman change: not asked


def test_each_reconciliation_takes_the_next_share_and_all_are_read_in_turn() -> None:
    from inspector.live.runner import next_share

    keys = [f"c:{n:03d}" for n in range(120)]
    seen: list[str] = []
    after = None
    for _ in range(3):  # ceil(120 / 50)
        share = next_share(keys, after, 50)
        assert len(share) == 50
        seen.extend(share)
        after = share[-1]
    assert set(seen) == set(keys)
    # keys that came and went between passes: it carries on after the last one taken
    assert next_share([*keys[:5], "c:999"], "c:003", 3) == ["c:004", "c:999", "c:000"]
    assert next_share(keys[:10], "c:005", 50) == keys[:10]  # a small host: all, every pass


class ManyNamespacesReader(FakeReader):
    """A host with 120 running containers; records whose namespaces were read."""

    def __init__(self) -> None:
        super().__init__()
        from inspector.model.snapshot import Container

        self.listed = tuple(
            Container(f"{n:03d}", f"c{n}", "i", "running", None, "bridge") for n in range(120)
        )
        self.read: list[str] = []

    def host(self) -> ev.HostDumped:
        from inspector.model.records import NamespaceDump

        return ev.HostDumped(NamespaceDump(links=(), addresses=(), routes=()))

    def containers(self) -> list[ev.Event]:
        return [ev.ContainersListed(self.listed)]

    def namespaces(self, containers: list[object]) -> list[ev.Event]:
        self.read.extend(c.id for c in containers)  # type: ignore[attr-defined]
        return []


def test_a_reconciliation_reads_a_bounded_share_and_refresh_reads_all() -> None:
    from inspector.live.runner import RECONCILE_BATCH

    live = Live(reconcile=30)
    reader = ManyNamespacesReader()
    for event in reader.containers():  # the runner lists before the first pass
        live._apply(event)
    live._full(reader, first=True)  # type: ignore[arg-type]
    assert len(reader.read) == 120
    reader.read.clear()
    for _ in range(3):
        live._full(reader)  # type: ignore[arg-type]
    assert len(reader.read) == 3 * RECONCILE_BATCH
    assert set(reader.read) == {c.id for c in reader.listed}
    reader.read.clear()
    live._full(reader, asked=True)  # type: ignore[arg-type]
    assert sorted(reader.read) == sorted(c.id for c in reader.listed)


def test_a_stream_reconnecting_after_the_first_pass_publishes_nothing_new() -> None:
    """The first pass publishes everything; an event stream that says it is connected
    just after changes neither the picture nor the flags: nothing is published again (the
    UI would draw and mark every container for it)."""
    live = Live(reconcile=0)
    published: list[object] = []
    live._publish = published.append
    live._emit()
    live._emit(only_if_new=True)
    assert len(published) == 1
    live._kernel_ok = True  # a stream came or went: the status line has news
    live._emit(only_if_new=True)
    assert len(published) == 2
