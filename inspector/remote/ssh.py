"""cnet on another host, through the system's ``ssh``.

``ssh`` is run as a subprocess (so ``~/.ssh/config``, agents and jump hosts work), in
batch mode (it never prompts) and with a connect timeout.  A one-shot command
(``snapshot``, ``doctor``, ``rules``, ``ping``) runs ``cnet --version`` then the same
subcommand there, and its output and exit code are relayed.  The TUI's ``RemoteFeed``
runs ``cnet stream`` there: a handshake line naming the version, then one JSON line per
live update (``inspector.commands.stream``).

Everything read from the remote is bounded: lines longer than ``MAX_LINE`` end the
connection, and ssh's own messages keep only their last ``MAX_STDERR`` bytes.  Every
failure becomes one ``RemoteError`` line naming the host.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import IO, Any

from inspector import __version__
from inspector.live.runner import LiveStatus, LiveUpdate, stale_update
from inspector.render.snapshot_json import from_dict

PROTOCOL = 1
CONNECT_TIMEOUT_S = 10
HANDSHAKE_TIMEOUT_S = 30.0
MAX_LINE = 64 * 1024 * 1024
"""The longest line taken from a remote: the largest snapshot cnet reads."""
MAX_STDERR = 16 * 1024
CHUNK = 64 * 1024
SSH_FAILED = 255
NOT_FOUND = 127


class RemoteError(Exception):
    """A remote host that could not be used; the message is one line naming it."""


@dataclass(frozen=True)
class RemoteHost:
    """``ssh://[user@]host[:port]``."""

    host: str
    user: str | None = None
    port: int | None = None

    @property
    def label(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


def parse_host(text: str) -> RemoteHost:
    """The ``--host`` value; ValueError says in one line what is wrong."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme != "ssh":
        raise ValueError(f"--host wants ssh://[user@]host[:port], got {text!r}")
    user, at, hostport = rest.rpartition("@")
    host, port_text = hostport, ""
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else tail
    elif hostport.count(":") == 1:
        host, _, port_text = hostport.partition(":")
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"--host {text}: not a port: {port_text!r}")
        port = int(port_text)
    bad = set(" /?#'\"\\") & set(host + user)
    if not host or host.startswith("-") or user.startswith("-") or (at and not user) or bad:
        raise ValueError(f"--host {text}: not a host name")
    return RemoteHost(host, user or None, port)


@dataclass(frozen=True)
class Ssh:
    """How to reach a host: the ``ssh`` program, an optional config file, the remote cnet."""

    host: RemoteHost
    remote_command: str = "cnet"
    config: str | None = None
    program: str = "ssh"

    def argv(self, remote: Sequence[str]) -> list[str]:
        """The ssh command line running the shell command ``remote`` there."""
        argv = [self.program, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}"]
        if self.config is not None:
            argv += ["-F", self.config]
        if self.host.port is not None:
            argv += ["-p", str(self.host.port)]
        if self.host.user is not None:
            argv += ["-l", self.host.user]
        return [*argv, "--", self.host.host, " ".join(remote)]

    def cnet(self, *args: str) -> str:
        """The remote cnet with ``args``, quoted for the remote's shell."""
        return " ".join(shlex.quote(a) for a in (self.remote_command, *args))


class LineReader:
    """Lines from a pipe, at most ``limit`` bytes each, with a deadline: memory stays
    bounded whatever the remote sends."""

    def __init__(self, stream: IO[bytes], limit: int = MAX_LINE) -> None:
        self._fd = stream.fileno()
        self._limit = limit
        self._buffer = bytearray()
        self.eof = False

    def readline(self, timeout: float | None = None) -> bytes | None:
        """The next line without its newline; None at the end of the stream.
        TimeoutError after ``timeout`` seconds, ValueError for a line over the limit."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > self._limit:
                raise ValueError(f"a line longer than {self._limit} bytes")
            if self.eof:
                return None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                    raise TimeoutError
            data = os.read(self._fd, CHUNK)
            if not data:
                self.eof = True
                if self._buffer:
                    raise ValueError("the stream ended in the middle of a line")
            self._buffer += data


class StderrTail:
    """Drains a pipe on a daemon thread, keeping only its last ``MAX_STDERR`` bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._tail = b""
        self._thread = threading.Thread(target=self._drain, daemon=True, name="cnet-ssh-stderr")
        self._thread.start()

    def _drain(self) -> None:
        while data := self._stream.read1(CHUNK):  # type: ignore[attr-defined]
            self._tail = (self._tail + data)[-MAX_STDERR:]

    def text(self, wait: float = 2.0) -> str:
        self._thread.join(wait)
        return self._tail.decode("utf-8", "replace")

    def last_line(self, wait: float = 2.0) -> str:
        lines = [line.strip() for line in self.text(wait).splitlines() if line.strip()]
        return lines[-1] if lines else ""


def failure(ssh: Ssh, code: int | None, stderr: StderrTail, what: str = "") -> RemoteError:
    """Why the remote command ended, as one line naming the host."""
    label = ssh.host.label
    last = stderr.last_line()
    if code == SSH_FAILED:
        return RemoteError(f"{label}: cannot connect with ssh: {last or 'ssh failed'}")
    if code == NOT_FOUND:
        return RemoteError(
            f"{label}: no {ssh.remote_command} there ({last or 'command not found'}); "
            "give --remote-command PATH"
        )
    detail = what or last or f"exit code {code}"
    return RemoteError(f"{label}: {ssh.remote_command} did not run: {detail}")


def check_version(ssh: Ssh, line: str) -> None:
    """``cnet X`` must be this cnet's version: the stream's shape depends on it."""
    if line != f"cnet {__version__}":
        theirs = line[:80] or "nothing"
        raise RemoteError(
            f"{ssh.host.label}: {ssh.remote_command} says {theirs!r}, this is cnet {__version__}: "
            "install the same version there"
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def run_command(ssh: Ssh, args: Sequence[str], out: IO[bytes] | None = None) -> int:
    """Run ``cnet ARGS`` on the host; its stdout is copied to ``out`` as it comes, its
    stderr after it ends; returns its exit code.  RemoteError when it could not run."""
    out = out if out is not None else sys.stdout.buffer
    remote = [ssh.cnet("--version"), "&&", "exec", ssh.cnet(*args)]
    proc = subprocess.Popen(
        ssh.argv(remote), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr = StderrTail(proc.stderr)
    try:
        reader = LineReader(proc.stdout, limit=256)
        try:
            first = reader.readline(HANDSHAKE_TIMEOUT_S)
        except (TimeoutError, ValueError) as exc:
            raise failure(ssh, proc.poll(), stderr, f"no version line ({exc})") from None
        if first is None:
            raise failure(ssh, proc.wait(CONNECT_TIMEOUT_S * 3), stderr)
        check_version(ssh, first.decode("utf-8", "replace").strip())
        rest = bytes(reader._buffer)
        if rest:
            out.write(rest)
        while data := os.read(proc.stdout.fileno(), CHUNK):
            out.write(data)
            out.flush()
        code = proc.wait()
    finally:
        _stop(proc)
    if code in (SSH_FAILED, NOT_FOUND):
        raise failure(ssh, code, stderr)
    sys.stderr.write(stderr.text())
    return code


FLAGS = frozenset({"reading", "kernel_events", "engine_events"})
"""LiveStatus's booleans; its other fields are numbers."""


def update_from_json(data: Any) -> LiveUpdate:
    """One stream line's object as a LiveUpdate; ValueError when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
        raise ValueError("not a cnet stream update")
    status = data["status"]
    values: dict[str, Any] = {}
    for f in fields(LiveStatus):
        value = status.get(f.name)
        flag = f.name in FLAGS
        if isinstance(value, bool) != flag or not isinstance(value, (int, float)):
            raise ValueError(f"a stream update's status.{f.name} is not a {f.type}")
        values[f.name] = value if flag else float(value)
    return LiveUpdate(from_dict(data.get("snapshot")), LiveStatus(**values))


def handshake_line() -> str:
    return json.dumps({"cnet": "stream", "version": __version__, "protocol": PROTOCOL})


class RemoteFeed:
    """A Feed over ``cnet stream`` on a remote host (inspector/live/feed.py's protocol).

    ``open()`` connects and checks the handshake (RemoteError when it cannot), so the CLI
    fails with one line before the terminal switches to the UI; ``start`` then reads the
    updates on a daemon thread.  ``refresh`` asks the remote for a full read.  When the
    connection ends the last snapshot is published again, marked stale.
    """

    def __init__(self, ssh: Ssh, interval: float = 30.0) -> None:
        self.ssh = ssh
        self._interval = interval
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: LineReader | None = None
        self._stderr: StderrTail | None = None
        self._lock = threading.Lock()
        self._last: LiveUpdate | None = None
        self._stopped = threading.Event()
        self.lost: str | None = None
        """Why the connection ended (the feed is then stale); None while it lasts."""

    @property
    def label(self) -> str:
        return self.ssh.host.label

    def open(self) -> None:
        remote = ["exec", self.ssh.cnet("--interval", f"{self._interval:g}", "stream")]
        proc = subprocess.Popen(
            self.ssh.argv(remote),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        self._proc, self._stderr = proc, StderrTail(proc.stderr)
        self._reader = LineReader(proc.stdout)
        try:
            try:
                first = self._reader.readline(HANDSHAKE_TIMEOUT_S)
            except (TimeoutError, ValueError) as exc:
                raise failure(
                    self.ssh, proc.poll(), self._stderr, f"no handshake ({exc})"
                ) from None
            if first is None:
                raise failure(self.ssh, proc.wait(CONNECT_TIMEOUT_S * 3), self._stderr)
            self._check_handshake(first)
        except RemoteError:
            _stop(proc)
            raise

    def _check_handshake(self, line: bytes) -> None:
        try:
            hello = json.loads(line)
        except ValueError:
            hello = None
        if not isinstance(hello, dict) or hello.get("cnet") != "stream":
            shown = line[:80].decode("utf-8", "replace")
            raise RemoteError(
                f"{self.label}: {self.ssh.remote_command} stream did not answer as cnet "
                f"({shown!r}): an older cnet there?"
            )
        check_version(self.ssh, f"cnet {hello.get('version')}")
        if hello.get("protocol") != PROTOCOL:
            raise RemoteError(f"{self.label}: stream protocol {hello.get('protocol')!r}")

    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        if self._proc is None:
            self.open()
        threading.Thread(
            target=self._read, args=(publish,), daemon=True, name=f"cnet-remote-{self.label}"
        ).start()

    def _read(self, publish: Callable[[LiveUpdate], None]) -> None:
        assert self._reader is not None and self._proc is not None and self._stderr is not None
        why = "the connection ended"
        try:
            while not self._stopped.is_set():
                line = self._reader.readline()
                if line is None:
                    code = self._proc.wait()
                    why = str(failure(self.ssh, code, self._stderr)).partition(": ")[2]
                    break
                update = update_from_json(json.loads(line))
                with self._lock:
                    self._last = update
                publish(update)
        except (ValueError, OSError) as exc:
            why = f"bad data from the remote ({str(exc)[:120]})"
        if self._stopped.is_set():
            return
        self.lost = why
        with self._lock:
            last = self._last
        if last is not None:
            publish(stale_update(last, f"{self.label}: {why}"))
        _stop(self._proc)

    def refresh(self) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(b"refresh\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            pass  # gone: the reader says so

    def stop(self) -> None:
        self._stopped.set()
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        threading.Thread(target=_stop, args=(proc,), daemon=True).start()
