"""What every subcommand shares: the exit codes, the one-line error, the snapshot it was given.

It lived in ``inspector.cli``, which imports the subcommands: each subcommand importing it
back made a circle.  Only the standard library here, so importing it costs nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspector.model.snapshot import Snapshot

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An expected failure: printed as one line, exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def print_warnings(snapshot: Snapshot) -> None:
    """A snapshot's warnings on stderr, one line each."""
    for w in snapshot.warnings:
        print(f"cnet: warning: {w}", file=sys.stderr)


def saved_snapshot(args: argparse.Namespace, from_file: str | None = None) -> Snapshot | None:
    """The snapshot a subcommand was pointed at: its own ``--from FILE``, or the global
    ``--load FILE`` / ``--demo``; None means the live host.  A bad file is a CliError
    (exit 2); so is naming a snapshot twice."""
    if from_file is not None and (args.load or args.demo):
        given = "--demo" if args.demo else f"--load {args.load}"
        raise CliError(f"{given} and {from_file}: name one snapshot", EXIT_USAGE)
    if from_file is not None or args.load:
        return load_saved(from_file if from_file is not None else args.load)
    if args.demo:
        from inspector.render.snapshot_json import load_demo_snapshot  # why: start-up

        return load_demo_snapshot()
    return None


def load_saved(path: str) -> Snapshot:
    """A saved snapshot, or a CliError (exit 2) that says in one line why not."""
    from inspector.render.snapshot_json import SnapshotFormatError, load_snapshot  # why: start-up

    try:
        return load_snapshot(path)
    except SnapshotFormatError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
