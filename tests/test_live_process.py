"""The collecting child process: updates cross over, commands reach it, it never outlives
its parent, never writes to the terminal, and a crash is said in one line.

The child's feed is scripted here (``make``), so these need no engine; the live lab read
through a real child is in tests/test_tui_live.py.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.live.process import LiveProcess
from inspector.live.runner import LiveStatus, LiveUpdate
from inspector.model.snapshot import Snapshot

ROOT = Path(__file__).resolve().parent.parent
STATUS = LiveStatus(False, True, True, 0.0, 30.0)


class Scripted:
    """A feed for the child: the recorded snapshot at start, a new one on each refresh."""

    def __init__(self, snapshot: Snapshot, crash: bool = False) -> None:
        self.snapshot = snapshot
        self.crash = crash
        self.refreshes = 0
        self.publish: object = None

    def start(self, publish: object) -> None:
        self.publish = publish
        publish(LiveUpdate(self.snapshot, STATUS))  # type: ignore[operator]
        if self.crash:

            def boom() -> None:
                raise RuntimeError("the runner fell over")

            threading.Thread(target=boom).start()

    def refresh(self) -> None:
        self.refreshes += 1
        snap = replace(self.snapshot, hostname=f"refresh-{self.refreshes}")
        self.publish(LiveUpdate(snap, STATUS))  # type: ignore[operator]

    def stop(self) -> None:
        pass


def gone(pid: int, seconds: float = 10.0) -> bool:
    """The process no longer exists (reaped, or never our child), within a bound."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):  # reaped before or while reading
            return True
        if state == "Z":  # exited, not yet reaped by its parent
            return True
        time.sleep(0.02)
    return False


def next_update(updates: queue.Queue[LiveUpdate]) -> LiveUpdate:
    return updates.get(timeout=10)


def test_updates_cross_refresh_reaches_the_child_and_stop_ends_it(recorded: Snapshot) -> None:
    feed = LiveProcess(30, make=lambda _reconcile: Scripted(recorded))
    updates: queue.Queue[LiveUpdate] = queue.Queue()
    feed.start(updates.put)
    try:
        first = next_update(updates)
        assert first.snapshot == recorded  # the same picture, pickled across
        assert feed.pid != os.getpid()
        # the child leaves the terminal alone: its standard streams are /dev/null
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{feed.pid}/fd/{fd}") == "/dev/null"
        feed.refresh()
        assert next_update(updates).snapshot.hostname == "refresh-1"
        feed.refresh()
        assert next_update(updates).snapshot.hostname == "refresh-2"
    finally:
        feed.stop()
    assert gone(feed.pid)
    assert feed.lost is None  # stopped, not lost


def test_a_crash_in_the_child_is_one_line_and_the_last_picture_stays(
    recorded: Snapshot,
) -> None:
    feed = LiveProcess(30, make=lambda _reconcile: Scripted(recorded, crash=True))
    updates: queue.Queue[LiveUpdate] = queue.Queue()
    feed.start(updates.put)
    try:
        assert next_update(updates).snapshot == recorded
        stale = next_update(updates)
        assert feed.lost == "the collector failed: RuntimeError: the runner fell over"
        assert stale.snapshot.warnings[-1] == f"stale: {feed.lost}"
        assert not stale.status.kernel_events and not stale.status.engine_events
        assert stale.snapshot.containers == recorded.containers  # everything else kept
    finally:
        feed.stop()
    assert gone(feed.pid)


def test_the_child_never_outlives_its_parent(tmp_path: Path) -> None:
    """The parent killed outright (no stop, no cleanup): the child goes too."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from inspector.live.process import LiveProcess

            class Idle:
                def start(self, publish): pass
                def refresh(self): pass
                def stop(self): pass

            feed = LiveProcess(30, make=lambda _r: Idle())
            print(feed.pid, flush=True)
            time.sleep(600)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not gone(child, seconds=0.5)  # it runs while the parent does
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert gone(child)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_message_past_the_bound_ends_the_feed_instead_of_eating_memory() -> None:
    import socket
    import struct

    from inspector.live.process import MAX_MESSAGE, Channel

    a, b = socket.socketpair()
    try:
        a.sendall(struct.pack("!Q", MAX_MESSAGE + 1))
        with pytest.raises(OSError, match="a message of"):
            Channel(b).recv()
    finally:
        a.close()
        b.close()


def test_without_a_process_to_spare_the_tui_collects_in_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inspector.commands.tui import live_feed
    from inspector.live.runner import Live

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    feed = live_feed(30)
    assert isinstance(feed, Live)
