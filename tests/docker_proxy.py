"""A socket proxy of the tests' own between cnet and the shared dockerd.

It lets a test simulate a dying or stuck engine without touching the engine other tests
share: ``cut()`` drops every connection (as a dockerd restart does) and refuses new ones
until ``resume()``; ``stall(text)`` holds, unanswered, every request whose request line
contains ``text`` (as a container wedged in libnetwork, moby#46661, does).  Only Docker's
GET and body-less requests go through it in these tests; a request with a body is
forwarded as is.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path

ENGINE = "/var/run/docker.sock"


class DockerProxy:
    def __init__(self, path: Path, upstream: str = ENGINE) -> None:
        self.path = path
        self.upstream = upstream
        self._stalls: list[str] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refusing = False
        self.stalled = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def stall(self, text: str) -> None:
        self._stalls.append(text)

    def cut(self) -> None:
        """Close every connection and refuse new ones (the engine went away)."""
        self._refusing = True
        with self._lock:
            for s in list(self._open):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def resume(self) -> None:
        self._refusing = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._open.add(s)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            self._track(client)
            self._track(upstream)
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._copy, args=(upstream, client), daemon=True).start()

    def _copy(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        """Forward requests one head at a time, holding the ones that match a stall."""
        pending = b""
        try:
            while True:
                while b"\r\n\r\n" not in pending:
                    data = client.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, pending = pending.partition(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                if any(text in line for text in self._stalls):
                    self.stalled += 1
                    while client.recv(65536):  # never answered: wait for the client to give up
                        pass
                    return
                upstream.sendall(head + b"\r\n\r\n")
                length = 0
                for header in head.split(b"\r\n")[1:]:
                    name, _, value = header.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip() or 0)
                while length > 0:
                    if not pending:
                        pending = client.recv(65536)
                        if not pending:
                            return
                    chunk, pending = pending[:length], pending[length:]
                    upstream.sendall(chunk)
                    length -= len(chunk)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
