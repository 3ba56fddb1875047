"""Peak memory of cnet on big and hostile input: the bound is 10x the input + 100 MB.

A saved snapshot with N MB more, in its ``hostname`` or in its recorded rules' text (the
one field allowed to be long; the recorded lab's snapshot otherwise), read
by every loader (``snapshot --from`` in each format, ``doctor --from``, ``diff``, and the
TUI's ``--load`` up to its first frame), and one remote stream line of N MB read by the
``--host`` feed.  Each runs in a process of its own; its peak RSS is the kernel's
``ru_maxrss`` for that child alone.  A hostname over 64 KiB and rules over 16 MiB are
refused (that is the point: the refusal's peak is measured too).

Run:  .venv/bin/python bench/hostile_input.py [--mb 15 60] [--what hostname rules]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "tests" / "data" / "lab-snapshot.json"

TUI = """
import asyncio, sys
from inspector.render.snapshot_json import SnapshotFormatError, load_snapshot
from inspector.tui.app import make_app
try:
    snap = load_snapshot(sys.argv[1])
except SnapshotFormatError as exc:
    print(exc, file=sys.stderr); sys.exit(2)
async def run():
    async with make_app(snap).run_test(size=(160, 40)) as pilot:
        await pilot.pause()
asyncio.run(run())
"""

REMOTE = """
import sys, time
from inspector.remote.ssh import RemoteFeed, RemoteHost, Ssh
feed = RemoteFeed(Ssh(RemoteHost("big"), program=sys.argv[1]))
got = []
feed.start(got.append)
while len(got) < 1 and feed.lost is None:
    time.sleep(0.05)
time.sleep(0.2)
feed.stop()
print(feed.lost or "read", file=sys.stderr)
"""


def peak(argv: list[str]) -> tuple[int, float, int, str]:
    """Peak RSS (MB), seconds, exit code and last stderr line of ``argv`` run alone."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "err = p.stderr.decode('utf-8', 'replace').strip().splitlines()\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.monotonic() - t,"
        " p.returncode, (err or [''])[-1][:100], sep='\\t')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True
    ).stdout
    kb, seconds, code, last = out.rstrip("\n").split("\t")
    return int(kb) // 1024, float(seconds), int(code), last


def big_data(mb: int, what: str) -> dict[str, object]:
    """The recorded snapshot with ``mb`` MB more: in its hostname, or as recorded rules
    (the one field allowed to be long: a real iptables-save, repeated)."""
    data = json.loads(RECORDED.read_text())
    if what == "hostname":
        data["hostname"] = "h" * (mb * 1_000_000)
    else:
        rules = (ROOT / "tests" / "data" / "iptables-lab1.txt").read_text()
        text = (rules * (mb * 1_000_000 // len(rules) + 1))[: mb * 1_000_000]
        data["rulesets"] = [{"source": "iptables-save", "text": text}]
    return data


def big_snapshot(directory: Path, mb: int, what: str) -> Path:
    path = directory / f"{what}-{mb}mb.json"
    path.write_text(json.dumps(big_data(mb, what)))
    return path


def big_remote(directory: Path, mb: int, what: str) -> Path:
    from inspector.remote.ssh import handshake_line

    data = big_data(mb, what)
    status = {
        "reading": False,
        "kernel_events": True,
        "engine_events": True,
        "changed_at": time.time(),
        "reconcile": 30.0,
    }
    lines = directory / f"stream-{what}-{mb}mb"
    lines.write_text(f"{handshake_line()}\n{json.dumps({'status': status, 'snapshot': data})}\n")
    ssh = directory / f"ssh-{what}-{mb}mb"
    ssh.write_text(f"#!/bin/sh\ncat {lines}\nexec sleep 60\n")
    ssh.chmod(0o755)
    return ssh


def main() -> int:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[15, 60])
    parser.add_argument("--what", nargs="+", default=["hostname", "rules"])
    args = parser.parse_args()
    cnet = [sys.executable, "-m", "inspector"]
    print(f"{'input':<34} {'MB in':>6} {'peak MB':>8} {'bound':>6} {'s':>6}  exit  says")
    with tempfile.TemporaryDirectory(prefix="cnethx-bench-") as tmp:
        out = Path(tmp) / "out"
        for what, mb in [(w, m) for w in args.what for m in args.mb]:
            print(f"-- {mb} MB of {what}")
            snap = big_snapshot(Path(tmp), mb, what)
            size = snap.stat().st_size / 1e6
            runs = {
                "snapshot --from -f json": [*cnet, "snapshot", "--from", str(snap), "-o", str(out)],
                "snapshot --from -f html": [
                    *cnet,
                    "snapshot",
                    "--from",
                    str(snap),
                    "-f",
                    "html",
                    "-o",
                    str(out),
                ],
                "snapshot --from -f markdown": [
                    *cnet,
                    "snapshot",
                    "--from",
                    str(snap),
                    "-f",
                    "markdown",
                    "-o",
                    str(out),
                ],
                "doctor --from": [*cnet, "doctor", "--from", str(snap)],
                "diff SAVED SAVED": [*cnet, "diff", str(snap), str(snap)],
                "--load (TUI, first frame)": [sys.executable, "-c", TUI, str(snap)],
                "remote stream line": [
                    sys.executable,
                    "-c",
                    REMOTE,
                    str(big_remote(Path(tmp), mb, what)),
                ],
            }
            for name, argv in runs.items():
                rss, seconds, code, last = peak(argv)
                bound = int(10 * size + 100)
                flag = "" if rss <= bound else "  OVER"
                print(
                    f"{name:<34} {size:>6.1f} {rss:>8} {bound:>6} {seconds:>6.1f}  {code:>4}  "
                    f"{last[:60]}{flag}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
