"""Benchmark connections: what sockets and TCP health cost at N containers, and the first
paint of the Connections view with 1,000 flows.

- Per namespace, over N real containers each running busybox ``httpd`` (one listener):
  the doctor's old listener read (``/proc/PID/net/{tcp,tcp6,udp,udp6}``) against sock_diag
  (LISTEN TCP + bound UDP, with and without the processes), the TCP health read, and
  ``record_connections`` for all (what ``cnet snapshot`` adds).  CPU time of this process
  (user + system: the kernel's walk of its socket table counts), median of ``--rounds``.
- The idle live TUI reads none of this periodically: sockets and health are read when the
  doctor's marks run (once per new snapshot) and, while the Connections view is open, for
  the one workload every ``REFRESH_S``.  The cost of that refresh as a share of a core.
- First paint: a headless Pilot over the demo snapshot, from ``o`` until the flows table
  shows the busiest of 1,000 synthetic flows (``MAX_SHOWN_FLOWS``) and the screen has
  refreshed, median of ``--paints``.

Starts N containers (prefix ``cnetcn-b``, removed one at a time afterwards).  Run as root
with an engine:  .venv/bin/python bench/connections.py -n 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.containers import quiet
from inspector.collect.connections import Connections, read_connections, record_connections
from inspector.collect.conntrack import FIRST
from inspector.collect.snmp import read_health
from inspector.collect.sockets import pids_by_namespace, read_sockets
from inspector.model.snapshot import Container
from inspector.model.snapshot import Snapshot as ModelSnapshot
from inspector.tui.backends import ConnectionsProgress, ConnectionsReader
from inspector.tui.connections_view import MAX_SHOWN_FLOWS
from tests.lab import IMAGE, remove_one_at_a_time, sh

PREFIX = "cnetcn-b"


def start(n: int) -> list[int]:
    print(f"starting {n} containers ...", file=sys.stderr)
    for i in range(n):
        quiet("docker", "run", "-d", "--name", f"{PREFIX}{i:03d}", IMAGE, "httpd", "-f", "-p", "80")
    names = [f"{PREFIX}{i:03d}" for i in range(n)]
    out = sh("docker", "inspect", "-f", "{{.State.Pid}} {{.NetworkSettings.IPAddress}}", *names)
    return [int(line.split()[0]) for line in out.splitlines() if line.split()[0] != "0"]


def remove() -> None:
    names = sh("docker", "ps", "-aq", "--filter", f"name=^/{PREFIX}", check=False).split()
    remove_one_at_a_time(names)


def cpu_ms(call: Callable[[], object], rounds: int) -> float:
    """Median CPU milliseconds (user + system) of ``call``."""
    times = []
    for _ in range(rounds):
        t0 = time.process_time()
        call()
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def proc_net(pids: list[int]) -> None:
    for pid in pids:
        for name in ("tcp", "tcp6", "udp", "udp6"):
            try:
                with open(f"/proc/{pid}/net/{name}", encoding="ascii", errors="replace") as f:
                    f.read()
            except OSError:
                pass


async def first_paint(flows: int, reader: ConnectionsReader | None = None) -> tuple[float, float]:
    """Wall and CPU milliseconds from ``o`` to the flows on screen: ``flows`` canned ones,
    or what ``reader`` reads (the real host's)."""
    from textual import events
    from textual._compositor import CompositorUpdate
    from textual.screen import Screen

    from inspector.render.snapshot_json import load_demo_snapshot
    from inspector.tui.app import CnetApp, Source, make_app
    from inspector.tui.connections_screen import ConnectionsScreen
    from tests.test_tui_connections import canned
    from tests.tui_fakes import bridged_container

    demo = load_demo_snapshot()
    data = canned(demo, flows)
    if reader is None:
        reader = lambda s, n, p: data  # noqa: E731
    app = make_app(demo, source=Source("demo"), read_connections=reader, read_rules=None)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app, CnetApp)
        while not app.marks_known:
            await pilot.pause(0.02)
        names = [c.name for c in demo.containers]
        for _ in range(names.index(bridged_container(demo).name)):
            await pilot.press("down")
        await pilot.pause()
        # The key goes in as the terminal's driver sends it, and the clock stops at the
        # first frame written after the rows are in: Pilot.press and Pilot.pause wait for
        # the process to look idle (>= 20 ms of sleep each), which measured themselves.
        frames: list[float] = []
        display = app._display

        def drawn(screen: object) -> bool:
            """The flows are in, measured and laid out: this frame shows them."""
            if not isinstance(screen, ConnectionsScreen) or screen.conns is None:
                return False
            table = screen.pane("flows")
            return (
                len(table.rows_shown) == min(flows, MAX_SHOWN_FLOWS)
                and table.row_count == len(table.rows_shown)
                and not table._require_update_dimensions
                and not table._updated_cells
                and not screen._layout_required
                and table not in screen._dirty_widgets
            )

        def timed_display(screen: Screen[object], renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            if isinstance(renderable, CompositorUpdate):  # headless skips the escape codes
                renderable.render_segments(app.console)
                if drawn(screen):
                    frames.append(time.perf_counter())

        app._display = timed_display  # type: ignore[method-assign]
        t0, c0 = time.perf_counter(), time.process_time()
        key = events.Key("o", "o")
        key.set_sender(app)
        assert app._driver is not None
        app._driver.send_message(key)
        while not frames:
            await asyncio.sleep(0.001)
        app._display = display  # type: ignore[method-assign]
        return (frames[-1] - t0) * 1000, (time.process_time() - c0) * 1000


def make_flows(address: str, n: int) -> None:
    """``n`` UDP flows from the host to ``address`` (a container the bench made): one
    datagram each from its own port, tracked by the host's conntrack for 30 s."""
    for _ in range(n):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"cnet", (address, 9))


def real_flows(n: int, paints: int) -> int:
    """The first paint over the real read of one container's ``n`` flows: sockets, health
    and the conntrack dump filtered to its address; and the read alone, to its first part
    (what the view draws first) and to its end."""
    remove()
    try:
        quiet("docker", "run", "-d", "--name", f"{PREFIX}flows", IMAGE, "httpd", "-f", "-p", "80")
        out = sh(
            "docker",
            "inspect",
            "-f",
            "{{.State.Pid}} {{.NetworkSettings.IPAddress}}",
            f"{PREFIX}flows",
        )
        pid, address = int(out.split()[0]), out.split()[1]

        def reader(_s: object, _n: str, progress: ConnectionsProgress | None) -> Connections:
            return read_connections(pid, [address], progress=progress)

        # Unanswered UDP flows live 30 s: made once, then read and painted within that.
        make_flows(address, n)
        counted = conntrack_count(address)
        firsts, wholes, runs, sizes = [], [], [], []
        for _ in range(paints):
            t0 = time.perf_counter()
            marks: list[float] = []
            read = read_connections(
                pid, [address], progress=lambda _c, m=marks: m.append(time.perf_counter())
            )
            wholes.append((time.perf_counter() - t0) * 1000)
            firsts.append(((marks or [time.perf_counter()])[0] - t0) * 1000)
            sizes.append(len(read.flows.flows))
            runs.append(asyncio.run(first_paint(min(sizes[-1], MAX_SHOWN_FLOWS), reader)))
        print(f"{min(sizes)}-{max(sizes)} real flows read (conntrack -L -d {address}: {counted})")
        print(
            f"  read alone: the first {FIRST} in {statistics.median(firsts):.0f} ms, all in "
            f"{statistics.median(wholes):.0f} ms (median of {paints})"
        )
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(
            f"  first paint: median {wall:.0f} ms wall, {cpu:.0f} ms CPU (runs: "
            f"{', '.join(f'{w:.0f}' for w, _ in runs)}; load average {os.getloadavg()[0]:.1f})"
        )
    finally:
        remove()
    return 0


def conntrack_count(address: str) -> int:
    return len(sh("conntrack", "-L", "-d", address, check=False).splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--containers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--paints", type=int, default=5)
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--paint-only", action="store_true", help="skip the containers")
    parser.add_argument(
        "--real-flows", action="store_true", help="the paint over one container's real flows"
    )
    args = parser.parse_args()
    if args.real_flows:
        return real_flows(args.flows, args.paints)

    for flows in (0, args.flows):
        runs = [asyncio.run(first_paint(flows)) for _ in range(args.paints)]
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        load = os.getloadavg()[0]
        print(
            f"first paint, {flows} flows: median {wall:.0f} ms wall, {cpu:.0f} ms CPU "
            f"(wall runs: {', '.join(f'{w:.0f}' for w, _ in runs)}; load average {load:.1f})"
        )

    if args.paint_only:
        return 0
    remove()
    try:
        pids = start(args.containers)
        n = len(pids)
        by_ns = pids_by_namespace()
        old = cpu_ms(lambda: proc_net(pids), args.rounds)
        diag = cpu_ms(lambda: [read_sockets(p, processes=False) for p in pids], args.rounds)
        procs = cpu_ms(lambda: [read_sockets(p, by_namespace=by_ns) for p in pids], args.rounds)
        walk = cpu_ms(pids_by_namespace, args.rounds)
        health = cpu_ms(lambda: [read_health(p) for p in pids], args.rounds)
        owners = [
            Container(f"{PREFIX}{i}", f"{PREFIX}{i}", IMAGE, "running", pid, "bridge")
            for i, pid in enumerate(pids)
        ]
        snap = ModelSnapshot("", "")
        record = cpu_ms(lambda: record_connections(snap, owners=owners), args.rounds)
        one = cpu_ms(lambda: read_connections(pids[0], ["172.17.0.2"]), args.rounds * 3)
        print(f"{n} namespaces, CPU ms for all of them (median of {args.rounds}):")
        print(
            f"  /proc/PID/net/tcp,tcp6,udp,udp6 (the doctor before): {old:.0f} ms ({old / n:.2f}/ns)"
        )
        print(
            f"  sock_diag LISTEN+UDP, no processes (the doctor now):  {diag:.0f} ms ({diag / n:.2f}/ns)"
        )
        print(
            f"  sock_diag with processes (one /proc walk shared):     {procs:.0f} ms + walk {walk:.0f} ms"
        )
        print(
            f"  TCP health (snmp + netstat):                          {health:.0f} ms ({health / n:.2f}/ns)"
        )
        print(f"  record_connections (what cnet snapshot adds):         {record:.0f} ms")
        print(
            f"Connections view refresh (one workload, sockets+flows+health): {one:.1f} ms CPU "
            f"every 3 s = {one / 3000 * 100:.2f}% of a core while the view is open; 0 when closed"
        )
    finally:
        if not args.keep:
            remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
