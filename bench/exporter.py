"""Benchmark the exporter and the remote feed, without Docker.

- scrape: a real HTTP scrape of ``/metrics`` served from the live inventory's latest
  update, at ``-n`` synthetic containers (each a veth whose host end is ``lo``, so the
  counters are really read: psutil's one read of the host's table; the doctor's cached
  verdicts: 15 checks each, the 4 IPv6 ones skipped as on an IPv4-only host).  Target: median under 50 ms.
- idle: CPU of a real ``cnet exporter`` (engine unreachable: DOCKER_HOST points nowhere,
  the host's own links are followed) over ``--idle`` seconds with no scrapes
  (``/proc/PID/stat``).  Target: under 2 % of a core.
- remote: the first update that has the host's links, from ``Live`` here and from
  ``RemoteFeed`` over a loopback sshd started for the run (Debian's openssh-server, keys
  generated under a temp dir).  Target: the remote's within 1 s of the local one's.
  This is what the TUI draws its first rows from; drawing is the same on both sides.

Run as root:  .venv/bin/python bench/exporter.py [-n 200] [--idle 20] [--skip-remote]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.collect.counters import read_container_counters  # noqa: E402
from inspector.doctor import CHECK_IDS, IPV6_CHECK_IDS, Check, ContainerReport  # noqa: E402
from inspector.exporter.metrics import DoctorCache, Exporter  # noqa: E402
from inspector.exporter.serving import Serving  # noqa: E402
from inspector.live.runner import Live, LiveStatus, LiveUpdate  # noqa: E402
from inspector.model.snapshot import (  # noqa: E402
    Container,
    Interface,
    NetworkAttachment,
    PeerRef,
    Snapshot,
)

TICKS = os.sysconf("SC_CLK_TCK")
NO_DOCKER = {**os.environ, "DOCKER_HOST": "unix:///nonexistent", "PYTHONPATH": str(ROOT)}
STATUS = LiveStatus(False, True, True, 0.0, 30.0)


def synthetic(n: int) -> Snapshot:
    containers = tuple(
        Container(
            id=f"{k:064x}",
            name=f"bench-{k}",
            image="busybox",
            state="running",
            pid=None,
            network_mode="bench",
            networks=(NetworkAttachment("bench", f"10.{k // 250}.{k % 250}.2", None, None),),
            interfaces=(
                Interface(
                    "eth0",
                    2,
                    addresses=(f"10.{k // 250}.{k % 250}.2/24",),
                    peer=PeerRef("lo", 1, bridge="br-bench"),
                ),
            ),
        )
        for k in range(n)
    )
    return Snapshot(taken_at="2026-12-01T00:00:00Z", hostname="bench", containers=containers)


class OneUpdate:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def start(self, publish: object) -> None:
        assert callable(publish)
        publish(LiveUpdate(self.snapshot, STATUS))

    def refresh(self) -> None:
        pass

    def stop(self) -> None:
        pass


def bench_scrape(n: int, runs: int) -> float:
    snapshot = synthetic(n)
    # As on an IPv4-only host (the lab): the IPv6 steps skip, and are not exported.
    verdicts = tuple(Check(i, "skip" if i in IPV6_CHECK_IDS else "pass", "") for i in CHECK_IDS)
    reports = [ContainerReport(c.name, "running", verdicts) for c in snapshot.containers]
    doctor = DoctorCache(lambda s: reports, lambda: 0)
    serving = Serving(
        OneUpdate(snapshot), Exporter(read_container_counters, doctor), ("127.0.0.1", 0)
    )
    url = f"http://127.0.0.1:{serving.port}/metrics"
    try:
        for _ in range(3):  # warm: the doctor's first run lands, connections are set up
            urllib.request.urlopen(url, timeout=10).read()
            time.sleep(0.05)
        times = []
        size = 0
        for _ in range(runs):
            t0 = time.perf_counter()
            size = len(urllib.request.urlopen(url, timeout=10).read())
            times.append(time.perf_counter() - t0)
    finally:
        serving.close()
    median = statistics.median(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    print(
        f"scrape at {n} containers: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"{size} bytes (target: under 50 ms)"
    )
    return median


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def bench_idle(seconds: float) -> float:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "exporter", "--listen", f"127.0.0.1:{port}"],
        env=NO_DOCKER,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)  # started, first read done
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        share = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
    finally:
        proc.terminate()
        proc.wait(20)
    print(f"exporter idle: {share * 100:.2f} % of a core over {seconds:g} s (target: under 2 %)")
    return share


def _free_port() -> int:
    from tests.lab import free_port

    return free_port()


def first_links(start: object, timeout: float = 60) -> float:
    """Seconds until the feed publishes a snapshot holding the host's links."""
    got = threading.Event()

    def publish(update: LiveUpdate) -> None:
        if update.snapshot.host.interfaces:
            got.set()

    t0 = time.monotonic()
    feed = start()  # type: ignore[operator]
    feed.start(publish)
    try:
        if not got.wait(timeout):
            raise SystemExit("no update with the host's links")
        return time.monotonic() - t0
    finally:
        feed.stop()


def bench_remote() -> float:
    from inspector.remote.ssh import RemoteFeed, Ssh, parse_host
    from tests.test_remote import loopback_sshd

    os.environ["DOCKER_HOST"] = "unix:///nonexistent"  # the local Live, like the remote
    with tempfile.TemporaryDirectory(prefix="cnrm-bench-") as d:
        tmp = Path(d)
        with loopback_sshd(tmp) as server:
            ssh = Ssh(
                parse_host(f"ssh://root@127.0.0.1:{server.port}"),
                str(server.remote_command),
                str(server.config),
            )
            first_links(lambda: RemoteFeed(ssh))  # host key accepted, caches warm
            local = statistics.median(first_links(lambda: Live(reconcile=0)) for _ in range(3))
            far = statistics.median(first_links(lambda: RemoteFeed(ssh)) for _ in range(3))
    print(
        f"first update with the host's links: local {local * 1000:.0f} ms, over loopback ssh "
        f"{far * 1000:.0f} ms, {(far - local) * 1000:+.0f} ms (target: within 1000 ms)"
    )
    return far - local


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="synthetic containers (default 200)")
    parser.add_argument("--runs", type=int, default=50, help="scrapes to time (default 50)")
    parser.add_argument("--idle", type=float, default=20.0, help="idle seconds (default 20)")
    parser.add_argument("--skip-remote", action="store_true", help="no sshd part")
    args = parser.parse_args()
    ok = bench_scrape(args.n, args.runs) < 0.050
    ok = bench_idle(args.idle) < 0.02 and ok
    if not args.skip_remote:
        ok = bench_remote() < 1.0 and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
