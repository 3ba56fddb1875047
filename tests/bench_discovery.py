"""What discovery and attribution cost with N more namespaces and T more threads here.

Run as root: ``python -m tests.bench_discovery [N] [T]`` (default 200 namespaces, each held by
an ``unshare -n sleep``, and 2000 idle threads).  Prints medians; asserts nothing (a number
for the report, not a test).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from inspector.collect import cri, discover
from inspector.collect.attribute import attribute


def _median_ms(f: Callable[[], object], runs: int = 21) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(n: int, t: int) -> None:
    holders = [subprocess.Popen(["unshare", "-n", "sleep", "300"]) for _ in range(n)]
    stop = threading.Event()
    idle = [threading.Thread(target=stop.wait, daemon=True) for _ in range(t)]
    for thread in idle:
        thread.start()
    try:
        while len(discover.process_namespaces()) < n:  # every holder has unshared
            time.sleep(0.05)
        threads = sum(
            len(os.listdir(f"/proc/{p}/task"))
            for p in os.listdir("/proc")
            if p.isdigit() and os.path.isdir(f"/proc/{p}/task")
        )
        first = {f.identity: f for f in discover.discover()}

        def cold() -> object:
            return [attribute(f, cri.cni_results()) for f in discover.discover()]

        def warm() -> object:
            return [attribute(f, cri.cni_results()) for f in discover.discover(known=first)]

        print(
            f"{len(first)} namespaces, {threads} threads: /proc scan"
            f" {_median_ms(discover.process_namespaces):.1f} ms; discovery and attribution"
            f" {_median_ms(cold):.1f} ms the first time, {_median_ms(warm):.1f} ms again"
        )
    finally:
        stop.set()
        for p in holders:
            p.kill()
        for p in holders:
            p.wait()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [200, 2000][len(args) :]))
