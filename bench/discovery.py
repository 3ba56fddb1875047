"""What finding every namespace costs: discovery and attribution, with N containers running.

``Reader.discover()`` scans every process's and thread's ``/proc/PID/task/TID/ns/net``
and the mount table, and names each namespace after what made it (cgroup, CNI results,
``ip netns``).  Measured cold (a new reader) and warm (a reader that keeps what it found:
a namespace whose lowest pid is unchanged is not looked at again), wall and CPU, median
of ``--rounds``; Podman's list (a subprocess) apart, since it runs only where Podman is.
Target (issue 10): at most 30 ms at 200 containers.

Starts N containers (prefix ``cnetbench-``, removed one at a time afterwards).  Run as root
with an engine:  .venv/bin/python bench/discovery.py -n 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.containers import remove_bench_containers, start_bench_containers  # noqa: E402
from inspector.collect.reader import Reader  # noqa: E402


def measure(step: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``step``."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(1000 * (time.perf_counter() - wall))
        cpus.append(1000 * (time.process_time() - cpu))
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--containers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="reuse and leave the containers")
    args = parser.parse_args()
    start_bench_containers(args.containers, reuse=args.keep)
    try:
        time.sleep(2)
        found = Reader().discover()
        count = len(getattr(found[0], "found", ())) if found else 0
        warm = Reader()
        warm.discover()
        fresh = [Reader() for _ in range(args.rounds)]  # made outside the timing
        rows = {
            "discovery + attribution, cold": measure(lambda: fresh.pop().discover(), args.rounds),
            "discovery + attribution, warm": measure(warm.discover, args.rounds),
            "Podman's list (podman ps, inspect)": measure(warm.podman, args.rounds),
        }
    finally:
        if not args.keep:
            remove_bench_containers()
    print(f"\n{count} namespaces besides the host's, {args.containers} bench containers\n")
    for what, (wall, cpu) in rows.items():
        print(f"  {what:<40} {wall:7.1f} ms wall {cpu:7.1f} ms CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
