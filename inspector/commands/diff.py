"""``cnet diff OLD [NEW]``: what changed between two snapshots, or since OLD on the live host.

Exit 0 when nothing changed, 1 when something did, 2 for a file that is not a snapshot
(the diff tool convention, so a script can ask ``cnet diff saved.json || alert``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from inspector.commands.shared import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    load_saved,
    print_warnings,
    saved_snapshot,
)

if TYPE_CHECKING:
    from inspector.model.snapshot import Snapshot
    from inspector.render.diff import Diff


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "diff",
        help="what changed between two snapshots (or between a snapshot and the live host)",
        description=(
            "Compare OLD with NEW, or with the live host (or the global --load/--demo) when "
            "NEW is not given: containers added, removed or restarted; interfaces and veths "
            "that appeared, vanished or moved bridge; addresses; routes; bridge port states; "
            "firewall rules added or removed (when both snapshots recorded them). "
            "Exit 0 when equal, 1 when different, 2 for bad input."
        ),
    )
    p.add_argument("old", metavar="OLD", help="a saved JSON snapshot (- for stdin)")
    p.add_argument("new", metavar="NEW", nargs="?", help="a saved JSON snapshot (default: live)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from inspector.render.diff import diff  # why: start-up
    from inspector.render.difftext import format_diff  # why: start-up

    if args.old == "-" and "-" in (args.new, args.load):
        raise CliError("OLD and NEW cannot both be stdin", EXIT_USAGE)
    new = saved_snapshot(args, args.new)  # first: naming NEW twice is refused before any read
    old = load_saved(args.old)
    if new is None:
        from inspector.live.runner import collect_snapshot  # why: start-up
        from inspector.rules.recorded import recorder  # why: start-up

        with_rules = recorder()  # the rules too, to compare with OLD's, read meanwhile
        new = with_rules(collect_snapshot())
        print_warnings(new)
        new_label = "the live host"
    else:
        new_label = args.new or ("the demo snapshot" if args.demo else args.load)
    result = diff(old, new)
    if args.json:
        data = diff_to_dict(result, (args.old, old), (new_label, new))
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(format_diff(result, (args.old, old), (new_label, new)))
    sys.stdout.flush()
    return EXIT_OK if result.equal else EXIT_FAILED


def _side(label: str, s: Snapshot) -> dict[str, str]:
    return {"source": label, "hostname": s.hostname, "taken_at": s.taken_at}


def diff_to_dict(
    result: Diff, old: tuple[str, Snapshot], new: tuple[str, Snapshot]
) -> dict[str, Any]:
    """``{old, new, equal, changes: [{section, change, subject, detail}], containers,
    interfaces, bridges, notes}``; the name lists are what changed, naturally sorted."""
    from inspector.model.words import natural_key  # why: start-up

    return {
        "old": _side(*old),
        "new": _side(*new),
        "equal": result.equal,
        "changes": [
            {"section": c.section, "change": c.kind, "subject": c.subject, "detail": c.detail}
            for c in result.changes
        ],
        "containers": sorted(result.containers, key=natural_key),
        "interfaces": sorted(result.interfaces, key=natural_key),
        "bridges": sorted(result.bridges, key=natural_key),
        "notes": list(result.notes),
    }
