"""``cnet exporter``: serve Prometheus/OpenMetrics metrics at /metrics from the live inventory.

Listens on loopback by default.  ``--web.config.file`` (Prometheus exporter-toolkit's
format) adds TLS, client certificates and basic auth for a network (docs/exporter.md).  Runs until SIGTERM, SIGHUP or Ctrl-C (exit 128 + the signal).
Exit 2 for a bad ``--listen`` or web config (one line naming the file), 1 when the
address cannot be bound.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector.commands.shared import EXIT_USAGE, CliError
from inspector.live.shutdown import Caught

DEFAULT_LISTEN = "127.0.0.1:9877"
"""Loopback: the metrics name every container; another address wants a web config.
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
            "It listens on loopback unless told otherwise; --web.config.file adds TLS, "
            "client certificates and basic auth."
        ),
    )
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="ADDR:PORT",
        help=f"where to listen (default {DEFAULT_LISTEN}; [::1]:PORT for IPv6)",
    )
    p.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="FILE",
        help="TLS, client certificates and basic auth, in Prometheus exporter-toolkit's "
        "web config format (tls_server_config, basic_auth_users; docs/exporter.md)",
    )


def run(args: argparse.Namespace) -> int:
    from inspector.exporter.metrics import Exporter  # why: start-up
    from inspector.exporter.serving import Serving, parse_listen  # why: start-up
    from inspector.exporter.web_config import (  # why: start-up (yaml, ssl)
        WebConfigError,
        load_web_config,
    )
    from inspector.live.runner import Live  # why: start-up

    try:
        listen = parse_listen(args.listen)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        web = load_web_config(args.web_config_file) if args.web_config_file else None
    except WebConfigError as exc:
        raise CliError(f"--web.config.file {exc}", EXIT_USAGE) from None
    caught = Caught().install()
    try:
        serving = Serving(Live(reconcile=args.interval), Exporter(), listen, web)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from None
    scheme = "https" if web is not None and web.tls is not None else "http"
    auth = " (basic auth)" if web is not None and web.users else ""
    print(f"cnet: serving metrics at {scheme}://{args.listen}/metrics{auth}", file=sys.stderr)
    try:
        while not caught.event.wait(3600):
            pass
    finally:
        serving.close()
    return caught.code()
