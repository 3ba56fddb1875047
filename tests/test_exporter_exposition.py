"""The kept exposition: what a scrape gets is byte for byte what prometheus_client renders
of the same moment, in every format asked, and it changes with the inventory, the
verdicts and (after ``FRESH_S``) the counters.  No Docker: scripted feed and numbers."""

from __future__ import annotations

import gzip
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import CollectorRegistry

from inspector.collect.counters import Counters, InterfaceKey
from inspector.doctor import Check, ContainerReport
from inspector.exporter.exposition import FRESH_S, Exposition
from inspector.exporter.metrics import DoctorCache, Exporter
from inspector.exporter.serving import Serving
from inspector.live.runner import LiveStatus, LiveUpdate
from inspector.model.snapshot import (
    Container,
    Interface,
    NetworkAttachment,
    PeerRef,
    Snapshot,
    TcpHealth,
)

STATUS = LiveStatus(False, True, True, 0.0, 30.0)
OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def container(k: int, name: str) -> Container:
    return Container(
        id=f"{k:064x}",
        name=name,
        image="busybox",
        state="running",
        pid=1000 + k,  # never read: the health reader is scripted
        network_mode="lab",
        networks=(NetworkAttachment("lab", f"10.9.0.{k + 2}", None, None),),
        interfaces=(
            Interface(
                "eth0", 2, addresses=(f"10.9.0.{k + 2}/24",), peer=PeerRef(f"veth{k}", 10 + k)
            ),
        ),
    )


def snapshot(*names: str) -> Snapshot:
    containers = tuple(container(k, n) for k, n in enumerate(names))
    return Snapshot(taken_at="2026-12-07T00:00:00Z", hostname="lab", containers=containers)


class Numbers:
    """Counters and TCP counters the test moves by hand, big enough for exponents."""

    def __init__(self) -> None:
        self.base = 7

    def counters(self, s: Snapshot) -> dict[InterfaceKey, Counters]:
        b = self.base
        return {
            (c.name, "eth0"): Counters(b * 1234567, b, 3, 4, 5, 6, 7, b * 10**9 + k)
            for k, c in enumerate(s.containers)
        }

    def health(self, pid: int | None) -> TcpHealth | None:
        return TcpHealth(out_segs=self.base * 99, retrans_segs=pid or 0)


class Feed:
    """Publishes what the test says, when it says."""

    def __init__(self, first: Snapshot) -> None:
        self.first = first
        self.publish: Callable[[LiveUpdate], None] | None = None

    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        self.publish = publish
        publish(LiveUpdate(self.first, STATUS))

    def refresh(self) -> None:
        pass

    def stop(self) -> None:
        pass


def verdicts(s: Snapshot) -> list[ContainerReport]:
    checks = (Check("veth", "pass", ""), Check("bridge", "fail", "no bridge"))
    return [ContainerReport(c.name, "running", checks) for c in s.containers]


def exporter_of(numbers: Numbers) -> Exporter:
    return Exporter(numbers.counters, DoctorCache(verdicts, lambda: 0), health=numbers.health)


def reference(exporter: Exporter, openmetrics: bool = False) -> bytes:
    """prometheus_client's whole rendering of the exporter's collector, now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    return openmetrics_latest(registry) if openmetrics else generate_latest(registry)


def settle(exporter: Exporter, landed: int) -> None:
    """Until the doctor's run for the latest snapshot has landed."""
    deadline = time.monotonic() + 10
    while exporter._doctor.landed < landed:
        assert time.monotonic() < deadline, "the doctor's run did not land"
        exporter.moment()  # starts the run when the snapshot is new
        time.sleep(0.01)


def scrape(port: int, accept: str = "", gzipped: bool = False) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if accept:
        request.add_header("Accept", accept)
    if gzipped:
        request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=10) as r:
        body = r.read()
        assert (r.headers.get("Content-Encoding") == "gzip") == gzipped
    return gzip.decompress(body) if gzipped else bytes(body)


def until(port: int, wanted: bytes, accept: str = "", gzipped: bool = False) -> bytes:
    """Scrapes until ``wanted`` is served: a scrape during a build gets the last body."""
    deadline = time.monotonic() + 10
    while wanted not in (got := scrape(port, accept, gzipped)):
        assert time.monotonic() < deadline, f"never served {wanted!r}"
        time.sleep(0.01)
    return got


@pytest.fixture
def served() -> Iterator[tuple[Serving, Feed, Numbers]]:
    numbers = Numbers()
    feed = Feed(snapshot("cnrm-a", 'cnrm-"q"\\b'))  # quotes and a backslash to escape
    s = Serving(feed, exporter_of(numbers), ("127.0.0.1", 0))  # type: ignore[arg-type]
    try:
        yield s, feed, numbers
    finally:
        s.close()


def test_the_served_text_is_prometheus_clients_and_follows_the_inventory(
    served: tuple[Serving, Feed, Numbers],
) -> None:
    s, feed, numbers = served
    settle(s.exporter, 1)
    first = scrape(s.port)
    assert first == reference(s.exporter)
    assert b'container="cnrm-\\"q\\"\\\\b"' in first
    assert b"cnet_interface_transmit_errors_total" in first
    assert scrape(s.port, OPENMETRICS) == reference(s.exporter, openmetrics=True)
    assert scrape(s.port, OPENMETRICS, gzipped=True) == reference(s.exporter, openmetrics=True)
    assert scrape(s.port, gzipped=True) == first

    # A new snapshot: a workload more, and the numbers moved.
    numbers.base = 11
    assert feed.publish is not None
    feed.publish(LiveUpdate(snapshot("cnrm-a", 'cnrm-"q"\\b', "cnrm-new"), STATUS))
    second = until(s.port, b'container="cnrm-new"')  # the last body while it is built
    assert second != first
    settle(s.exporter, 2)
    third = until(s.port, b'cnet_doctor_check_failed{check="bridge",container="cnrm-new"} 1.0')
    assert third == reference(s.exporter)
    assert scrape(s.port, OPENMETRICS) == reference(s.exporter, openmetrics=True)


def test_counters_are_read_again_after_fresh_s_and_not_before() -> None:
    numbers = Numbers()
    exporter = exporter_of(numbers)
    now = [0.0]
    exposition = Exposition(exporter, clock=lambda: now[0])
    exporter.publish(LiveUpdate(snapshot("cnrm-a", "cnrm-b"), STATUS))
    settle(exporter, 1)
    first, content_type = exposition.body(None)
    assert content_type.startswith("text/plain")
    numbers.base = 12
    now[0] += FRESH_S / 2
    assert exposition.body(None)[0] == first  # the same second: kept
    assert exposition.moments == 1
    now[0] += FRESH_S / 2
    moved, _ = exposition.body(None)
    assert exposition.moments == 2 and moved != first
    assert moved == reference(exporter)
    # A series gone, then back, in the same snapshot: left out, then shown again.
    exporter._counters = lambda s: {
        k: v for k, v in numbers.counters(s).items() if k[0] != "cnrm-b"
    }
    now[0] += FRESH_S
    without, _ = exposition.body(None)
    assert without == reference(exporter) and b'container="cnrm-b",host' not in without
    exporter._counters = numbers.counters
    now[0] += FRESH_S
    assert exposition.body(None)[0] == moved
    assert f'cnet_tcp_segments_sent_total{{container="cnrm-a",runtime="docker"}} {12 * 99}.0' in (
        moved.decode()
    )


def test_a_namespace_whose_counters_vanished_is_left_out_as_prometheus_client_does() -> None:
    numbers = Numbers()
    exporter = exporter_of(numbers)
    first = snapshot("cnrm-a", "cnrm-b")
    gone = first.containers[1]
    exporter._counters = lambda s: {
        k: v for k, v in numbers.counters(s).items() if k[0] != gone.name
    }
    exporter._health = lambda pid: None if pid == gone.pid else numbers.health(pid)
    exporter.publish(LiveUpdate(first, STATUS))
    settle(exporter, 1)
    body, _ = Exposition(exporter).body(None)
    assert body == reference(exporter)
    assert b'container="cnrm-a",host_interface="veth0"' in body
    assert b'container="cnrm-b",host_interface="veth1"' not in body
    assert b'cnet_tcp_segments_sent_total{container="cnrm-b"' not in body
    assert b'cnet_container_info{container="cnrm-b"' in body


def test_a_new_snapshot_is_built_before_the_next_scrape(
    served: tuple[Serving, Feed, Numbers],
) -> None:
    s, feed, _ = served
    settle(s.exporter, 1)
    scrape(s.port, OPENMETRICS, gzipped=True)  # what this scraper asks for
    built = s.exposition.warmed
    assert feed.publish is not None
    feed.publish(LiveUpdate(snapshot("cnrm-a", "cnrm-later"), STATUS))
    deadline = time.monotonic() + 10
    while s.exposition.warmed == built:  # no scrape: the warming thread builds it
        assert time.monotonic() < deadline, "the new snapshot was not built"
        time.sleep(0.01)
    settle(s.exporter, 2)
    got = until(s.port, b'container="cnrm-later"', OPENMETRICS, gzipped=True)
    assert got == reference(s.exporter, openmetrics=True)
