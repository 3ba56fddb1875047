"""Benchmark the TUI: launch-to-first-screen, and the cost of one cursor move.

    .venv/bin/python bench/tui_startup.py                 # live host (needs Docker + root for all)
    .venv/bin/python bench/tui_startup.py --load FILE     # a saved snapshot instead of live
    .venv/bin/python bench/tui_startup.py --runs 7 --sizes 20,200,1000

Start-up is measured from outside: a fresh ``python`` process runs the app headless and
prints a marker once the Containers pane has rows; the time is from spawning it to the
marker (interpreter, imports, the first collect and the first render).  The keypress cost
is measured in-process with Pilot on synthetic snapshots of N containers: if render work
grew with N, the per-key time would grow with it.  Not a test: numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inspector.model.snapshot import BridgePort, Container, Interface, PeerRef, Snapshot  # noqa: E402

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from inspector.tui.app import make_app
from inspector.tui.status_line import Source
load = {load!r}
if load:
    from inspector.render.snapshot_json import load_snapshot
    app = make_app(load_snapshot(load), source=Source("file", load))
else:
    from inspector.live.runner import Live
    app = make_app(feed=Live(reconcile=0))

def check():
    if app.view is not None and (app.pane("containers").row_count or not app.view.snapshot.containers):
        print("READY", len(app.view.snapshot.containers), flush=True)
        app.exit()

app.call_later(lambda: app.set_interval(0.005, check))
app.run(headless=True, size=(120, 40))
"""


def startup_once(load: str | None) -> tuple[float, str]:
    code = CHILD.format(root=str(ROOT), load=load)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    proc.wait(30)
    if not line.startswith("READY"):
        raise SystemExit(f"the app did not start: {proc.stderr.read() if proc.stderr else ''}")
    return elapsed, line.split()[1]


def synthetic(base: Snapshot, n: int) -> Snapshot:
    """``n`` bridged containers, each with its own host veth on the first bridge."""
    template = next(c for c in base.containers if any(i.peer for i in c.interfaces))
    bridge = base.bridges[0]
    containers: list[Container] = []
    veths: list[Interface] = []
    ports: list[BridgePort] = []
    for k in range(n):
        veth = f"veth{k:07x}"
        ifaces = tuple(
            dataclasses.replace(i, peer=PeerRef(veth, 1000 + k, bridge.name)) if i.peer else i
            for i in template.interfaces
        )
        containers.append(
            dataclasses.replace(template, name=f"bench-{k:04d}", id=f"{k:064x}", interfaces=ifaces)
        )
        veths.append(
            Interface(
                veth,
                1000 + k,
                kind="veth",
                state="up",
                master=bridge.name,
                container=f"bench-{k:04d}",
                container_interface="eth0",
            )
        )
        ports.append(BridgePort(veth, 1000 + k, "forwarding", f"bench-{k:04d}", "eth0"))
    host = dataclasses.replace(base.host, interfaces=base.host.interfaces + tuple(veths))
    bridges = (dataclasses.replace(bridge, ports=tuple(ports)), *base.bridges[1:])
    return dataclasses.replace(base, containers=tuple(containers), host=host, bridges=bridges)


async def keypress_cost(snapshot: Snapshot, presses: int) -> tuple[float, float, float]:
    """Per keypress: wall time through Pilot, CPU time, and time in the linking handler."""
    from inspector.tui.app import make_app

    app = make_app(snapshot)
    linking = [0.0]
    link = app._link

    def timed_link() -> None:
        t = time.perf_counter()
        link()
        linking[0] += time.perf_counter() - t

    app._link = timed_link  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("j")  # warm caches
        linking[0] = 0.0
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(presses):
            await pilot.press("j")
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        assert app.pane("containers").cursor_row == presses + 1, "the list must be longer"
    return wall / presses, cpu / presses, linking[0] / presses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load", help="start on a saved snapshot instead of the live host")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="60,200,1000")
    parser.add_argument("--presses", type=int, default=50)
    args = parser.parse_args()

    times = []
    count = "?"
    for _ in range(args.runs):
        elapsed, count = startup_once(args.load)
        times.append(elapsed)
    source = args.load or "live host"
    print(
        f"start-up to containers listed ({source}, {count} containers): "
        f"median {statistics.median(times) * 1000:.0f} ms over {args.runs} runs "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )

    from inspector.render.snapshot_json import load_snapshot

    base = load_snapshot(ROOT / "tests" / "data" / "lab-snapshot.json")
    for n in (int(s) for s in args.sizes.split(",")):
        runs = [asyncio.run(keypress_cost(synthetic(base, n), args.presses)) for _ in range(3)]
        wall, cpu, link = (statistics.median(r[k] for r in runs) * 1000 for k in range(3))
        print(
            f"cursor move (j), {n:5d} containers: {cpu:5.1f} ms CPU per keypress "
            f"(of which linking panes + detail {link:4.1f} ms); {wall:5.1f} ms wall through Pilot"
        )


if __name__ == "__main__":
    main()
