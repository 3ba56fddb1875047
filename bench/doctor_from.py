"""``cnet doctor --from`` on synthetic snapshots of 2,500, 5,000 and 10,000 containers.

No Docker: each synthetic container has one veth, a port of docker0, and Docker's network facts;
every 10th publishes a port, every 20th uses another's namespace (``container:``), so the
lookups by name (the namespace owner, the other end of a link, ``--from``'s own) are all
exercised.  The whole process is timed (import, read, checks, text), wall and CPU, median
of ``-r`` runs.

``--tree`` runs another checkout's cnet on the same files (e.g. main, to compare before
and after):  .venv/bin/python bench/doctor_from.py [--tree /work/main] [-r 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.model.snapshot import (  # noqa: E402
    Bridge,
    BridgePort,
    Container,
    HostNetwork,
    Interface,
    NetworkAttachment,
    PeerRef,
    PublishedPort,
    Route,
    Snapshot,
)
from inspector.render.snapshot_json import dumps  # noqa: E402

SIZES = (2_500, 5_000, 10_000)


def synthetic(n: int) -> Snapshot:
    host: list[Interface] = [
        Interface("eth0", 2, kind=None, state="up", mtu=1500, addresses=("10.0.0.2/24",)),
        Interface("docker0", 3, kind="bridge", state="up", mtu=1500, addresses=("172.16.0.1/12",)),
    ]
    containers = []
    ports: list[BridgePort] = []
    for i in range(n):
        veth = f"veth{i:07x}"
        ip = f"172.{16 + i // 65000}.{(i // 250) % 256}.{i % 250 + 2}"
        host.append(Interface(veth, 100 + i, kind="veth", state="up", mtu=1500, master="docker0"))
        shared = i % 20 == 19
        ports.append(BridgePort(veth, 100 + i, "forwarding", f"bench-{i}", "eth0"))
        ifaces = (
            ()
            if shared
            else (
                Interface("lo", 1, state="unknown", addresses=("127.0.0.1/8",)),
                Interface(
                    "eth0",
                    2,
                    iflink=100 + i,
                    kind="veth",
                    state="up",
                    mtu=1500,
                    addresses=(f"{ip}/12",),
                    peer=PeerRef(veth, 100 + i, "docker0"),
                ),
            )
        )
        containers.append(
            Container(
                f"{i:064x}",
                f"bench-{i}",
                "busybox",
                "running",
                10_000 + i,
                f"container:bench-{i - 1}" if shared else "bridge",
                netns_shared_with=f"bench-{i - 1}" if shared else None,
                networks=() if shared else (NetworkAttachment("bridge", ip, "172.16.0.1", None),),
                ports=(PublishedPort(80, "tcp", "0.0.0.0", 20_000 + i),) if i % 10 == 0 else (),
                interfaces=ifaces,
                routes=()
                if shared
                else (
                    Route("default", "172.16.0.1", "eth0", "universe", "boot", None),
                    Route("172.16.0.0/12", None, "eth0", "link", "kernel", None),
                ),
            )
        )
    routes = (Route("default", "10.0.0.1", "eth0", "universe", "boot", None),)
    return Snapshot(
        "2026-01-01T00:00:00Z",
        "bench",
        HostNetwork(tuple(host), routes),
        bridges=(Bridge("docker0", 3, "up", ("172.16.0.1/12",), ports=tuple(ports)),),
        containers=tuple(containers),
    )


def run_once(tree: Path, path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the cnet process): the machine is shared, so the CPU
    time is the steadier measure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "doctor", "--from", str(path)],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"cnet failed: {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose cnet runs")
    parser.add_argument("-r", "--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnet-bench-") as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"synthetic-{n}.json"
            path.write_text(dumps(synthetic(n)))
            runs = [run_once(args.tree, path) for _ in range(args.runs)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"{n:>6} containers: doctor --from {wall:6.2f} s, {cpu:6.2f} s CPU", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
