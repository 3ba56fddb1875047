"""Quitting never waits on a backend that hangs (iptables-save, a wedged Docker socket)
or on an export to a FIFO nobody reads.

Run in a fresh process: ``App.run`` joins the executor its thread workers run in, and the
interpreter joins every ``ThreadPoolExecutor`` thread at exit, so the only honest check is
the process ending.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.cli import ROOT

HUNG_DOCKER = textwrap.dedent(
    """
    import threading, time
    import inspector.doctor.live as live
    from inspector.render.snapshot_json import load_demo_snapshot
    from inspector.tui.app import make_app
    from inspector.tui.backends import live_doctor

    started = threading.Event()
    never = threading.Event()

    def hung_networks(timeout=5.0):  # a wedged engine, beyond any timeout
        started.set()
        never.wait(120)
        return {}

    live.read_no_nat_networks = hung_networks
    # The real doctor for the marks: it reads the rules and asks Docker for its networks.
    app = make_app(load_demo_snapshot(), doctor=live_doctor)

    def quit_once_hung():
        started.wait(30)
        time.sleep(0.3)  # the marks worker now waits on the doctor, the doctor on Docker
        app.call_from_thread(app.exit)

    threading.Thread(target=quit_once_hung, daemon=True).start()
    app.run(headless=True)
    print(f"run returned; Docker was asked: {started.is_set()}")
    """
)


def test_quit_while_the_doctor_waits_on_docker_ends_the_process() -> None:
    # The timeout only guards against a hang: the hung call would keep it for 120 s.
    proc = subprocess.run(
        [sys.executable, "-c", HUNG_DOCKER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "run returned; Docker was asked: True" in proc.stdout
    assert "Traceback" not in proc.stderr


EXPORT_TO_A_FIFO = textwrap.dedent(
    """
    import os, sys, threading, time
    from functools import partial
    from inspector.render.snapshot_json import load_demo_snapshot
    from inspector.tui.app import make_app
    from inspector.tui.export import export_worker

    fifo = sys.argv[1]
    snapshot = load_demo_snapshot()
    app = make_app(snapshot)

    def waiting_for_a_reader():  # a thread of ours blocked in open(fifo), as the kernel says
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/wchan") as f:
                    if f.read() == "wait_for_partner":
                        return True
            except OSError:
                pass
        return False

    def export_then_quit():
        time.sleep(0.5)
        job = partial(export_worker, app, snapshot, None, {}, "json", fifo, False)
        app.call_from_thread(app.run_worker, job, thread=True, group="export")  # as e does
        deadline = time.monotonic() + 30
        while not waiting_for_a_reader() and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"blocked on the FIFO: {waiting_for_a_reader()}", flush=True)
        app.call_from_thread(app.exit)

    threading.Thread(target=export_then_quit, daemon=True).start()
    app.run(headless=True)
    print("run returned")
    """
)


def test_quit_while_an_export_waits_for_a_fifo_reader_ends_the_process(tmp_path: Path) -> None:
    fifo = tmp_path / "no-reader"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-c", EXPORT_TO_A_FIFO, str(fifo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "blocked on the FIFO: True\nrun returned" in proc.stdout
    assert "Traceback" not in proc.stderr
