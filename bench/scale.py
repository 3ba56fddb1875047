"""Benchmark cnet at hundreds of ``ip netns`` namespaces, built where nothing else sees them.

Builds N namespaces (``cnetsc-nNNNN``), each with ``lo``, an ``eth0`` whose veth peer is a
port of one bridge (``cnetsc-br``), an address and a default route, and no traffic, and
measures at each count given with ``-n`` (built up in turn: 200, then 800 more for 1,000).

No traffic means no IPv6 link-local addresses (``addrgenmode none``).  With them
(``--chatter``), each namespace sends router solicitations for ever (no router answers;
the kernel backs off, up to an hour apart), and the bridge floods each one to every
port: at 1,000 namespaces every veth's counters move every few seconds, for as long as
the bench runs.  That is traffic, and the idle row then measures the rates of 1,000
moving rows.

It measures:

- ``cnet snapshot`` (the whole process: wall time and peak RSS);
- the live TUI in tmux (120x40): first namespace rows on screen and every namespace read
  (the status line stops saying "reading every namespace"), the first launch cold and
  the median of the others; idle CPU of the TUI and its collecting child over ``--idle``
  seconds once settled; their peak RSS (``VmHWM``, added);
- ``cnet doctor --no-ping`` (wall time);
- a scrape of a real ``cnet exporter`` once it has every namespace (time and bytes):
  back to back, then each 1.1 s after the last (the numbers read again), then so and
  as Prometheus asks (OpenMetrics, gzip).

Isolation: the bench re-executes itself under ``unshare -m -p`` (a private mount
namespace with a tmpfs of its own on /run/netns, and a pid namespace with its own /proc),
then moves into a "bench host" network namespace (``cnetsc-root``) before anything is
built or started.  The bridge, the host ends of the veths, tmux's server and every cnet
process live there; the real host's ``ip netns``, ``ip link`` and mount table never show
them, and every namespace dies with the bench's mount namespace (also on Ctrl-C).  Docker
is not asked (``DOCKER_HOST`` points nowhere): the namespaces are the whole picture.

Run as root:  .venv/bin/python bench/scale.py [-n 200 -n 1000] [--idle 30] [--runs 3]
                                   [--compare /work/main/.venv/bin/cnet] [--tui-only | --exporter-only]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live import cpu_seconds, peak_rss_mb  # noqa: E402

PREFIX = "cnetsc-"
ROOT_NS = f"{PREFIX}root"
BRIDGE = f"{PREFIX}br"
RUN_ID = os.environ.setdefault("CNETSC_RUN", str(os.getpid()))
"""One per bench (set by the outer process, kept by the isolated one): two benches run at
once (other worktrees) never share tmux's server or the snapshot file."""
TMUX = ["tmux", "-S", f"/tmp/{PREFIX}tmux-{RUN_ID}.sock"]
SNAP = f"/tmp/{PREFIX}snap-{RUN_ID}.json"
SESSION = "cnetsc"
CLONE_NEWNET = 0x40000000
ENV = {
    **os.environ,
    "DOCKER_HOST": "unix:///nonexistent",
    "TERM": "xterm-256color",
}
CNET = str(Path(sys.executable).with_name("cnet"))
EXPORTER_PORT = 19877
PROMETHEUS_ASKS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
}
"""The headers of Prometheus 2's scrapes."""


def ns_name(k: int) -> str:
    return f"{PREFIX}n{k:04d}"


def address(k: int) -> str:
    """10.77.0.0/16: the bridge is .0.1, namespace k is 10.77.(k // 250 + 1).(k % 250 + 2)."""
    return f"10.77.{k // 250 + 1}.{k % 250 + 2}/16"


def run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(list(args), input=stdin, capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


# -- isolation ---------------------------------------------------------------------------


def reexec_isolated(argv: list[str]) -> int:
    """Run this bench again under a private mount and pid namespace; say what is left."""
    cmd = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--mount-proc",
        sys.executable,
        __file__,
        "--inside",
        *argv,
    ]
    try:
        code = subprocess.run(cmd, check=False).returncode
    except KeyboardInterrupt:
        code = 130
    left = [
        line
        for what in (["ip", "netns"], ["ip", "-o", "link"])
        for line in subprocess.run(what, capture_output=True, text=True).stdout.splitlines()
        if PREFIX in line
    ]
    if left:
        print(f"LEFT BEHIND on the host: {left}", file=sys.stderr)
        return 1
    print("nothing named cnetsc- is left on the host (ip netns, ip link)", file=sys.stderr)
    return code


def enter_bench_host() -> None:
    """Every namespace mount of the host out of this (private) mount table, a tmpfs of
    our own on /run/netns, then this process (its one thread) moves into a
    new namespace kept there: every child (ip, tmux, cnet) starts in it."""
    from inspector.collect.discover import nsfs_mounts

    for point in nsfs_mounts(Path("/proc/self/mountinfo").read_text()):
        run("umount", "-l", point)  # other namespaces' mounts: gone from this view only
    run("mount", "-t", "tmpfs", f"{PREFIX}netns", "/run/netns")
    run("ip", "netns", "add", ROOT_NS)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ROOT_NS}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise SystemExit(f"setns: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
    run("ip", "link", "set", "lo", "up")
    run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "link", "set", BRIDGE, "addrgenmode", "none")
    run("ip", "addr", "add", "10.77.0.1/16", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")


def build(first: int, last: int, chatter: bool = False) -> float:
    """Namespaces ``first`` to ``last - 1``: the namespaces and veths in one ``ip -batch``,
    then each one's inside (addresses, routes) in one ``ip -n NAME -batch`` per namespace.
    ``chatter``: IPv6 link-local addresses, and their router solicitations, on eth0."""
    t0 = time.monotonic()
    quiet = "" if chatter else "link set eth0 addrgenmode none\n"
    lines = []
    for k in range(first, last):
        n, veth = ns_name(k), f"{PREFIX}v{k:04d}"
        lines += [
            f"netns add {n}",
            f"link add {veth} type veth peer name eth0 netns {n}",
            f"link set {veth} addrgenmode none",  # a bridge port has no address of its own
            f"link set {veth} master {BRIDGE} up",
        ]
    run("ip", "-batch", "-", stdin="\n".join(lines) + "\n")
    procs: list[subprocess.Popen[str]] = []
    for k in range(first, last):
        script = (
            f"link set lo up\n{quiet}link set eth0 up\naddr add {address(k)} dev eth0\n"
            "route add default via 10.77.0.1\n"
        )
        p = subprocess.Popen(
            ["ip", "-n", ns_name(k), "-batch", "-"], stdin=subprocess.PIPE, text=True
        )
        assert p.stdin is not None
        p.stdin.write(script)
        p.stdin.close()
        procs.append(p)
        if len(procs) >= 4 and procs.pop(0).wait() != 0:
            raise SystemExit("configuring a namespace failed")
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("configuring a namespace failed")
    return time.monotonic() - t0


# -- measures ----------------------------------------------------------------------------


def timed(*args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one cnet process, output discarded."""
    t0 = time.monotonic()
    p = subprocess.Popen(list(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1):  # the doctor says 1 when a check fails
        assert p.stderr is not None
        raise SystemExit(f"{' '.join(args)} exited {p.returncode}: {p.stderr.read()!r}")
    return wall, usage.ru_maxrss / 1024


def tmux(*args: str) -> str:
    return subprocess.run(
        [*TMUX, *args], capture_output=True, text=True, check=False, env=ENV
    ).stdout


def wait_screen(text: str, seconds: float, absent: bool = False) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        shown = tmux("capture-pane", "-p", "-t", SESSION)
        if (text in shown) != absent:
            return time.monotonic()
        if tmux("display", "-p", "-t", SESSION, "#{pane_dead}").strip() == "1":
            raise SystemExit(f"cnet exited while waiting for {text!r}:\n{shown}")
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {text!r}; screen:\n{tmux('capture-pane', '-p')}")


@contextlib.contextmanager
def tmux_session() -> Iterator[None]:
    tmux("kill-server")
    subprocess.run(
        [*TMUX, "new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40"], env=ENV, check=True
    )
    tmux("set-option", "-t", SESSION, "remain-on-exit", "on")
    try:
        yield
    finally:
        tmux("kill-server")


def span(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    lo, hi = min(values) * scale, max(values) * scale
    med = statistics.median(values) * scale
    if len(values) == 1:
        return f"{med:.2f} {unit}"
    return f"{med:.2f} {unit} ({lo:.2f}-{hi:.2f})"


def measure(n: int, args: argparse.Namespace, cnet: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if args.tui_only:
        out.update(measure_tui(n, args, cnet))
        return out
    if args.exporter_only:
        out.update(measure_exporter(n, args, cnet))
        return out
    snaps = [timed(cnet, "snapshot", "-o", SNAP) for _ in range(args.runs)]
    listed = json.loads(Path(SNAP).read_text())["containers"]
    got = sum(c["name"].startswith(f"{PREFIX}n") for c in listed)
    if got != n:
        raise SystemExit(f"cnet snapshot listed {got} of the {n} namespaces")
    out["cnet snapshot"] = f"{span([w for w, _ in snaps])}, {span([m for _, m in snaps], 'MB')}"
    if args.spy:  # one more, sampled (py-spy starts it; its time is not counted)
        spied = f"/tmp/{PREFIX}spy-{RUN_ID}-{n}-snapshot.txt"
        subprocess.run(
            [
                args.spy,
                "record",
                "--subprocesses",
                "--rate",
                "250",
                "--format",
                "raw",
                "-o",
                spied,
                "--",
                cnet,
                "snapshot",
                "-o",
                SNAP,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=ENV,
            check=False,
        )
        print(f"py-spy samples of cnet snapshot: {spied}", file=sys.stderr)
    docs = [timed(cnet, "doctor", "--no-ping")[0] for _ in range(args.runs)]
    out["cnet doctor --no-ping"] = span(docs)
    out.update(measure_tui(n, args, cnet))
    out.update(measure_exporter(n, args, cnet))
    return out


def measure_tui(n: int, args: argparse.Namespace, cnet: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with tmux_session():
        firsts, reads = [], []
        pid = 0
        for _ in range(args.launches):
            if pid:
                stop(pid)  # tmux's SIGHUP leaves the TUI running, reading, on the cores
            t0 = time.monotonic()
            tmux(
                "respawn-pane",
                "-k",
                "-t",
                SESSION,
                f"exec env DOCKER_HOST=unix:///nonexistent {cnet}",
            )
            pid = int(tmux("list-panes", "-t", SESSION, "-F", "#{pane_pid}").strip())
            firsts.append(wait_screen(f"{PREFIX}n", 60) - t0)
            reads.append(wait_screen("reading every namespace", 120, absent=True) - t0)
        warm = f", then {span(firsts[1:])}" if firsts[1:] else ""
        out["TUI: first rows"] = f"{firsts[0]:.2f} s cold{warm}"
        warm = f", then {span(reads[1:])}" if reads[1:] else ""
        out["TUI: every namespace listed and read"] = f"{reads[0]:.2f} s cold{warm}"
        time.sleep(args.quiet)  # the doctor's marks of the whole picture, then quiet
        idles = []
        for _ in range(args.idle_runs):
            spy = None
            if args.spy:  # samples of the idle window, both processes (it costs a little CPU)
                out_file = f"/tmp/{PREFIX}spy-{RUN_ID}-{n}.txt"
                spy = subprocess.Popen(
                    [
                        args.spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--subprocesses",
                        "--nonblocking",
                        "--duration",
                        str(int(args.idle)),
                        "--format",
                        "raw",
                        "-o",
                        out_file,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            before = cpu_seconds(pid)
            time.sleep(args.idle)
            idles.append((cpu_seconds(pid) - before) / args.idle * 100)
            if spy is not None:
                spy.wait()
                print(f"py-spy samples of the idle TUI: {out_file}", file=sys.stderr)
        out[f"TUI idle, settled, over {args.idle:g} s"] = span(idles, "% of a core")
        out["TUI + collector peak RSS"] = f"{peak_rss_mb(pid):.0f} MB"
        stop(pid)
    return out


def stop(pid: int) -> None:
    """End a TUI launched in the pane, as its user's ``q`` would (SIGTERM), then kill it:
    one left running would measure on the next launch's cores."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def measure_exporter(n: int, args: argparse.Namespace, cnet: str) -> dict[str, str]:
    out: dict[str, str] = {}
    exporter = subprocess.Popen(
        [cnet, "exporter", "--listen", f"127.0.0.1:{EXPORTER_PORT}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        url = f"http://127.0.0.1:{EXPORTER_PORT}/metrics"
        # Until the first full pass is over (its duration is exported) and the doctor's
        # verdicts cover every namespace (the last one's checks are there).
        wanted = (
            b"\ncnet_collect_duration_seconds ",
            f'check="interface",container="{ns_name(n - 1)}"'.encode(),
        )
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(OSError):
                text = urllib.request.urlopen(url, timeout=10).read()
                if all(w in text for w in wanted):
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the exporter never listed every namespace")
            time.sleep(0.5)
        times, size = [], 0
        for _ in range(args.runs * 3):
            t0 = time.perf_counter()
            size = len(urllib.request.urlopen(url, timeout=10).read())
            times.append(time.perf_counter() - t0)
        out["exporter scrape"] = f"{span(times, 'ms', 1000)}, {size / 1e3:.0f} kB of text"
        # Each in a new second: the numbers are read again (the exporter keeps a text
        # for a second), first as above, then as Prometheus asks (OpenMetrics, gzip).
        for row, headers in (
            ("exporter scrape, 1.1 s apart", {}),
            ("exporter scrape, 1.1 s apart, as Prometheus asks", PROMETHEUS_ASKS),
        ):
            times = []
            for _ in range(args.runs * 2):
                time.sleep(1.1)
                t0 = time.perf_counter()
                size = len(
                    urllib.request.urlopen(
                        urllib.request.Request(url, headers=headers), timeout=10
                    ).read()
                )
                times.append(time.perf_counter() - t0)
            # the first in a format builds that format's parts (then the warming thread
            # keeps them): said apart, not hidden in the range
            first = f"the first {times[0] * 1000:.0f} ms, then "
            out[row] = f"{first}{span(times[1:], 'ms', 1000)}, {size / 1e3:.0f} kB"
    finally:
        exporter.terminate()
        try:  # a SIGTERM that lands on another thread than the main one can wait an hour
            exporter.wait(timeout=10)
        except subprocess.TimeoutExpired:
            exporter.kill()
            exporter.wait()
    return out


def inside(args: argparse.Namespace) -> int:
    enter_bench_host()
    built = 0
    results: dict[str, dict[str, str]] = {}
    cnets = [("", CNET)] + [(f" ({path})", path) for path in args.compare]
    for n in sorted(args.namespaces):
        seconds = build(built, n, args.chatter)
        print(f"built namespaces {built}..{n - 1} in {seconds:.1f} s", file=sys.stderr)
        built = n
        time.sleep(args.settle)
        for label, cnet in cnets:  # one after the other: the same noisy minutes for each
            column = f"at {n:,}{label}"
            results[column] = measure(n, args, cnet)
            print(f"\n{column}:", file=sys.stderr)
            for name, value in results[column].items():
                print(f"  {name:<40} {value}", file=sys.stderr)
    traffic = "IPv6 router solicitations on every port" if args.chatter else "no traffic"
    print(
        f"\ncnet at N ip-netns namespaces ({traffic}), {args.runs} runs, "
        f"{args.launches} TUI launches\n"
    )
    names = list(next(iter(results.values())))
    print("| | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        print(f"| {name} | " + " | ".join(r[name] for r in results.values()) + " |")
    with contextlib.suppress(OSError):
        os.unlink(SNAP)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--namespaces", type=int, action="append")
    parser.add_argument("-r", "--runs", type=int, default=3)
    parser.add_argument("--launches", type=int, default=3, help="TUI launches; the first is cold")
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--idle-runs", type=int, default=1)
    parser.add_argument("--quiet", type=float, default=10.0, help="wait after the first read")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="CNET",
        help="also measure this cnet (another checkout's .venv/bin/cnet), after this one",
    )
    parser.add_argument(
        "--exporter-only", action="store_true", help="only the exporter's scrape row"
    )
    parser.add_argument("--tui-only", action="store_true", help="measure only the live TUI")
    parser.add_argument(
        "--spy", metavar="PY_SPY", help="py-spy's path: record the idle window (raw stacks)"
    )
    parser.add_argument(
        "--chatter",
        action="store_true",
        help="IPv6 link-local on each eth0: router solicitations flood the bridge's ports",
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.namespaces is None:
        args.namespaces = [200, 1000]
    if max(args.namespaces) > 1000:
        raise SystemExit("at most 1000: a bridge takes 1024 ports")
    if os.geteuid() != 0:
        raise SystemExit("run as root: it makes namespaces")
    if not args.inside:
        return reexec_isolated(sys.argv[1:])
    return inside(args)


if __name__ == "__main__":
    sys.exit(main())
