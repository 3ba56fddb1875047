"""``cnet`` without a subcommand: the TUI, live, on a saved snapshot or on the demo.

A bad ``--load`` file is refused here, before the terminal is switched to the UI, so the
user gets one line and exit code 2 instead of a flash of UI.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspector.tui.feed import Feed


def live_feed(interval: float) -> Feed:
    """The live host's feed: ``Live`` in a child process, or in this one when no process
    can be made (fork failing with EAGAIN or ENOMEM, no descriptor for the socket pair)."""
    from inspector.live_process import LiveProcess

    try:
        return LiveProcess(interval)
    except OSError:
        from inspector.live import Live

        return Live(reconcile=interval)


def run(args: argparse.Namespace) -> int:
    from inspector.cli import EXIT_USAGE, CliError

    # Forked before the UI is imported: the collectors start on a core of their own while
    # Textual loads (inspector.live_process).
    feed = None if args.load or args.demo else live_feed(args.interval)

    from inspector.snapshot_json import SnapshotFormatError, load_snapshot
    from inspector.tui.app import Source, load_demo_snapshot, make_app

    try:
        if args.load:
            app = make_app(load_snapshot(args.load), source=Source("file", args.load))
        elif args.demo:
            app = make_app(load_demo_snapshot(), source=Source("demo"))
        else:
            from inspector.live_rates import LiveRates

            app = make_app(feed=feed, source=Source("live"), rates=LiveRates())
    except SnapshotFormatError as exc:
        raise CliError(str(exc), code=EXIT_USAGE) from None
    app.exit_on_signals = True
    try:
        app.run()
    finally:
        if feed is not None:
            feed.stop()
            wait_stopped = getattr(feed, "wait_stopped", None)
            if wait_stopped is not None:  # LiveProcess: its child and podman events gone too
                wait_stopped()
    return app.return_code or 0
