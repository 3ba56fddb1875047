"""``cnet exporter``: serve Prometheus/OpenMetrics metrics at /metrics from the live inventory.

Listens on loopback by default; there is no authentication in front of it, so binding
elsewhere is the operator's choice (docs/exporter.md).  Runs until SIGTERM or Ctrl-C.
Exit 2 for a bad ``--listen``, 1 when the address cannot be bound.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from inspector.commands.shared import EXIT_USAGE, CliError

DEFAULT_LISTEN = "127.0.0.1:9877"
"""Loopback: the metrics name every container, and the exporter has no authentication.
Here, not in ``inspector.exporter.metrics``: every cnet command builds this parser, and that
module imports prometheus_client (30 ms)."""


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "exporter",
        help="serve per-container interface counters and doctor verdicts to Prometheus",
        description=(
            "Serve Prometheus/OpenMetrics text at http://ADDR:PORT/metrics: each container "
            "interface's byte, packet, drop and error totals, container info, and the "
            "doctor's failing checks (without the gateway ping), from the live inventory. "
            "There is no authentication: it listens on loopback unless told otherwise."
        ),
    )
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="ADDR:PORT",
        help=f"where to listen (default {DEFAULT_LISTEN}; [::1]:PORT for IPv6)",
    )


def run(args: argparse.Namespace) -> int:
    from inspector.exporter.metrics import Exporter, Serving, parse_listen  # why: start-up
    from inspector.live.runner import Live  # why: start-up

    try:
        listen = parse_listen(args.listen)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        serving = Serving(Live(reconcile=args.interval), Exporter(), listen)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    print(f"cnet: serving metrics at http://{args.listen}/metrics", file=sys.stderr)
    try:
        while not done.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        serving.close()
    return 0
