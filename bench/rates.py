"""What rates once a second cost, in-process, on synthetic hosts of 60, 200 and 1000 containers.

No Docker: each synthetic container has one veth on docker0 (its host end in the host's
table) and every tenth a macvlan (read from its namespace's table).  Per second it
measures, in CPU time (``time.process_time``):

- read: psutil's real per-NIC read of this host, and parsing a ``/proc/net/dev`` as long
  as the synthetic host's (what psutil does with it);
- meter: ``RateMeter.add`` (rates per interface and container, history), every counter
  moving; quiet: ``sample_of`` + ``RateMeter.add`` with none moving (an idle host);
- tui: one ``Rates`` arriving in the running app (headless): the rate cells and the
  detail updated, measured over ``STEPS`` updates.

The target is 1% of a core at 200 containers: 10 ms of CPU per second.

    PYTHONPATH=. .venv/bin/python bench/rates.py [N ...]
"""

from __future__ import annotations

import asyncio
import sys
import time

import psutil

from inspector.collect.counters import Counters, parse_net_dev
from inspector.live.rates import RateMeter, Rates
from inspector.live.sampler import sample_of
from inspector.model.snapshot import Container, HostNetwork, Interface, ParentRef, PeerRef, Snapshot

STEPS = 20
SIZES = (60, 200, 1000)


def synthetic(n: int) -> Snapshot:
    host: list[Interface] = [Interface("docker0", 3, kind="bridge", state="up")]
    containers = []
    for i in range(n):
        veth = f"veth{i:07x}"
        host.append(Interface(veth, 100 + i, kind="veth", state="up", master="docker0"))
        ifaces = [
            Interface("lo", 1, state="unknown", addresses=("127.0.0.1/8",)),
            Interface(
                "eth0",
                2,
                kind="veth",
                state="up",
                addresses=(f"172.17.{i // 250}.{i % 250 + 2}/16",),
                peer=PeerRef(veth, 100 + i, "docker0"),
            ),
        ]
        if i % 10 == 0:
            ifaces.append(Interface("mv0", 3, kind="macvlan", parent=ParentRef("eth9", 9)))
        containers.append(
            Container(
                f"{i:064x}",
                f"bench-{i}",
                "busybox",
                "running",
                10_000 + i,
                "bridge",
                interfaces=tuple(ifaces),
            )
        )
    return Snapshot(
        "2026-01-01T00:00:00Z", "bench", HostNetwork(tuple(host)), containers=tuple(containers)
    )


def net_dev_text(names: list[str], t: int) -> str:
    head = "Inter-|   Receive   |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes\n"
    line = "{:>6}: {} {} 0 0 0 0 0 0 {} {} 0 0 0 0 0 0\n"
    return head + "".join(line.format(n, 1000 * t, 10 * t, 2000 * t, 20 * t) for n in names)


def counters_at(
    snapshot: Snapshot, t: int
) -> tuple[dict[str, Counters], dict[str, dict[str, Counters]]]:
    host = {
        i.name: Counters(1000 * t * (k + 1), 2000 * t, 10 * t, 20 * t)
        for k, i in enumerate(snapshot.host.interfaces)
    }
    inside = {
        c.name: {"mv0": Counters(500 * t, 500 * t, 5 * t, 5 * t)}
        for c in snapshot.containers
        if any(i.name == "mv0" for i in c.interfaces)
    }
    return host, inside


def cpu_ms(fn: object, repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        fn()  # type: ignore[operator]
    return 1000 * (time.process_time() - start) / repeat


def bench_pure(n: int) -> tuple[float, float, float, list[Rates]]:
    snap = synthetic(n)
    names = [i.name for i in snap.host.interfaces]
    psutil_ms = cpu_ms(lambda: psutil.net_io_counters(pernic=True), 50)
    text = net_dev_text(names, 7)
    parse_ms = cpu_ms(lambda: parse_net_dev(text), 20)
    meter = RateMeter()
    samples = [sample_of(snap, float(t), *counters_at(snap, t)) for t in range(STEPS + 1)]
    start = time.process_time()
    rates = [r for s in samples if (r := meter.add(s)) is not None]
    meter_ms = 1000 * (time.process_time() - start) / STEPS
    return psutil_ms, parse_ms, meter_ms, rates


def bench_quiet(n: int) -> float:
    """``sample_of`` + the meter per second when no counter moves (an idle host)."""
    snap = synthetic(n)
    host, inside = counters_at(snap, 7)
    meter = RateMeter()
    start = time.process_time()
    for t in range(STEPS + 1):
        meter.add(sample_of(snap, float(t), host, inside))
    return 1000 * (time.process_time() - start) / (STEPS + 1)


def bench_tui(n: int, rates: list[Rates]) -> float:
    from inspector.tui.app import make_app
    from tests.tui_fakes import ScriptedRates

    snap = synthetic(n)
    feed = ScriptedRates()

    async def run() -> float:
        app = make_app(snap, rates=feed)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause(0.5)
            feed.push(rates[0])
            await pilot.pause(0.2)
            idle_start = time.process_time()
            for _ in range(STEPS):
                await pilot.pause(0.05)
            idle = time.process_time() - idle_start
            start = time.process_time()
            for r in rates[1:]:
                feed.push(r)
                await pilot.pause(0.05)
                assert app.rates is r
            busy = time.process_time() - start
            return 1000 * max(0.0, busy - idle * (len(rates) - 1) / STEPS) / (len(rates) - 1)

    return asyncio.run(run())


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or list(SIZES)
    print(
        f"{'containers':>10} {'psutil':>8} {'parse':>8} {'meter':>8} {'tui':>8} {'total':>8}"
        f"  % of a core  {'quiet':>8} (sample + meter, no counter moving)"
    )
    for n in sizes:
        psutil_ms, parse_ms, meter_ms, rates = bench_pure(n)
        tui_ms = bench_tui(n, rates)
        total = psutil_ms + parse_ms + meter_ms + tui_ms
        print(
            f"{n:>10} {psutil_ms:>7.2f}ms {parse_ms:>7.2f}ms {meter_ms:>7.2f}ms {tui_ms:>7.2f}ms"
            f" {total:>7.2f}ms  {total / 10:>10.2f}%  {bench_quiet(n):>6.2f}ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
