"""``cnet`` without a subcommand: the TUI, live, on a saved snapshot or on the demo.

A bad ``--load`` file is refused here, before the terminal is switched to the UI, so the
user gets one line and exit code 2 instead of a flash of UI.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from inspector.commands.shared import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from inspector.live.feed import Feed


def live_feed(interval: float) -> Feed:
    """The live host's feed: ``Live`` in a child process, or in this one when no process
    can be made (fork failing with EAGAIN or ENOMEM, no descriptor for the socket pair)."""
    from inspector.live.process import LiveProcess  # why: start-up

    try:
        return LiveProcess(interval)
    except OSError:
        from inspector.live.runner import Live  # why: start-up

        return Live(reconcile=interval)


def run(args: argparse.Namespace) -> int:

    # Forked before the UI is imported: the collectors start on a core of their own while
    # Textual loads (inspector.live.process).
    feed = None if args.load or args.demo else live_feed(args.interval)

    from inspector.render.snapshot_json import (  # why: start-up
        SnapshotFormatError,
        load_demo_snapshot,  # why: start-up
        load_snapshot,
    )
    from inspector.tui.app import make_app  # why: start-up
    from inspector.tui.status_line import Source  # why: start-up

    try:
        if args.load:
            app = make_app(load_snapshot(args.load), source=Source("file", args.load))
        elif args.demo:
            app = make_app(load_demo_snapshot(), source=Source("demo"))
        else:
            from inspector.live.sampler import LiveRates  # why: start-up

            app = make_app(feed=feed, source=Source("live"), rates=LiveRates())
    except SnapshotFormatError as exc:
        raise CliError(str(exc), code=EXIT_USAGE) from None
    try:
        app.run()
    finally:
        if feed is not None:
            feed.stop()
    return app.return_code or 0
