"""``cnet`` without a subcommand: the TUI, live, on a saved snapshot or on the demo.

A bad ``--load`` file is refused here, before the terminal is switched to the UI, so the
user gets one line and exit code 2 instead of a flash of UI.
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from inspector.cli import EXIT_USAGE, CliError
    from inspector.snapshot_json import SnapshotFormatError, load_snapshot
    from inspector.tui.app import Source, load_demo_snapshot, make_app

    feed = None
    try:
        if args.load:
            app = make_app(load_snapshot(args.load), source=Source("file", args.load))
        elif args.demo:
            app = make_app(load_demo_snapshot(), source=Source("demo"))
        else:
            from inspector.live import Live
            from inspector.live_rates import LiveRates

            feed = Live(reconcile=args.interval)
            app = make_app(feed=feed, source=Source("live"), rates=LiveRates())
    except SnapshotFormatError as exc:
        raise CliError(str(exc), code=EXIT_USAGE) from None
    try:
        app.run()
    finally:
        if feed is not None:
            feed.stop()
    return app.return_code or 0
