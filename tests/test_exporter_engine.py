"""The exporter on the real lab (engine test: the lead runs it): a lab container's veth
counter, labelled as iproute2 and docker name it, scraped by a real Prometheus too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inspector.exporter.metrics import Exporter
from inspector.exporter.serving import Serving
from inspector.live.runner import Live
from tests.lab import Lab, host_links
from tests.test_exporter import PROMETHEUS, prom_query, scrape, start_prometheus


@pytest.fixture
def live_exporter(lab: Lab) -> Iterator[Serving]:
    s = Serving(Live(reconcile=0), Exporter(), ("127.0.0.1", 0))
    try:
        yield s
    finally:
        s.close()


def bridge_samples(port: int, lab: Lab) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for family in text_string_to_metric_families(scrape(port)):
            if family.name == "cnet_interface_receive_bytes":
                for s in family.samples:
                    if s.labels["container"] == lab.bridge and s.labels["interface"] == "eth0":
                        return {"labels": s.labels, "value": s.value}
        time.sleep(0.2)
    raise AssertionError(f"no counter for {lab.bridge} eth0")


def test_a_lab_containers_veth_counter_is_labelled_like_iproute2(
    lab: Lab, live_exporter: Serving
) -> None:
    inside = {link["ifname"]: link for link in lab.ip_links_in(lab.bridge)}
    veth = {link["ifindex"]: link for link in host_links()}[inside["eth0"]["link_index"]]
    sent = int(Path(f"/sys/class/net/{veth['ifname']}/statistics/tx_bytes").read_text())
    got = bridge_samples(live_exporter.port, lab)
    deadline = time.monotonic() + 10
    while float(str(got["value"])) < sent and time.monotonic() < deadline:
        time.sleep(0.2)  # the numbers served are up to a second (and a rebuild) old
        got = bridge_samples(live_exporter.port, lab)
    labels = got["labels"]
    assert isinstance(labels, dict)
    assert labels["host_interface"] == veth["ifname"]
    assert labels["bridge"] == "docker0"
    assert labels["network"] == "bridge"
    assert labels["runtime"] == "docker"
    value = got["value"]
    assert isinstance(value, float) and value >= sent  # eth0 receives what the veth sends
    text = scrape(live_exporter.port)
    assert "hunter2" not in text and "CNET_LAB_SECRET" not in text


@pytest.mark.skipif(PROMETHEUS is None, reason="needs Debian's prometheus package")
def test_prometheus_scrapes_a_lab_containers_counter(
    lab: Lab, live_exporter: Serving, tmp_path: Path
) -> None:
    proc, port = start_prometheus(tmp_path, live_exporter.port)
    try:
        query = f'cnet_interface_transmit_bytes_total{{container="{lab.bridge}",interface="eth0"}}'
        found: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not found:
            time.sleep(0.5)
            try:
                found = prom_query(port, query) if prom_query(port, 'up{job="cnet"} == 1') else []
            except OSError:
                continue
        assert found, "Prometheus has no counter for the lab's bridge container"
    finally:
        proc.terminate()
        proc.wait(20)
