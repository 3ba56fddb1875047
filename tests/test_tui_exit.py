"""Quitting never waits on a backend that hangs (iptables-save, a wedged Docker socket).

Run in a fresh process: thread workers live in asyncio's default executor, which
``App.run`` joins before it returns, so the only honest check is the process ending.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.cli import ROOT

HUNG_BACKENDS = textwrap.dedent(
    """
    import threading, time
    from inspector.tui.app import load_demo_snapshot, make_app

    started = threading.Event()
    never = threading.Event()

    def hung_doctor(snapshot, names, ping):
        started.set()
        never.wait(120)  # far beyond any test's patience
        return []

    app = make_app(load_demo_snapshot(), doctor=hung_doctor)

    def quit_once_hung():
        started.wait(30)
        time.sleep(0.3)  # the marks worker is now waiting on the hung call
        app.call_from_thread(app.exit)

    threading.Thread(target=quit_once_hung, daemon=True).start()
    begun = time.monotonic()
    app.run(headless=True)
    print(f"run returned; doctor started: {started.is_set()}; {time.monotonic() - begun:.1f} s")
    """
)


def test_quit_while_the_doctor_marks_hang_ends_the_process() -> None:
    # The timeout only guards against a hang: the hung call would keep it for 120 s.
    proc = subprocess.run(
        [sys.executable, "-c", HUNG_BACKENDS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "run returned; doctor started: True;" in proc.stdout
    assert "Traceback" not in proc.stderr
