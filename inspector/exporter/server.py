"""The exporter's HTTP(S) server: prometheus_client's exposition behind cnet's own server.

prometheus_client's ``start_http_server`` does TLS but no basic auth, and does the TLS
handshake in ``accept()`` on its one serving thread: a single client that connects and
says nothing stops every scrape (measured).  Here the listening thread only accepts;
each connection's thread does the handshake (``do_handshake_on_connect=False``, then
``do_handshake`` under ``HANDSHAKE_TIMEOUT_S``), reads its request under
``IDLE_TIMEOUT_S``, checks the basic auth, and answers with the metrics' WSGI app
(inspector/exporter/exposition.py: Prometheus text, OpenMetrics on request, gzip).  At most ``MAX_CONNECTIONS`` are
served at once; more are closed at once, so idle connections cannot use up memory.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from inspector.exporter.web_config import WebConfig, ssl_context

HANDSHAKE_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 64
REALM = "cnet"
_REMEMBERED = 64
"""Credentials that passed bcrypt, remembered (as a digest) so that a scrape every few
seconds does not pay bcrypt's cost each time; cleared when full."""

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BasicAuth:
    """The ``Authorization: Basic`` check against bcrypt hashes.  An unknown user costs
    one bcrypt check as a known one does, so timing does not tell which users exist."""

    def __init__(self, users: Mapping[str, bytes]) -> None:
        import bcrypt

        self._users = dict(users)
        self._bcrypt = bcrypt
        cost = int(next(iter(self._users.values())).split(b"$")[2]) if self._users else 10
        self._dummy = bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds=cost))
        self._lock = threading.Lock()
        self._passed: set[bytes] = set()

    def allows(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        if not sep:
            return False
        name = user.decode("utf-8", "replace")
        hashed = self._users.get(name)
        digest = hashlib.sha256(b"\0".join((user, password, hashed or b""))).digest()
        with self._lock:
            if hashed is not None and digest in self._passed:
                return True
        try:
            ok = self._bcrypt.checkpw(password, hashed or self._dummy)
        except ValueError:  # bcrypt refuses passwords over 72 bytes
            ok = False
        if ok and hashed is not None:
            with self._lock:
                if len(self._passed) >= _REMEMBERED:
                    self._passed.clear()
                self._passed.add(digest)
            return True
        return False


def guarded(app: Wsgi, auth: BasicAuth | None) -> Wsgi:
    """``app`` behind basic auth (None: open): 401 with ``WWW-Authenticate`` otherwise."""
    if auth is None:
        return app

    def check(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if auth.allows(environ.get("HTTP_AUTHORIZATION")):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"'),
            ],
        )
        return [b"Unauthorized\n"]

    return check


class _Handler(WSGIRequestHandler):
    """One connection, on its own thread: the TLS handshake first, under a timeout."""

    timeout = IDLE_TIMEOUT_S  # StreamRequestHandler puts it on the socket

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_TIMEOUT_S)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a scrape every few seconds is not news."""


class MetricsServer(ThreadingMixIn, WSGIServer):
    """A thread per connection, at most ``MAX_CONNECTIONS``; the TLS handshake happens
    on that thread, never on the accepting one."""

    daemon_threads = True

    def __init__(
        self, listen: tuple[str, int], app: Wsgi, tls: ssl.SSLContext | None = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in listen[0] else socket.AF_INET
        self._tls = tls
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(listen, _Handler)
        self.set_app(app)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return self._slots.acquire(blocking=False)

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed handshake, a missing client certificate, a client gone: the
        connection is closed, and that is all (no traceback per port scan)."""


def serve(
    app: Wsgi, listen: tuple[str, int], web: WebConfig | None = None
) -> tuple[MetricsServer, threading.Thread]:
    """Serve the WSGI ``app`` (the metrics) at ``listen`` on a daemon thread; ``web``
    adds TLS and basic auth.  OSError when the address cannot be bound."""
    tls = ssl_context(web) if web is not None else None
    auth = BasicAuth(web.users) if web is not None and web.users else None
    server = MetricsServer(listen, guarded(app, auth), tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="cnet-metrics")
    thread.start()
    return server, thread


def stop(server: MetricsServer) -> None:
    with contextlib.suppress(OSError):
        server.shutdown()
    server.server_close()
