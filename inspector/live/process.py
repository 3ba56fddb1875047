"""``Live`` in a child process, so collection has a core of its own.

The TUI and the collectors are both Python: in one process they share one interpreter
lock, and at 200 containers the first full read (pyroute2 parsing about 3 ms a namespace)
took a second longer while Textual started and drew.  ``LiveProcess`` forks before the UI
is imported: the child imports the docker SDK and pyroute2 and reads the host while the
parent imports Textual, each on its own core.  The child runs the same ``Live`` and sends
each ``LiveUpdate`` (an immutable snapshot, pickled: about 14 ms at 200 containers) over
a socket pair (a length, then the pickle: both ends are this program); the parent's
reader thread hands it to ``publish``.  Nothing heavier than the standard library is
imported before the fork.

The child never touches the terminal (its standard streams are ``/dev/null``), exits
when the parent goes (the socket's end of file, and ``PR_SET_PDEATHSIG``), and reports a
crash of its runner in one line.  When it ends for any reason the last picture is
published again, marked stale, as a lost remote host's is.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspector.live.runner import LiveUpdate

PR_SET_PDEATHSIG = 1
STOP_WAIT_S = 2.0
MAX_MESSAGE = 256 * 1024 * 1024
"""A bound on one message: far above a snapshot of thousands of containers."""
_LENGTH = struct.Struct("!Q")


def _live(reconcile: float) -> Any:
    from inspector.live.runner import Live  # why: after the fork

    return Live(reconcile=reconcile)


class Channel:
    """Pickled messages over one end of a socket pair, each after its length."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._sock.sendall(_LENGTH.pack(len(data)) + data)

    def recv(self) -> object:
        """The next message; EOFError when the other end closed."""
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        if length > MAX_MESSAGE:
            raise OSError(f"a message of {length} bytes")
        return pickle.loads(self._exactly(length))

    def _exactly(self, n: int) -> bytes:
        chunks: list[bytes] = []
        while n:
            chunk = self._sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._sock.close()


class LiveProcess:
    """A Feed (``inspector.live.feed``) whose ``Live`` runs in a forked child.

    Create it before anything starts a thread (the fork copies only the calling thread)
    and before the UI is imported.  ``make``: builds the child's feed (tests inject one).
    """

    def __init__(self, reconcile: float, *, make: Callable[[float], Any] = _live) -> None:
        ours, theirs = socket.socketpair()
        self._last: LiveUpdate | None = None
        self._stopped = threading.Event()
        self.lost: str | None = None
        """Why the child ended (the feed is then stale); None while it runs."""
        try:
            self.pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if self.pid == 0:  # the child: never returns
            ours.close()
            _child(Channel(theirs), reconcile, make)
        theirs.close()
        self._channel = Channel(ours)

    def start(self, publish: Callable[[LiveUpdate], None]) -> None:
        threading.Thread(
            target=self._read, args=(publish,), daemon=True, name="cnet-live-process"
        ).start()

    def _read(self, publish: Callable[[LiveUpdate], None]) -> None:
        from inspector.live.runner import LiveUpdate  # why: after the fork

        why = "the collecting process ended"
        try:
            while True:
                message = self._channel.recv()
                if isinstance(message, LiveUpdate):
                    self._last = message
                    publish(message)
                elif isinstance(message, str):
                    why = message
                    break
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        if self._stopped.is_set():
            return
        self.lost = why
        last = self._last
        if last is not None:
            # why: after the fork
            from inspector.live.runner import (
                stale_update,  # why: pyroute2 and docker, after the fork
            )

            publish(stale_update(last, why))
        self._reap()

    def refresh(self) -> None:
        self._send("refresh")

    def stop(self) -> None:
        """Ask the child to stop; reaped on a daemon thread (never waits on a hung read)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._send("stop")
        threading.Thread(target=self._reap, daemon=True).start()

    def _send(self, command: str) -> None:
        with contextlib.suppress(OSError):
            self._channel.send(command)

    def _reap(self) -> None:
        """Wait for the child a little, then kill it; never leaves a zombie."""
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _child(conn: Channel, reconcile: float, make: Callable[[float], Any]) -> None:
    """The child's whole life: run the feed, send its updates, obey the parent."""
    code = 0
    try:
        _die_with_parent()
        _quiet_streams()

        def send(message: object) -> None:
            try:
                conn.send(message)
            except OSError:  # the parent is gone
                os._exit(0)

        def crashed(args: threading.ExceptHookArgs) -> None:
            send(f"the collector failed: {args.exc_type.__name__}: {args.exc_value}")
            os._exit(1)

        threading.excepthook = crashed
        live = make(reconcile)
        live.start(send)
        while True:
            try:
                command = conn.recv()
            except (EOFError, OSError):
                break
            if command == "refresh":
                live.refresh()
            elif command == "stop":
                break
        live.stop()
    except BaseException:  # a forked child must never return into the parent's code
        code = 1
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    """SIGTERM when the parent dies, however it dies (Linux); if it is gone already, go."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _quiet_streams() -> None:
    """Standard input, output and error to /dev/null: the terminal is the UI's."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
