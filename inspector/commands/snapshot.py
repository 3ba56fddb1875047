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
        description=(
            "Collect the live host (or re-render a saved snapshot: --from, or the global "
            "--load/--demo) and export it."
        ),
    )
    p.add_argument(
        "--format", "-f", choices=FORMATS, default="json", help="output format (default json)"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here instead of stdout (-): a file is replaced atomically and keeps its "
        "mode; a device, FIFO or socket is written into; a symlink is followed",
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="SAVED.json",
        help="re-render a saved JSON snapshot (- for stdin)",
    )


def run(args: argparse.Namespace) -> int:
    from inspector.cli import CliError, print_warnings, saved_snapshot
    from inspector.render import render

    snapshot = saved_snapshot(args, args.source)
    if snapshot is None:
        from inspector.live import collect_snapshot
        from inspector.rules.recorded import record

        snapshot = record(collect_snapshot())  # with its rules, for reading elsewhere
        print_warnings(snapshot)
    text = render(snapshot, args.format)
    if args.output and args.output != "-":
        from inspector.atomic import write_text_atomic

        try:
            write_text_atomic(args.output, text)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
