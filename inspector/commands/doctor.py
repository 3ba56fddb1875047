"""``cnet doctor``: walk the troubleshooting path for containers and name the broken step."""

from __future__ import annotations

import argparse
from typing import Any

from inspector.commands.shared import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    print_warnings,
    saved_snapshot,
)
from inspector.model.safe import safe


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check each container's path to the network and name the step that breaks",
        description=(
            "For each running container (all when none is named): interface, veth, bridge, "
            "default route, gateway ping, forwarding, FORWARD/DOCKER-USER and nft drops, "
            "MASQUERADE, MTU up to the host's uplink, published ports (DNAT and a listener "
            "inside) and DNS, with the IPv6 twins when it has IPv6; each pass/warn/fail/skip "
            "with its evidence and a suggested fix (never run, and never one that deletes "
            "the engine's own rules). Docker's isolation, ICC off and --internal are by "
            "design, never failures. The only traffic sent is one ping per namespace to its "
            "own gateway (none on a saved snapshot, --from); no DNS query is sent. Failing containers come first and the last "
            "line names them. Exit 0 when no check fails, 1 when one does."
        ),
    )
    p.add_argument("containers", metavar="CONTAINER", nargs="*", help="names or ids (default all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-v", "--verbose", action="store_true", help="evidence for passing checks too")
    p.add_argument(
        "--from",
        dest="source",
        metavar="SAVED.json",
        help="check a saved snapshot (- for stdin; or the global --load/--demo) on the facts it "
        "records (links, routes, MTUs, rules, listeners, DNS, ip_forward, pings if sent): the "
        "verdict the live doctor gave when it was taken; nothing is sent or read from this host",
    )
    p.add_argument(
        "--failed", action="store_true", help="show only the containers with a failing check"
    )
    p.add_argument(
        "--no-ping",
        action="store_true",
        help="send no ping: the gateway checks skip, and verdicts say they were made without it",
    )


def run(args: argparse.Namespace) -> int:
    import json
    import os
    import sys

    from inspector.doctor import diagnose, failing, format_reports, reports_to_dict  # why: start-up
    from inspector.doctor.offline import not_checked, offline_reports  # why: start-up

    snapshot = saved_snapshot(args, args.source)
    offline = snapshot is not None
    if snapshot is None:
        from inspector.live.runner import collect_snapshot  # why: start-up

        snapshot = collect_snapshot()
    unknown = [n for n in args.containers if snapshot.container(n) is None]
    if unknown:
        print_warnings(snapshot)  # e.g. Docker unreachable: say why the name is unknown
        raise CliError(f"no such container: {unknown[0]!r}", EXIT_USAGE)
    if not args.json:
        print_warnings(snapshot)
    if offline:
        reports = offline_reports(snapshot, args.containers)
    else:
        reports = diagnose(snapshot, args.containers, ping=not args.no_ping)
    failed = bool(failing(reports))
    if args.failed:
        reports = failing(reports)
    if args.failed and not reports and not args.json:
        sys.stdout.write("no container fails a check\n")
    elif args.json:
        data = reports_to_dict(reports)
        if not offline and not args.no_ping:
            from inspector.collect.tracefs import availability  # why: start-up

            problem = availability()
            data["warnings"] = [problem] if problem else []
        if offline:
            data["offline"] = {
                "taken_at": snapshot.taken_at,
                "hostname": snapshot.hostname,
                "not_checked": [
                    {"check": check, "why": why} for check, why in not_checked(reports)
                ],
            }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        if offline:
            sys.stdout.write(
                f"offline: a snapshot of {safe(snapshot.hostname)} taken at "
                f"{safe(snapshot.taken_at)}, judged on the facts it records; nothing is sent\n\n"
            )
        colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write(format_reports(reports, colour=colour, verbose=args.verbose))
    sys.stdout.flush()
    return EXIT_FAILED if failed else EXIT_OK
