"""What capture costs, on a veth between two namespaces of the bench's own, with tcpdump's
figures on the same traffic.  Not a test: numbers, not assertions.  Root, no Docker.

    PYTHONPATH=. .venv/bin/python bench/capture.py [--seconds 4] [--rate 50000]

- loss to file: a UDP blaster in B sends exactly RATE x SECONDS datagrams to A; ``cnet
  capture A -i VETH -w FILE`` (then ``tcpdump -w``, the same 8 MiB ring) records them in
  A; capinfos counts what reached the file;
- Enter to the first packet shown: the capture screen (in-process, Pilot) with 200
  pkt/s arriving; and the first line of ``cnet capture`` and ``tcpdump -l`` from launch;
- key latency: Space (pause/resume) answered while 10,000 pkt/s arrive, through Pilot;
- idle: CPU of the whole process (every thread) over 10 s with the capture screen
  capturing and no traffic, against the main screen alone; tcpdump's idle CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.netns_helpers import veth_pair

TAG = "cnetbcap"
NS_A, NS_B, VETH_A = f"{TAG}-a", f"{TAG}-b", f"{TAG}a"
A_IP, B_IP = "10.249.9.1", "10.249.9.2"
FILTER = "udp port 9999"

BLASTER = """
import socket, sys, time
dst, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
total = int(rate * seconds)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * 64
sent, start = 0, time.perf_counter()
while sent < total:
    due = min(total, int((time.perf_counter() - start) * rate) + 1)
    while sent < due:
        s.sendto(payload, (dst, 9999))
        sent += 1
    time.sleep(0.0002)
print(sent, time.perf_counter() - start, flush=True)
"""


def blaster(rate: int, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", NS_B, sys.executable, "-c", BLASTER, A_IP, str(rate), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )


def blast(rate: int, seconds: float, senders: int) -> tuple[int, float]:
    """``senders`` blasters sharing ``rate``: (datagrams sent, seconds the slowest took)."""
    procs = [blaster(rate // senders, seconds) for _ in range(senders)]
    results = [p.communicate()[0].split() for p in procs]
    return sum(int(r[0]) for r in results), max(float(r[1]) for r in results)


def packets_in(path: Path) -> int:
    out = subprocess.run(
        ["capinfos", "-c", "-M", "-T", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return int(out.splitlines()[-1].split("\t")[-1])


def wait_started(proc: subprocess.Popen[Any], marker: str) -> None:
    assert proc.stderr is not None
    while True:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError("the capture ended before it started")
        if marker in (line.decode() if isinstance(line, bytes) else line):
            return


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loss_to_file(rate: int, seconds: float, senders: int, tmp: Path) -> None:
    total = senders * int(rate // senders * seconds)
    cnet_file, tcpdump_file = tmp / "cnet.pcapng", tmp / "tcpdump.pcap"
    runs = {
        "cnet capture": (
            [
                sys.executable,
                "-m",
                "inspector",
                "capture",
                NS_A,
                "-i",
                VETH_A,
                "-w",
                str(cnet_file),
                "-f",
                FILTER,
            ],
            "capturing on",
            cnet_file,
        ),
        "tcpdump": (
            [
                "ip",
                "netns",
                "exec",
                NS_A,
                "tcpdump",
                "-i",
                VETH_A,
                "-n",
                "-B",
                "8192",
                "-w",
                str(tcpdump_file),
                FILTER,
            ],
            "listening on",
            tcpdump_file,
        ),
    }
    for name, (argv, marker, path) in runs.items():
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        wait_started(proc, marker)
        cpu_before = cpu_seconds(proc.pid)
        sent, took = blast(rate, seconds, senders)
        time.sleep(1.5)  # the last blocks reach the file (tcpdump hands a block over after 1 s)
        cpu = cpu_seconds(proc.pid) - cpu_before
        proc.send_signal(2)
        _, err = proc.communicate(timeout=60)
        got = packets_in(path)
        tail = err.decode().strip().splitlines()[-3:]
        print(
            f"{name:>13}: sent {int(sent):,} in {float(took):.2f} s "
            f"({int(sent) / float(took):,.0f} pkt/s); in the file {got:,} "
            f"(lost {total - got:,}, {100 * (total - got) / total:.2f}%); "
            f"CPU {100 * cpu / float(took):.0f}% of a core; says: {' / '.join(tail)}"
        )


def first_line_from_launch(argv: list[str], tmp: Path) -> float:
    """Seconds from launching ``argv`` to its first packet line, with 200 pkt/s flowing."""
    sender = blaster(200, 30)
    try:
        time.sleep(0.3)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        proc.stdout.readline()
        took = time.perf_counter() - start
        proc.send_signal(2)
        proc.communicate(timeout=30)
        return took
    finally:
        sender.kill()
        sender.wait()


async def tui_figures(snapshot: Any) -> None:
    from inspector.tui.app import make_app
    from inspector.tui.backends import live_capture
    from inspector.tui.capture_screen import CaptureScreen

    app = make_app(snapshot, capture=live_capture)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.5)
        # Idle: the main screen alone, then the capture screen capturing with no traffic.
        base = await idle_cpu(pilot, 10)
        screen = CaptureScreen(snapshot, NS_A, app.backends)
        app.push_screen(screen)
        await until(pilot, lambda: screen.is_mounted and screen.filter_field.has_focus)
        await pilot.press(*FILTER)
        await pilot.press("enter")
        await until(pilot, lambda: screen.labels != ())
        await pilot.pause(0.5)
        open_ = await idle_cpu(pilot, 10)
        print(
            f"idle, no traffic: main screen {100 * base:.2f}% of a core; with the capture "
            f"screen capturing {100 * open_:.2f}% (+{100 * (open_ - base):.2f}%)"
        )
        # Enter to the first packet shown, 200 pkt/s flowing.
        sender = blaster(200, 60)
        firsts = []
        try:
            for _ in range(7):
                key(app, "escape")
                await until(pilot, lambda: not screen.running)
                key(app, "f")
                await until(pilot, lambda: screen.filter_field.has_focus)
                run = screen.run_number
                start = time.perf_counter()
                key(app, "enter")
                await until(
                    pilot,
                    lambda r=run: (
                        screen.run_number > r
                        and any(" In IP " in line for line in screen.log_view.lines)
                    ),
                )
                firsts.append(time.perf_counter() - start)
        finally:
            sender.kill()
            sender.wait()
        print(
            f"Enter to the first packet shown (200 pkt/s): median "
            f"{1000 * statistics.median(firsts):.0f} ms, max {1000 * max(firsts):.0f} ms"
        )
        # Key latency at 10,000 pkt/s: Space pauses and resumes, the status answers.
        sender = blaster(10_000, 30)
        latencies = []
        try:
            await pilot.pause(2)
            status = screen.query_one("#capture-status")
            for n in range(30):
                want = "paused" if n % 2 == 0 else "capturing"
                start = time.perf_counter()
                key(app, "space")
                await until(
                    pilot, lambda w=want, s=status: str(s.render()).startswith(w), step=0.001
                )
                latencies.append(time.perf_counter() - start)
                await asyncio.sleep(0.1)
            tick = screen._tick
        finally:
            sender.kill()
            sender.wait()
        latencies.sort()
        print(
            f"key (Space) answered at {tick.rate:,.0f} pkt/s (showing 1 in {tick.step}): "
            f"median {1000 * statistics.median(latencies):.1f} ms, "
            f"p90 {1000 * latencies[int(0.9 * len(latencies))]:.1f} ms, "
            f"max {1000 * latencies[-1]:.1f} ms; kernel drops {tick.dropped:,}"
        )
        await pilot.press("escape")


def key(app: Any, name: str) -> None:
    """A key as the terminal delivers it (``Pilot.press`` also waits for every widget to
    go idle, which a screen fed ten times a second rarely is)."""
    from textual import events

    app.post_message(events.Key(name, {"space": " ", "f": "f"}.get(name)))


async def idle_cpu(pilot: Any, seconds: float) -> float:
    cpu, wall = time.process_time(), time.perf_counter()
    await pilot.pause(seconds)
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


async def until(pilot: Any, condition: Any, step: float = 0.005, seconds: float = 30) -> None:
    """Poll without Pilot's idle wait (see ``key``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the TUI did not answer")
        await asyncio.sleep(step)


def tcpdump_idle(seconds: float) -> float:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", NS_A, "tcpdump", "-i", VETH_A, "-n", "-l", FILTER],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_started(proc, "listening on")
    before = cpu_seconds(proc.pid)
    time.sleep(seconds)
    used = cpu_seconds(proc.pid) - before
    proc.send_signal(2)
    proc.communicate(timeout=30)
    return used / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--senders", type=int, default=2, help="blaster processes")
    parser.add_argument("--tui-only", action="store_true", help="only the TUI's figures")
    args = parser.parse_args()
    from inspector.live.runner import collect_snapshot

    with veth_pair(TAG, A_IP, B_IP), tempfile.TemporaryDirectory() as tmp:
        print(f"{os.cpu_count()} cores; veth {VETH_A} between {NS_B} (sender) and {NS_A}")
        if args.tui_only:
            asyncio.run(tui_figures(collect_snapshot()))
            return
        loss_to_file(args.rate, args.seconds, args.senders, Path(tmp))
        cli = first_line_from_launch(
            [sys.executable, "-m", "inspector", "capture", NS_A, "-i", VETH_A, "-f", FILTER],
            Path(tmp),
        )
        dump = first_line_from_launch(
            ["ip", "netns", "exec", NS_A, "tcpdump", "-l", "-n", "-i", VETH_A, FILTER], Path(tmp)
        )
        print(
            f"launch to the first line (200 pkt/s): cnet capture {1000 * cli:.0f} ms "
            f"(a whole collect first), tcpdump {1000 * dump:.0f} ms"
        )
        print(f"tcpdump idle, no traffic: {100 * tcpdump_idle(10):.2f}% of a core")
        asyncio.run(tui_figures(collect_snapshot()))


if __name__ == "__main__":
    main()
