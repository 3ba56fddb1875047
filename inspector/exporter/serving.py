"""A running exporter: the live feed, the collector, and the server answering /metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client.registry import CollectorRegistry

from inspector.exporter.exposition import Exposition, metrics_app
from inspector.exporter.metrics import Exporter
from inspector.exporter.server import serve, stop

if TYPE_CHECKING:
    from inspector.exporter.web_config import WebConfig
    from inspector.live.feed import Feed


def parse_listen(text: str) -> tuple[str, int]:
    """``ADDR:PORT`` (``[v6]:PORT`` for IPv6) -> (address, port); ValueError says why not."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"--listen wants ADDR:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"--listen: not a port number: {port!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"--listen: port out of range: {number}")
    return host, number


class Serving:
    """A running exporter: the feed, the collector, and the HTTP(S) server answering
    /metrics (``web``: TLS and basic auth, inspector/exporter/web_config.py)."""

    def __init__(
        self,
        feed: Feed,
        exporter: Exporter,
        listen: tuple[str, int],
        web: WebConfig | None = None,
    ) -> None:
        self.feed = feed
        self.exporter = exporter
        registry = CollectorRegistry(auto_describe=False)
        registry.register(exporter)
        self.exposition = Exposition(exporter)
        self.exposition.start()
        self._server, self._thread = serve(metrics_app(self.exposition, registry), listen, web)
        self.port: int = self._server.server_port
        feed.start(exporter.publish)

    def close(self) -> None:
        stop(self._server)
        self.exposition.stop()
        self.feed.stop()
