"""Benchmark the exporter's HTTPS server with basic auth, against prometheus_client's own.

- bcrypt: one check of a cost-10 hash (what a scrape would pay without the remembered
  digests, and what each wrong password costs).
- first / remembered: a scrape over TLS with basic auth, the first one (bcrypt) and then
  ``-n`` more (the password remembered).
- idle: the same while ``--idle`` clients hold connections open without a handshake.
- prometheus_client: its ``start_http_server`` with the same certificate, then with one
  idle connection: a scrape then waits for that client (given up after 5 s here).

The registry holds one gauge: this measures the server, not the collector
(bench/exporter.py does that).  Run:  .venv/bin/python bench/exporter_web.py [-n 50]
"""

from __future__ import annotations

import argparse
import base64
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bcrypt  # noqa: E402
from prometheus_client import (  # noqa: E402
    CollectorRegistry,
    Gauge,
    make_wsgi_app,
    start_http_server,
)

from inspector.exporter.server import serve, stop  # noqa: E402
from inspector.exporter.web_config import TlsConfig, WebConfig  # noqa: E402


def certificate(d: Path) -> tuple[str, str]:
    key, crt = d / "server.key", d / "server.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(crt), str(key)


def scrape(port: int, ctx: ssl.SSLContext, auth: bytes | None, timeout: float = 30) -> float:
    request = urllib.request.Request(f"https://127.0.0.1:{port}/metrics")
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth).decode())
    started = time.perf_counter()
    with urllib.request.urlopen(request, context=ctx, timeout=timeout) as r:
        r.read()
    return time.perf_counter() - started


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--idle", type=int, default=5)
    args = parser.parse_args()
    registry = CollectorRegistry()
    Gauge("cnet_bench", "one gauge", registry=registry).set(1)
    with tempfile.TemporaryDirectory(prefix="cnetse-bench-") as tmp:
        crt, key = certificate(Path(tmp))
        ctx = ssl.create_default_context(cafile=crt)
        hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(10))
        started = time.perf_counter()
        bcrypt.checkpw(b"pw", hashed)
        print(f"bcrypt, cost 10, one check: {(time.perf_counter() - started) * 1000:.0f} ms")

        server, _ = serve(
            make_wsgi_app(registry),
            ("127.0.0.1", 0),
            WebConfig("bench", TlsConfig(crt, key), {"u": hashed}),
        )
        port = server.server_port
        print(f"cnet, TLS + basic auth, first scrape: {scrape(port, ctx, b'u:pw') * 1000:.0f} ms")
        print(
            "cnet, TLS + basic auth, remembered:",
            summary([scrape(port, ctx, b"u:pw") for _ in range(args.n)]),
        )
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(args.idle)]
        times = [scrape(port, ctx, b"u:pw") for _ in range(args.n)]
        print(f"cnet, the same with {args.idle} idle connections held:", summary(times))
        for sock in idle:
            sock.close()
        stop(server)

        theirs, _ = start_http_server(0, "127.0.0.1", registry=registry, certfile=crt, keyfile=key)
        port = theirs.server_port
        print("prometheus_client, TLS:", summary([scrape(port, ctx, None) for _ in range(args.n)]))
        held = socket.create_connection(("127.0.0.1", port))
        try:
            print(
                f"prometheus_client, 1 idle connection: {scrape(port, ctx, None, 5) * 1000:.0f} ms"
            )
        except OSError as exc:
            print(
                f"prometheus_client, 1 idle connection: no answer within 5 s ({type(exc).__name__})"
            )
        held.close()
        theirs.shutdown()


if __name__ == "__main__":
    main()
