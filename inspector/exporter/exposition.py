"""The exposition's bytes, built by parts when they change, not on every scrape.

At 1,000 namespaces the exposition holds some 35,000 samples: prometheus_client renders
them in well over 100 ms, though almost all of its text (every label set, the inventory's
``cnet_container_info``, the doctor's verdicts) only changes with a new snapshot or new
verdicts.  So prometheus_client still writes every byte, but in parts:

- per snapshot and format, each counter family is rendered once with all its series at
  zero, and kept as its header and one ``name{labels} `` prefix per series;
- per snapshot, verdicts and format, the info and doctor families are kept as bytes;
- per ``Moment`` (the numbers, read at most once per ``FRESH_S``), the counter lines are
  the prefixes followed by ``floatToGoString`` of the value, the exporter's own two
  gauges are rendered whole, and the joined body (and its gzip'd copy, when a client
  asks for one) is kept for the other scrapes of that second.

Freshness: the interface and TCP counters move every second, so a ``Moment`` serves for
at most ``FRESH_S`` (1 s, the TUI's sampling interval too); a new publication of the
feed, or new doctor verdicts, end it at once.  Any number of scrapers in that second share one read and one
join; a scrape never sees numbers older than that.  A thread builds the formats scrapers
asked for as soon as the feed publishes or the doctor's verdicts land, so that the next
scrape finds the parts built (at 1,000 namespaces they take 0.3 s to over a second of a
loaded machine); a scrape during that build gets the last body of its format.  A format whose lines do not split as
expected, and a ``name[]`` selection, are rendered whole by prometheus_client.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from inspector.collect.connections import namespace_owners
from inspector.collect.counters import Counters, InterfaceKey
from inspector.exporter.metrics import (
    COUNTER_METRICS,
    TCP_METRICS,
    Exporter,
    Moment,
    counter_families,
    tail_families,
    tcp_families,
)
from inspector.model.snapshot import Snapshot, TcpHealth

FRESH_S = 1.0
_FORMATS = 8
"""Formats (content types) kept at once: a client's Accept header names the version, so
a hostile one could otherwise grow the cache without end."""
WARM_EVERY_S = 0.25
"""How often the warming thread looks for a new snapshot or new verdicts (a comparison)."""
GZIP_LEVEL = 1
"""Measured on the 2.2 MB text of 1,000 namespaces: level 1 takes 3-4 ms for 80 kB, 6
(zlib's default) 65 ms for 73 kB, 9 (gzip.compress's, prometheus_client's) 430 ms for
68 kB."""

_go: Callable[[float], str] = floatToGoString
"""prometheus_client's number format (untyped there)."""

Encoder = Callable[[Collector], bytes]
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Fixed(Collector):
    """Families already built, for an encoder that wants a collector."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _render(encoder: Encoder, families: Iterable[Metric], openmetrics: bool) -> bytes:
    """``families`` in the encoder's format; without OpenMetrics' ``# EOF``, which the
    joined body gets once."""
    out = encoder(_Fixed(families))
    return out.removesuffix(b"# EOF\n") if openmetrics else out


class _Lines:
    """One counter family rendered at zero: its header, and per series the sample line
    up to its value; and, per series, the last value shown and its line, so that a
    counter that did not move (most of them, on most hosts) is not formatted again."""

    def __init__(self, head: str, prefixes: tuple[str, ...]) -> None:
        self.head = head
        self.prefixes = prefixes
        self._last: list[tuple[float, str] | None] = [None] * len(prefixes)
        self._text = head

    def text(self, field: str, found: list[Any]) -> str:
        """The family with the values of ``found`` (None: a series left out)."""
        changed = False
        last = self._last
        for i, item in enumerate(found):
            kept = last[i]
            if item is None:
                if kept is not None:
                    last[i], changed = None, True
                continue
            value = getattr(item, field)
            if kept is None or kept[0] != value:
                last[i], changed = (value, f"{self.prefixes[i]}{_go(value)}\n"), True
        if changed:
            self._text = self.head + "".join(kept[1] for kept in last if kept is not None)
        return self._text


def _lines(encoder: Encoder, family: Metric, openmetrics: bool) -> _Lines | None:
    """None when the rendered text is not a header followed by one ``name{labels} 0.0``
    line per series, as it is in every format prometheus_client writes today."""
    text = _render(encoder, [family], openmetrics).decode()
    lines = text.split("\n")
    if lines[-1] != "":
        return None
    lines.pop()
    head = [line for line in lines if line.startswith("#")]
    body = lines[len(head) :]
    if lines[: len(head)] != head or len(body) != len(family.samples):
        return None
    if any(line.startswith("#") or not line.endswith(" 0.0") for line in body):
        return None
    return _Lines("".join(f"{line}\n" for line in head), tuple(line[:-3] for line in body))


@dataclass(frozen=True)
class _Template:
    """The counter families' fixed parts for one snapshot, in one format."""

    keys: tuple[InterfaceKey, ...]
    interfaces: tuple[_Lines, ...]
    owners: tuple[str, ...]
    tcp: tuple[_Lines, ...]


def _template(
    exporter: Exporter, snapshot: Snapshot, encoder: Encoder, openmetrics: bool
) -> _Template | None:
    labelled = exporter.labelled(snapshot)
    zero = Counters(0, 0, 0, 0, 0, 0, 0, 0)
    owners = tuple(c.name for c in namespace_owners(snapshot))
    idle = TcpHealth(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    interfaces = [
        _lines(encoder, f, openmetrics)
        for f in counter_families(snapshot, dict.fromkeys(labelled, zero), labelled)
    ]
    tcp = [
        _lines(encoder, f, openmetrics) for f in tcp_families(snapshot, dict.fromkeys(owners, idle))
    ]
    if any(lines is None for lines in interfaces + tcp):
        return None
    return _Template(
        tuple(labelled),
        tuple(x for x in interfaces if x is not None),
        owners,
        tuple(x for x in tcp if x is not None),
    )


def _counter_text(
    template: _Template,
    counters: Mapping[InterfaceKey, object],
    health: Mapping[str, object],
) -> str:
    """The counter families of one moment: the kept prefixes, the values formatted as
    prometheus_client formats them, series whose counters were not read left out as
    ``counter_families`` and ``tcp_families`` leave them out."""
    interfaces = [counters.get(k) for k in template.keys]
    owners = [health.get(o) for o in template.owners]
    parts = [
        lines.text(field, interfaces)
        for (_, field, _), lines in zip(COUNTER_METRICS, template.interfaces, strict=True)
    ]
    parts.extend(
        lines.text(field, owners)
        for (_, field, _), lines in zip(TCP_METRICS, template.tcp, strict=True)
    )
    return "".join(parts)


class Exposition:
    """The exporter's body per format, kept for a moment, built from kept parts."""

    def __init__(
        self,
        exporter: Exporter,
        clock: Callable[[], float] = time.monotonic,
        fresh_s: float = FRESH_S,
    ) -> None:
        self._exporter = exporter
        self._clock = clock
        self._fresh_s = fresh_s
        self._lock = threading.Lock()
        self._moment: Moment | None = None
        self._taken = 0.0
        self._bodies: dict[tuple[str, bool], bytes] = {}
        self._templates: tuple[Snapshot | None, dict[str, _Template | None]] = (None, {})
        self._statics: tuple[object, object, dict[str, bytes]] = (None, None, {})
        self._asked: dict[str, tuple[str | None, bool]] = {}
        self._stopped = threading.Event()
        self._wake = threading.Event()
        self._last: dict[tuple[str, bool], bytes] = {}
        self.warmed = 0
        """Passes of the warming thread that built parts: for tests."""
        self._warming: threading.Thread | None = None
        self.moments = 0
        """Moments taken (counters read): for tests."""

    def start(self) -> None:
        """Build the formats scrapers asked for as soon as the inventory or the verdicts
        change, on a thread of its own, so that the next scrape finds them built."""
        self._warming = threading.Thread(target=self._warm, daemon=True, name="cnet-exposition")
        self._warming.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._warming is not None:
            self._warming.join(10)

    def _warm(self) -> None:
        built: tuple[int, int, int] | None = None
        while not self._stopped.is_set():
            woken = self._wake.wait(WARM_EVERY_S)  # by a scrape that found parts missing
            self._wake.clear()
            with self._lock:
                asked = list(self._asked.items())
            version = self._exporter.version()
            if not asked or (version == built and not woken):
                continue
            built = version
            moment = self._exporter.moment()
            for content_type, (accept, _) in asked:
                self._build_parts(moment, choose_encoder(accept or "")[0], content_type)
            self.warmed += 1

    def _build_parts(self, moment: Moment, encoder: Encoder, content_type: str) -> None:
        """The kept parts of ``moment`` in one format, built outside the lock (scrapes
        meanwhile get the last body) and then kept."""
        snapshot = moment.snapshot
        if snapshot is None:
            return
        openmetrics = content_type.startswith("application/openmetrics-text")
        with self._lock:
            template_missing = self._kept_template(snapshot, content_type) is None
            static_missing = self._kept_static(moment, content_type) is None
        template = (
            _template(self._exporter, snapshot, encoder, openmetrics) if template_missing else None
        )
        static = (
            _render(encoder, self._exporter.inventory_families(moment), openmetrics)
            if static_missing
            else None
        )
        with self._lock:
            if template is not None:
                self._template_for(snapshot, encoder, content_type, openmetrics, template)
            if static is not None:
                self._static_for(moment, encoder, content_type, openmetrics, static)

    def _kept_template(self, snapshot: Snapshot, content_type: str) -> object:
        kept_for, kept = self._templates
        return kept.get(content_type, None) if kept_for is snapshot else None

    def _kept_static(self, moment: Moment, content_type: str) -> bytes | None:
        snapshot, reports, kept = self._statics
        if snapshot is moment.snapshot and reports is moment.reports:
            return kept.get(content_type)
        return None

    def body(self, accept: str | None, gzipped: bool = False) -> tuple[bytes, str]:
        """The body for a client's Accept header, and its content type.  While the
        warming thread builds the parts of a new snapshot or new verdicts, the last body
        of that format is served (at most a build older than ``FRESH_S``)."""
        encoder, content_type = choose_encoder(accept or "")
        with self._lock:
            if content_type not in self._asked and len(self._asked) >= _FORMATS:
                self._asked.clear()
            self._asked[content_type] = (accept, gzipped)
            moment = self._current()
            key = (content_type, gzipped)
            found = self._bodies.get(key)
            if found is None:
                last = self._last.get(key)
                snapshot = moment.snapshot
                if (
                    last is not None
                    and snapshot is not None
                    and self._warming is not None
                    and self._warming.is_alive()
                    and (
                        self._kept_static(moment, content_type) is None
                        or self._kept_template(snapshot, content_type) is None
                    )
                ):
                    self._wake.set()
                    return last, content_type
                if len(self._bodies) >= 2 * _FORMATS:
                    self._bodies.clear()
                    self._last.clear()
                if gzipped:
                    found = gzip.compress(self.body_of(moment, encoder, content_type), GZIP_LEVEL)
                else:
                    found = self.body_of(moment, encoder, content_type)
                self._bodies[key] = self._last[key] = found
        return found, content_type

    def _current(self) -> Moment:
        now = self._clock()
        moment = self._moment
        if (
            moment is None
            or now - self._taken >= self._fresh_s
            or moment.version != self._exporter.version()
        ):
            moment = self._moment = self._exporter.moment()
            self._taken = now
            self._bodies = {}
            self.moments += 1
        return moment

    def body_of(self, moment: Moment, encoder: Encoder, content_type: str) -> bytes:
        """What prometheus_client renders of ``moment`` in ``encoder``'s format."""
        openmetrics = content_type.startswith("application/openmetrics-text")
        snapshot = moment.snapshot
        template = self._template_for(snapshot, encoder, content_type, openmetrics)
        if snapshot is None or template is None:
            return encoder(_Fixed(self._exporter.families(moment)))
        counters = _counter_text(template, moment.counters, moment.health).encode()
        static = self._static_for(moment, encoder, content_type, openmetrics)
        tail = _render(encoder, tail_families(moment), openmetrics)
        end = b"# EOF\n" if openmetrics else b""
        return b"".join((counters, static, tail, end))

    def _template_for(
        self,
        snapshot: Snapshot | None,
        encoder: Encoder,
        content_type: str,
        openmetrics: bool,
        built: _Template | None = None,
    ) -> _Template | None:
        """The kept template (``built``: one the warming thread made)."""
        if snapshot is None:
            return None
        kept_for, kept = self._templates
        if kept_for is not snapshot or len(kept) >= _FORMATS:
            kept = {}
            self._templates = (snapshot, kept)
        if content_type not in kept:
            if built is None:
                built = _template(self._exporter, snapshot, encoder, openmetrics)
            kept[content_type] = built
        return kept[content_type]

    def _static_for(
        self,
        moment: Moment,
        encoder: Encoder,
        content_type: str,
        openmetrics: bool,
        built: bytes | None = None,
    ) -> bytes:
        """The info and doctor families: they change with the snapshot or the verdicts
        (``built``: what the warming thread rendered)."""
        snapshot, reports, kept = self._statics
        if snapshot is not moment.snapshot or reports is not moment.reports:
            kept = {}
        elif len(kept) >= _FORMATS:
            kept.clear()
        self._statics = (moment.snapshot, moment.reports, kept)
        found = kept.get(content_type)
        if found is None:
            if built is None:
                built = _render(encoder, self._exporter.inventory_families(moment), openmetrics)
            found = kept[content_type] = built
        return found


def metrics_app(exposition: Exposition, registry: CollectorRegistry) -> Wsgi:
    """A WSGI app serving ``exposition``'s kept bodies for a GET of the metrics, and
    prometheus_client's own app for everything else (OPTIONS, other methods, a
    ``name[]`` selection, the favicon)."""
    fallback = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("PATH_INFO") == "/favicon.ico"
            or "name[]" in parse_qs(environ.get("QUERY_STRING", ""))
        ):
            result: Iterable[bytes] = fallback(environ, start_response)
            return result
        gzipped = gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING") or "")
        body, content_type = exposition.body(environ.get("HTTP_ACCEPT"), gzipped)
        headers = [("Content-Type", content_type)]
        if gzipped:
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [body]

    return app
