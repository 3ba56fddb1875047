"""SIGTERM, SIGHUP and SIGINT end cnet the ordinary way: terminal restored, children gone.

The TUI runs in a real pseudo-terminal; what it writes there is read back, so the checks
are the escape sequences a terminal would get (alternate screen left, mouse tracking
off).  Child processes are found with psutil before the signal and must all have ended
when cnet has: ``podman events`` must not be left to pid 1.
"""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.cli import ROOT

LEAVE_ALT_SCREEN = b"\x1b[?1049l"
ENTER_ALT_SCREEN = b"\x1b[?1049h"
MOUSE_OFF = (b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1006l")
GUARD_S = 60.0
"""Only against a hang: how long to wait for something that should come."""


def wait_for(what: str, ready: Callable[[], object]) -> object:
    deadline = time.monotonic() + GUARD_S
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


class Terminal:
    """``cnet ARGS`` on the slave side of a pty; everything it writes is kept."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env={**os.environ, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self._master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: every writer closed the slave
                return
            if not data:
                return
            self.output.extend(data)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        os.close(self._master)


@contextmanager
def terminal(*args: str) -> Iterator[Terminal]:
    term = Terminal(*args)
    try:
        yield term
    finally:
        term.close()


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def descendants_named(pid: int, name: str, first_arg: str | None = None) -> list[psutil.Process]:
    found = []
    for p in descendants(pid):
        try:
            if p.name() == name and (first_arg is None or p.cmdline()[1:2] == [first_arg]):
                found.append(p)
        except psutil.Error:  # ended meanwhile
            continue
    return found


def podman_events(pid: int) -> list[psutil.Process]:
    return descendants_named(pid, "podman", "events")


def still_running(procs: list[psutil.Process]) -> list[str]:
    """Each process that has not ended (a zombie has ended), with its parent."""
    left = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {p.cmdline()} (parent {p.ppid()})")
        except psutil.NoSuchProcess:
            continue
    return left


def live_problem() -> str | None:
    if os.geteuid() != 0:
        return "needs root: cnet starts podman events only as root"
    if shutil.which("podman") is None:
        return "podman is not installed"
    return None


def assert_restored(term: Terminal, since: int) -> None:
    after = bytes(term.output[since:])
    assert LEAVE_ALT_SCREEN in after, after[-300:]
    for seq in MOUSE_OFF:
        assert seq in after, (seq, after[-300:])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_restores_the_terminal_and_exits_128_plus_n(sig: signal.Signals) -> None:
    with terminal("--demo") as term:
        wait_for("the TUI took the terminal", lambda: ENTER_ALT_SCREEN in term.output)
        wait_for("mouse tracking on", lambda: b"\x1b[?1000h" in term.output)
        since = len(term.output)
        term.proc.send_signal(sig)
        assert term.proc.wait(GUARD_S) == 128 + sig
        term._reader.join(GUARD_S)
        assert_restored(term, since)
        assert b"Traceback" not in term.output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_live_tui_leaves_no_process_behind(sig: signal.Signals) -> None:
    """The live TUI: its collecting child and that child's podman events end with it."""
    problem = live_problem()
    if problem:
        pytest.skip(problem)
    with terminal() as term:
        wait_for("the TUI took the terminal", lambda: ENTER_ALT_SCREEN in term.output)
        wait_for("podman events started", lambda: podman_events(term.proc.pid))
        before = descendants(term.proc.pid)
        since = len(term.output)
        term.proc.send_signal(sig)
        assert term.proc.wait(GUARD_S) == 128 + sig
        term._reader.join(GUARD_S)
        assert_restored(term, since)
        assert still_running(before) == []


@pytest.mark.parametrize(
    ("command", "sig"),
    [("exporter", signal.SIGHUP), ("exporter", signal.SIGTERM), ("stream", signal.SIGTERM)],
)
def test_long_running_commands_stop_their_children(command: str, sig: signal.Signals) -> None:
    problem = live_problem()
    if problem:
        pytest.skip(problem)
    args = ["exporter", "--listen", "127.0.0.1:0"] if command == "exporter" else [command]
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,  # the stream ends at the end of stdin: keep it open
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for("podman events started", lambda: podman_events(proc.pid))
        before = descendants(proc.pid)
        proc.send_signal(sig)
        assert proc.wait(GUARD_S) == 128 + sig
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
        assert still_running(before) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_remote_command_stops_its_ssh(tmp_path: Path, sig: signal.Signals) -> None:
    """A one-shot command (``--host H snapshot``) unwinds on the signal: its ssh (a fake
    that says the version, then waits) ends with it."""
    from inspector import __version__

    ssh = tmp_path / "ssh"
    ssh.write_text(f'#!/bin/sh\necho "cnet {__version__}"\nexec sleep 300\n')
    ssh.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--host", "ssh://cnetse-nowhere", "snapshot"],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for("the fake ssh is waiting", lambda: descendants_named(proc.pid, "sleep"))
        sleeping = descendants_named(proc.pid, "sleep")
        proc.send_signal(sig)
        assert proc.wait(GUARD_S) == 128 + sig
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
        assert still_running(sleeping) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_every_child_process_is_started_through_children() -> None:
    """A ``subprocess.run``/``Popen`` elsewhere would be a child ``stop_all`` cannot see."""
    import ast

    direct = []
    for path in sorted((ROOT / "inspector").rglob("*.py")):
        if path.name == "children.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (node.func.value.id, node.func.attr)
                in {
                    ("subprocess", n)
                    for n in ("run", "Popen", "call", "check_call", "check_output")
                }
                | {("os", n) for n in ("system", "popen", "posix_spawn", "posix_spawnp")}
            ):
                direct.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert direct == [], "start children with inspector.collect.children.Child or run"
