"""``cnet snapshot``: collect (or re-read) a snapshot and export it as JSON, Markdown or HTML."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from inspector.commands.shared import EXIT_USAGE, CliError, print_warnings, saved_snapshot
from inspector.render import FORMATS, format_of

if TYPE_CHECKING:
    from inspector.model.snapshot import Snapshot

MAX_RATES_S = 60.0
"""The longest ``--rates`` measures over: a snapshot is of a moment."""
SAVED_HAS_NO_RATES = "--rates measures the live host: it cannot use a saved snapshot"
SAVED_HAS_NO_FLOWS = "--flows reads the live host's conntrack table: it cannot use a saved snapshot"


def rate_seconds(text: str) -> float:
    """``--rates SECONDS``: more than 0, at most ``MAX_RATES_S``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= MAX_RATES_S:  # NaN is neither
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_RATES_S:g} seconds: {text!r}"
        )
    return value


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
        "--format",
        "-f",
        choices=FORMATS,
        help="output format (default: from the --output file's extension, .md or .html, else json)",
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
    p.add_argument(
        "--rates",
        type=rate_seconds,
        metavar="SECONDS",
        help="after collecting, read every interface's counters twice, SECONDS apart (at "
        "most 60), and record the rates with the snapshot; without it none are measured",
    )
    p.add_argument(
        "--flows",
        action="store_true",
        help="also record each namespace's conntrack flows (they change every second: "
        "without it only listeners and TCP/UDP counters are recorded, and diffs stay quiet)",
    )


def run(args: argparse.Namespace) -> int:
    from inspector.render import render  # why: start-up

    if args.rates is not None and (args.source is not None or args.load or args.demo):
        raise CliError(SAVED_HAS_NO_RATES, EXIT_USAGE)
    if args.flows and (args.source is not None or args.load or args.demo):
        raise CliError(SAVED_HAS_NO_FLOWS, EXIT_USAGE)
    snapshot = saved_snapshot(args, args.source)
    if snapshot is None:
        from inspector.live.runner import collect_snapshot  # why: start-up
        from inspector.rules.recorded import recorder  # why: start-up

        with_rules = recorder()  # its tools run while the host is read
        snapshot = collect_snapshot()
        snapshot = with_connections(snapshot, flows=args.flows)
        if args.rates is not None:
            snapshot = with_rates(snapshot, args.rates)
        snapshot = with_rules(snapshot)  # with its rules, for reading elsewhere
        snapshot = with_doctor_facts(snapshot)
        print_warnings(snapshot)
    text = render(snapshot, args.format or format_of(args.output) or "json")
    if args.output and args.output != "-":
        from inspector.render.atomic import (  # why: start-up
            ProtectedSymlinkError,
            write_text_atomic,
        )

        try:
            write_text_atomic(args.output, text)
        except ProtectedSymlinkError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror}", EXIT_USAGE) from None
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def with_connections(snapshot: Snapshot, *, flows: bool) -> Snapshot:
    """``snapshot`` with each namespace's listeners and TCP/UDP counters (and flows)."""
    from inspector.collect.connections import record_connections  # why: start-up

    return replace(snapshot, connections=record_connections(snapshot, flows=flows))


def with_doctor_facts(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with what the doctor reads beyond it (listeners, DNS, ip_forward), so
    ``cnet doctor --from`` and the reports give the live doctor's verdict."""
    from inspector.doctor.live import record_doctor_facts  # why: start-up

    return record_doctor_facts(snapshot)


def with_rates(snapshot: Snapshot, seconds: float) -> Snapshot:
    """``snapshot`` with its interfaces' rates over the next ``seconds``."""
    from inspector.live.rates import recorded_rates  # why: start-up
    from inspector.live.sampler import measure  # why: start-up

    try:
        return replace(snapshot, rates=recorded_rates(measure(snapshot, seconds)))
    except OSError as exc:
        raise CliError(f"cannot read the interface counters: {exc.strerror or exc}") from None
