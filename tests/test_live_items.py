"""What the live runner makes of an event, as data: which ones make it look for namespaces."""

from __future__ import annotations

from inspector import events as ev
from inspector.collect.engine import EngineEvent
from inspector.live import Live, _Container, _Discover, engine_items
from inspector.model import Interface
from inspector.records import AddressRecord, LinkRecord


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
