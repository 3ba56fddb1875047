"""``cnet stream``: the live inventory as JSON lines on stdout, for ``cnet --host``.

The first line is the handshake (``{"cnet": "stream", "version": ..., "protocol": 1}``);
then one line per live update: ``{"status": {...}, "snapshot": {...}}``, the snapshot in
its documented JSON form.  A ``refresh`` line on stdin asks for a full read; the end of
stdin (the ssh channel closed) stops it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
from typing import Any


def add_parser(subparsers: Any) -> None:
    subparsers.add_parser(
        "stream",
        help="write the live inventory as JSON lines (what cnet --host reads over ssh)",
        description=(
            "Follow the live host and write one JSON line per update on stdout, after a "
            "handshake line; 'refresh' on stdin reads everything again, end of stdin stops."
        ),
    )


def run(args: argparse.Namespace) -> int:
    from inspector.live.runner import Live, LiveUpdate  # why: start-up
    from inspector.remote.ssh import handshake_line  # why: start-up
    from inspector.render.snapshot_json import to_dict  # why: start-up

    lock = threading.Lock()
    gone = threading.Event()

    def write(line: str) -> None:
        with lock:
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError, OSError):
                gone.set()

    def publish(update: LiveUpdate) -> None:
        record = {"status": dataclasses.asdict(update.status), "snapshot": to_dict(update.snapshot)}
        write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))

    write(handshake_line())
    live = Live(reconcile=args.interval)
    live.start(publish)
    reading = threading.Thread(target=_commands, args=(live, gone), daemon=True)
    reading.start()
    try:
        gone.wait()
    finally:
        live.stop()
    return 0


def _commands(live: Any, gone: threading.Event) -> None:
    """stdin's lines: ``refresh`` reads again; the end of input stops the stream."""
    for line in sys.stdin:
        if line.strip() == "refresh":
            live.refresh()
    gone.set()
