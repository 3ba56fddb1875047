"""Benchmark the live TUI as an operator meets it: a real ``cnet`` in tmux over N containers.

Measures, from outside the process (tmux ``capture-pane`` polled every 20 ms, ``/proc``):

- first container rows on screen after launch, and every namespace read (the status line
  stops saying "reading every namespace"), over ``--launches`` launches: the first one
  cold, the median of the others;
- CPU of the idle, live TUI over ``--idle`` seconds (``/proc/PID/stat``), which covers one
  of the 30 s reconciliations;
- ``docker run`` to its row on screen, from the moment ``docker run`` returns (the
  container is started) and from its invocation, median of ``--runs``;
- peak RSS (``VmHWM``).

Starts N containers (prefix ``cnetbench-``, removed one at a time afterwards).  Run as root
with an engine:  .venv/bin/python bench/live.py -n 200
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.containers import remove_bench_containers, start_bench_containers  # noqa: E402
from tests.lab import IMAGE, remove_one_at_a_time, sh  # noqa: E402

SESSION = "cnetbench"
TICKS = os.sysconf("SC_CLK_TCK")


def screen() -> str:
    return sh("tmux", "capture-pane", "-p", "-t", SESSION, check=False)


def pane_dead() -> bool:
    return sh("tmux", "display", "-p", "-t", SESSION, "#{pane_dead}", check=False).strip() == "1"


def wait_screen(text: str, seconds: float, absent: bool = False) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        shown = screen()
        if (text in shown) != absent:
            return time.monotonic()
        if pane_dead():
            raise SystemExit(f"cnet exited while waiting for {text!r}; its last screen:\n{shown}")
        time.sleep(0.02)
    raise SystemExit(
        f"timed out waiting for {text!r} {'to go' if absent else 'on screen'}; screen:\n{screen()}"
    )


def family(pid: int) -> list[int]:
    """``pid`` and its living children: the TUI and its collecting process."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children.extend(int(c) for c in (task / "children").read_text().split())
    return [pid, *children]


def cpu_seconds(pid: int) -> float:
    """User and system time of ``pid``, of its living children (the collecting process)
    and of the children each waited for (podman, iptables-save): the TUI's whole cost."""
    total = 0
    for member in family(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15])
    return total / TICKS


def app_pid() -> int:
    shell = sh("tmux", "list-panes", "-t", SESSION, "-F", "#{pane_pid}").strip()
    return int(shell)


def peak_rss_mb(pid: int) -> float:
    """The TUI's and its collecting process's peaks, added (pages they share counted twice)."""
    total = 0
    for member in family(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--containers", type=int, default=75)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--idle", type=float, default=60.0, help="covers one 30 s reconciliation")
    parser.add_argument("--quiet", type=float, default=10.0, help="wait after the first read")
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--launches", type=int, default=4, help="the first is cold")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the containers running afterwards, and reuse them if already there",
    )
    args = parser.parse_args()

    start_bench_containers(args.containers, reuse=args.keep)
    cnet = shlex.quote(str(Path(sys.executable).with_name("cnet")))
    results: dict[str, str] = {}
    try:
        time.sleep(args.settle)
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
        sh("tmux", "new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40")
        sh("tmux", "set-option", "-t", SESSION, "remain-on-exit", "on")
        firsts: list[float] = []
        all_reads: list[float] = []
        for _ in range(args.launches):  # the first one is cold: this machine drops its
            t0 = time.monotonic()  # page cache, and Python's files are read from disk again
            sh("tmux", "respawn-pane", "-k", "-t", SESSION, f"exec {cnet}")
            pid = app_pid()
            firsts.append(wait_screen("cnetbench-", 30) - t0)
            all_reads.append(wait_screen("reading every namespace", 60, absent=True) - t0)
        for what, times in (
            ("first container rows after launch", firsts),
            ("every namespace read after launch", all_reads),
        ):
            warm = f", then {statistics.median(times[1:]) * 1000:.0f} ms" if times[1:] else ""
            results[what] = f"{times[0] * 1000:.0f} ms cold{warm} (median of the rest)"
        time.sleep(args.quiet)  # the doctor's marks of the complete picture, then quiet
        before = cpu_seconds(pid)
        time.sleep(args.idle)
        idle = (cpu_seconds(pid) - before) / args.idle * 100
        results[f"idle CPU over {args.idle:g} s"] = f"{idle:.2f} % of a core"

        sh("tmux", "send-keys", "-t", SESSION, "/")
        time.sleep(0.5)  # the filter field has focus only once it is shown
        sh("tmux", "send-keys", "-t", SESSION, "-l", "cnetbench-lat")
        sh("tmux", "send-keys", "-t", SESSION, "Enter")
        time.sleep(1)
        after_start: list[float] = []
        after_invoke: list[float] = []
        for i in range(args.runs):
            name = f"cnetbench-lat{i}"
            invoked = time.monotonic()
            sh("docker", "run", "-d", "--name", name, IMAGE, "sleep", "86400")
            started = time.monotonic()
            seen = wait_screen(name, 10)
            after_start.append(seen - started)
            after_invoke.append(seen - invoked)
            time.sleep(0.5)
        results["docker run returned -> its row on screen (median)"] = (
            f"{statistics.median(after_start) * 1000:.0f} ms (max {max(after_start) * 1000:.0f})"
        )
        results["docker run invoked -> its row on screen (median)"] = (
            f"{statistics.median(after_invoke) * 1000:.0f} ms"
        )
        results["peak RSS"] = f"{peak_rss_mb(pid):.0f} MB"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
        print("removing containers ...", file=sys.stderr)
        if args.keep:  # the latency runs' own go: the rest are reused
            remove_one_at_a_time(
                sh("docker", "ps", "-aq", "--filter", "name=^/cnetbench-lat", check=False).split()
            )
        else:
            remove_bench_containers()
    running = len(sh("docker", "ps", "-q").split())
    print(f"\nlive TUI, {running} running containers (after removal), 120x40 in tmux\n")
    for name, value in results.items():
        print(f"  {name:<52} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
