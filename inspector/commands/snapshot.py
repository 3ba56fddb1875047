"""``cnet snapshot``: collect (or re-read) a snapshot and export it as JSON, Markdown or HTML."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inspector.render import FORMATS


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "snapshot",
        help="export the host's container networking as JSON, Markdown or HTML",
        description="Collect the live host (or re-render a saved snapshot) and export it.",
    )
    p.add_argument(
        "--format", "-f", choices=FORMATS, default="json", help="output format (default json)"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout"
    )
    p.add_argument(
        "--from", dest="source", metavar="SAVED.json", help="re-render a saved JSON snapshot"
    )


def run(args: argparse.Namespace) -> int:
    from inspector.cli import EXIT_USAGE, CliError, print_warnings
    from inspector.render import render
    from inspector.snapshot_json import SnapshotFormatError, load_snapshot

    if args.source:
        try:
            snapshot = load_snapshot(args.source)
        except SnapshotFormatError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    else:
        from inspector.live import collect_snapshot

        snapshot = collect_snapshot()
        print_warnings(snapshot)
    text = render(snapshot, args.format)
    if args.output:
        from inspector.atomic import write_text_atomic

        try:
            write_text_atomic(args.output, text)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
