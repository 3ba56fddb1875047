"""The exporter: metric families over recorded and scripted snapshots, the doctor cache,
many concurrent scrapes over one feed, and a real Prometheus server scraping it.

No Docker: the feed is scripted; the counters are the real ones of the host's ``lo``
(a scripted container's veth whose host end is ``lo``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inspector.collect.counters import Counters
from inspector.doctor import Check, ContainerReport
from inspector.exporter.metrics import (
    DOCTOR_MAX_AGE_S,
    DoctorCache,
    Exporter,
    counter_families,
    doctor_family,
    info_family,
    namespace_of,
    network_of,
)
from inspector.exporter.serving import Serving, parse_listen
from inspector.live.runner import LiveStatus, LiveUpdate
from inspector.model.snapshot import (
    Container,
    Interface,
    NetworkAttachment,
    PeerRef,
    Snapshot,
)
from tests.lab import free_port
from tests.netns_helpers import ip

STATUS = LiveStatus(
    reading=False, kernel_events=True, engine_events=True, changed_at=0.0, reconcile=30
)


def scripted_snapshot() -> Snapshot:
    """One container whose veth's host end is the host's ``lo``: real, moving counters."""
    web = Container(
        id="c0ffee" * 10,
        name="cnrm-web",
        image="busybox",
        state="running",
        pid=None,
        network_mode="bridge",
        networks=(NetworkAttachment("bridge", "172.17.0.9", "172.17.0.1", "02:42:ac:11:00:09"),),
        interfaces=(
            Interface(
                "eth0",
                9,
                mac="02:42:ac:11:00:09",
                addresses=("172.17.0.9/16",),
                peer=PeerRef("lo", 1, bridge="docker0"),
            ),
        ),
    )
    return Snapshot(taken_at="2026-12-01T00:00:00Z", hostname="cnrm", containers=(web,))


class CountingFeed:
    """A feed that publishes one snapshot on start and counts what it is asked."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.starts = 0
        self.refreshes = 0
        self.stopped = False

    def start(self, publish: object) -> None:
        self.starts += 1
        assert callable(publish)
        publish(LiveUpdate(self.snapshot, STATUS))

    def refresh(self) -> None:
        self.refreshes += 1

    def stop(self) -> None:
        self.stopped = True


def report(name: str, failing: str | None) -> ContainerReport:
    checks = tuple(
        Check(cid, "fail" if cid == failing else "pass", "") for cid in ("veth", "bridge")
    )
    return ContainerReport(name, "running", checks)


def samples(exporter: Exporter) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in exporter.collect():
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


# -- pure parts --------------------------------------------------------------------------


def test_counter_families_label_each_interface_from_the_recorded_lab(recorded: Snapshot) -> None:
    multi = next(
        c for c in recorded.containers if sum(i.peer is not None for i in c.interfaces) > 1
    )
    counters = {(multi.name, i.name): Counters(10, 20, 1, 2, 3, 4, 5, 6) for i in multi.interfaces}
    families = {f.name: f for f in counter_families(recorded, counters)}
    rx = families["cnet_interface_receive_bytes"].samples
    assert {s.labels["interface"] for s in rx} == {i.name for i in multi.interfaces}
    veths = [s for s in rx if s.labels["host_interface"]]
    assert len(veths) == 2
    assert {s.labels["network"] for s in veths} == {n.name for n in multi.networks}
    for s in veths:
        iface = next(i for i in multi.interfaces if i.name == s.labels["interface"])
        assert iface.peer is not None
        assert s.labels["host_interface"] == iface.peer.name
        assert s.labels["bridge"] == iface.peer.bridge
        assert s.labels["runtime"] == "docker"
        assert s.name == "cnet_interface_receive_bytes_total" and s.value == 10
    drops = families["cnet_interface_transmit_drops"].samples
    assert {s.value for s in drops} == {4}


def test_network_is_matched_by_mac_then_by_address() -> None:
    c = scripted_snapshot().containers[0]
    assert network_of(c, c.interfaces[0]) == "bridge"
    by_ip = Interface("eth1", 3, addresses=("172.17.0.9/16",))
    assert network_of(c, by_ip) == "bridge"
    assert network_of(c, Interface("eth2", 4, addresses=("10.9.9.9/8",))) == ""


def test_info_names_runtime_mode_and_namespace(recorded: Snapshot) -> None:
    family = info_family(recorded)
    assert family.name == "cnet_container"
    by_name = {s.labels["container"]: s.labels for s in family.samples}
    assert set(by_name) == {c.name for c in recorded.containers}
    for c in recorded.containers:
        labels = by_name[c.name]
        assert labels["network_mode"] == c.network_mode
        assert labels["namespace"] == namespace_of(recorded, c)
        assert labels["id"] == c.id  # whole: "systemd:adv-" named nothing
        assert labels["runtime"] == "docker"
    shared = next(c for c in recorded.containers if c.netns_shared_with not in (None, "host"))
    assert by_name[shared.name]["namespace"] == recorded.namespace_owner(shared).name


def test_no_environment_or_command_line_is_exported(recorded: Snapshot) -> None:
    text = " ".join(
        f"{k}={v}"
        for f in (info_family(recorded), *counter_families(recorded, {}))
        for s in f.samples
        for k, v in s.labels.items()
    )
    assert "SECRET" not in text and "hunter2" not in text


def test_doctor_family_is_one_for_failing_checks_only() -> None:
    skipped = ContainerReport(
        "c", "running", (Check("route6", "skip", ""), Check("mtu", "warn", ""))
    )
    family = doctor_family([report("a", "bridge"), report("b", None), skipped])
    values = {(s.labels["container"], s.labels["check"]): s.value for s in family.samples}
    assert values == {
        ("a", "veth"): 0,
        ("a", "bridge"): 1,
        ("b", "veth"): 0,
        ("b", "bridge"): 0,
        ("c", "mtu"): 0,
    }


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:9877") == ("127.0.0.1", 9877)
    assert parse_listen("[::1]:80") == ("::1", 80)
    for bad in ("9877", ":80", "host:http", "host:70000"):
        with pytest.raises(ValueError):
            parse_listen(bad)


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None, reason="needs root and nft")
def test_the_nft_generation_moves_with_each_nft_transaction() -> None:
    """In a namespace of its own, the generation cnet reads (pyroute2's NFT_MSG_GETGEN) goes
    up by one for each transaction ``nft`` commits there, and a dump leaves it as it was."""
    ns = f"cnetly-gen-{os.getpid()}"
    ip("netns", "add", ns)
    try:
        code = "from inspector.collect.nftgen import nft_generation; print(nft_generation())"

        def generation() -> int:
            argv = ["ip", "netns", "exec", ns, sys.executable, "-c", code]
            out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT)
            return int(out.stdout)

        def nft(*args: str) -> None:
            subprocess.run(
                ["ip", "netns", "exec", ns, "nft", *args], check=True, capture_output=True
            )

        first = generation()
        assert generation() == first
        nft("add", "table", "inet", "cnetly")
        assert generation() == first + 1
        nft("list", "ruleset")
        nft("add", "chain", "inet", "cnetly", "c")
        assert generation() == first + 2
    finally:
        ip("netns", "del", ns)


# -- the doctor cache ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settle(cache: DoctorCache, snapshot: Snapshot) -> tuple[ContainerReport, ...]:
    """Ask until the background run has finished (bounded)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = cache.reports(snapshot)
        if got and not cache._running:
            return got
        time.sleep(0.01)
    raise AssertionError("the doctor run did not finish")


def test_doctor_reruns_only_on_a_new_snapshot_a_new_ruleset_or_old_age() -> None:
    clock = Clock()
    generation = [1]
    seen: list[Snapshot] = []

    def diagnose(s: Snapshot) -> list[ContainerReport]:
        seen.append(s)
        return [report("a", "veth")]

    cache = DoctorCache(diagnose, lambda: generation[0], clock)
    first = scripted_snapshot()
    settle(cache, first)
    for _ in range(5):
        cache.reports(first)
    assert cache.runs == 1
    second = scripted_snapshot()  # equal, but a new publication
    settle(cache, second)
    assert cache.runs == 2
    generation[0] = 2  # read again only after FINGERPRINT_EVERY_S
    cache.reports(second)
    assert cache.runs == 2
    clock.now += 6
    settle(cache, second)
    assert cache.runs == 3
    clock.now += DOCTOR_MAX_AGE_S
    settle(cache, second)
    assert cache.runs == 4
    assert seen == [first, second, second, second]


def test_a_failing_doctor_counts_as_a_scrape_error_and_runs_again() -> None:
    def diagnose(s: Snapshot) -> list[ContainerReport]:
        raise RuntimeError("boom")

    exporter = Exporter(counters=lambda s: {}, doctor=DoctorCache(diagnose, lambda: 0))
    exporter.publish(LiveUpdate(scripted_snapshot(), STATUS))
    deadline = time.monotonic() + 10
    while exporter._doctor.failures == 0 and time.monotonic() < deadline:
        samples(exporter)
        time.sleep(0.01)
    assert samples(exporter)["cnet_scrape_errors_total"] == [({}, 1.0)]


def test_before_any_update_a_scrape_still_answers() -> None:
    exporter = Exporter(counters=lambda s: {}, doctor=DoctorCache(lambda s: [], lambda: 0))
    got = samples(exporter)
    assert got["cnet_scrape_errors_total"] == [({}, 0.0)]
    assert "cnet_collect_duration_seconds" not in got


def test_collect_duration_is_the_feeds_full_pass() -> None:
    clock = Clock()
    exporter = Exporter(
        counters=lambda s: {}, doctor=DoctorCache(lambda s: [], lambda: 0), clock=clock
    )
    reading = LiveStatus(True, True, True, 0.0, 30)
    exporter.publish(LiveUpdate(scripted_snapshot(), reading))
    clock.now += 2.5
    exporter.publish(LiveUpdate(scripted_snapshot(), STATUS))
    assert samples(exporter)["cnet_collect_duration_seconds"] == [({}, 2.5)]


# -- over HTTP -----------------------------------------------------------------------------


@pytest.fixture
def serving() -> Iterator[tuple[Serving, CountingFeed, list[int]]]:
    feed = CountingFeed(scripted_snapshot())
    diagnosed: list[int] = []

    def diagnose(s: Snapshot) -> list[ContainerReport]:
        diagnosed.append(1)
        return [report("cnrm-web", "bridge")]

    from inspector.collect.counters import read_container_counters

    exporter = Exporter(read_container_counters, DoctorCache(diagnose, lambda: 0))
    s = Serving(feed, exporter, ("127.0.0.1", 0))
    try:
        yield s, feed, diagnosed
    finally:
        s.close()
    assert feed.stopped


def scrape(port: int, accept: str = "") -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=10) as r:
        return str(r.read().decode())


def test_many_concurrent_scrapes_are_all_answered_from_one_feed(
    serving: tuple[Serving, CountingFeed, list[int]],
) -> None:
    s, feed, diagnosed = serving
    answers: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            text = scrape(s.port)
            with lock:
                answers.append(text)

    threads = [threading.Thread(target=worker) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert len(answers) == 24 * 5
    assert all('cnet_interface_receive_bytes_total{bridge="docker0"' in a for a in answers)
    assert feed.starts == 1 and feed.refreshes == 0
    assert len(diagnosed) == 1  # one snapshot, one ruleset: one doctor run for them all


def test_openmetrics_is_served_when_asked(
    serving: tuple[Serving, CountingFeed, list[int]],
) -> None:
    s, _, _ = serving
    text = scrape(s.port, "application/openmetrics-text; version=1.0.0")
    assert text.rstrip().endswith("# EOF")
    assert "cnet_container_info{" in text


def test_metrics_parse_and_carry_the_real_lo_counters(
    serving: tuple[Serving, CountingFeed, list[int]],
) -> None:
    import psutil

    s, _, _ = serving
    before = psutil.net_io_counters(pernic=True)["lo"].bytes_sent
    families = {f.name: f for f in text_string_to_metric_families(scrape(s.port))}
    rx = families["cnet_interface_receive_bytes"].samples[0]
    # The container's eth0 receives what its host end (lo here) sends.
    assert rx.value >= before
    assert rx.labels == {
        "container": "cnrm-web",
        "runtime": "docker",
        "interface": "eth0",
        "host_interface": "lo",
        "bridge": "docker0",
        "network": "bridge",
    }


# -- a real Prometheus ----------------------------------------------------------------------

PROMETHEUS = shutil.which("prometheus")


def start_prometheus(
    tmp_path: Path, target_port: int, job: str = ""
) -> tuple[subprocess.Popen[bytes], int]:
    """Debian's Prometheus on 127.0.0.1, scraping ``127.0.0.1:target_port`` every second,
    its config and storage under ``tmp_path``; the caller terminates it.  ``job``: more
    of the scrape job's YAML (scheme, tls_config, basic_auth), indented by four."""
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: cnet\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target_port}']\n{job}"
    )
    port = free_port()
    assert PROMETHEUS is not None
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


def prom_query(port: int, query: str) -> list[dict[str, object]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as r:
        data = json.loads(r.read())
    assert data["status"] == "success"
    result: list[dict[str, object]] = data["data"]["result"]
    return result


@pytest.mark.skipif(PROMETHEUS is None, reason="needs Debian's prometheus package")
def test_a_real_prometheus_scrapes_the_exporter(
    serving: tuple[Serving, CountingFeed, list[int]], tmp_path: Path
) -> None:
    s, _, _ = serving
    proc, port = start_prometheus(tmp_path, s.port)
    try:
        up: list[dict[str, object]] = []
        counter: list[dict[str, object]] = []
        failed: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (up and counter and failed):
            time.sleep(0.5)
            try:
                up = prom_query(port, 'up{job="cnet"} == 1')
                counter = prom_query(
                    port, 'cnet_interface_receive_bytes_total{container="cnrm-web"}'
                )
                # The doctor's verdict lands a scrape after the run it started.
                failed = prom_query(port, 'cnet_doctor_check_failed{container="cnrm-web"} == 1')
            except OSError:
                continue  # not listening yet
        assert up, "Prometheus never saw the exporter up"
        assert counter, "Prometheus has no counter from the exporter"
        metric = counter[0]["metric"]
        assert isinstance(metric, dict)
        assert metric["host_interface"] == "lo" and metric["interface"] == "eth0"
        assert [r["metric"]["check"] for r in failed] == ["bridge"]  # type: ignore[index]
    finally:
        proc.terminate()
        proc.wait(20)
