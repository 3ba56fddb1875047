"""What naming the kernel's drop reasons adds to a probe, and what it costs while idle.

Two namespaces of its own (prefix ``cnetdr-bench-``) joined by a veth; a ping of COUNT
requests at 10 ms intervals from one to the other, ROUNDS times without a probe and
ROUNDS times inside one (the links' drop counters read, ``start_probe`` .. ``finish``, the
counters read again, as ``cnet ping`` does; the instance's removal is timed apart, since
cnet prints the result first).  Wall time,
median and worst.  The target is at most +100 ms per probe.

Idle: with no probe running, cnet has no tracefs instance and the event is enabled
nowhere of cnet's (``instances/cnet-probe-*`` listed before and after).

    PYTHONPATH=. .venv/bin/python bench/drops.py [ROUNDS]
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time

from inspector.actions.ping import PingPlan, run_ping
from inspector.collect import tracefs
from inspector.collect.linkdrops import read_link_drops, risen

COUNT = 3
A, B = "cnetdr-bench-a", "cnetdr-bench-b"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def ping_once(plan: PingPlan) -> None:
    for _ in run_ping(plan, count=COUNT, interval=0.01, timeout=0.5):
        pass


def ours() -> list[str]:
    return [n for n in os.listdir(f"{tracefs.TRACEFS}/instances") if n.startswith(tracefs.PREFIX)]


def main(rounds: int) -> None:
    problem = tracefs.availability()
    if problem is not None:
        sys.exit(f"bench/drops: {problem}")
    sleeper = None
    try:
        for ns in (A, B):
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", "cnetdrbencha", "netns", A, "type", "veth", "peer", "cnetdrbenchb",
           "netns", B)  # fmt: skip
        ip("-n", A, "addr", "add", "10.246.250.1/30", "dev", "cnetdrbencha")
        ip("-n", B, "addr", "add", "10.246.250.2/30", "dev", "cnetdrbenchb")
        ip("-n", A, "link", "set", "cnetdrbencha", "up")
        ip("-n", B, "link", "set", "cnetdrbenchb", "up")
        sleeper = subprocess.Popen(["ip", "netns", "exec", A, "sleep", "600"])
        time.sleep(0.2)
        plan = PingPlan(A, A, sleeper.pid, "10.246.250.2", "", socket.AF_INET)
        ping_once(plan)  # warm: icmplib imported, neighbour resolved
        read_link_drops()  # and pyroute2, which cnet ping has imported for its snapshot
        idle_before = ours()
        plain, probed, removal = [], [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            ping_once(plan)
            plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            probe, why = tracefs.start_probe(begin=False)
            assert probe is not None, why
            links = read_link_drops()  # while the baseline window runs, as cnet ping does
            probe.begin()
            probe.watch()
            ping_once(plan)
            probe.finish()
            risen(links, read_link_drops())
            probed.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            probe.close()
            removal.append(time.perf_counter() - t1)
        idle_after = ours()
    finally:
        if sleeper is not None:
            sleeper.kill()
            sleeper.wait()
        for ns in (A, B):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def ms(values: list[float]) -> str:
        return (
            f"median {statistics.median(values) * 1000:6.1f} ms, worst {max(values) * 1000:6.1f} ms"
        )

    extra = [p - q for p, q in zip(probed, plain, strict=True)]
    print(f"ping of {COUNT} at 10 ms, {rounds} rounds")
    print(f"  without drop reasons: {ms(plain)}")
    print(f"  with drop reasons:    {ms(probed)}")
    print(f"  added by the probe:   {ms(extra)}  (target: at most 100 ms)")
    print(f"  instance removal, after the result: {ms(removal)}")
    print(f"  cnet instances while idle: before {idle_before}, after {idle_after}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
