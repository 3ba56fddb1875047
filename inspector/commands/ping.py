"""``cnet ping``: ICMP echo from inside a container's network namespace, printed like ping."""

from __future__ import annotations

import argparse
from typing import Any

from inspector.commands.shared import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, print_warnings
from inspector.model.safe import safe, safe_lines


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None


def _size(text: str) -> int:
    from inspector.actions.ping import MAX_SIZE  # why: start-up

    size = _count(text)
    if not 0 <= size <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"size must be between 0 and {MAX_SIZE}, not {size}")
    return size


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "ping",
        help="ping from inside a container's network namespace (no ping tool needed)",
        description=(
            "Send ICMP echo requests from inside CONTAINER's network namespace. TARGET: the "
            "container's gateway (default), an IPv4/IPv6 address, another container's name, "
            "or `host` (the bridge address). A container on the host's network has no default "
            "(the host's gateway is another machine): name a TARGET. "
            "Exit 0 when replies came, 1 when none did."
        ),
    )
    p.add_argument("container", metavar="CONTAINER", help="container name or id")
    p.add_argument(
        "target",
        metavar="TARGET",
        nargs="?",
        help="address, container or `host` (default: its gateway)",
    )
    p.add_argument(
        "-c",
        dest="count",
        type=_count,
        default=4,
        metavar="COUNT",
        help="echo requests (default 4)",
    )
    p.add_argument(
        "-W",
        dest="timeout",
        type=_seconds,
        default=1.0,
        metavar="TIMEOUT_S",
        help="seconds to wait for each reply (default 1)",
    )
    p.add_argument(
        "-i",
        dest="interval",
        type=_seconds,
        default=1.0,
        metavar="INTERVAL_S",
        help="seconds between requests (default 1, at least 0.01)",
    )
    p.add_argument(
        "-s",
        dest="size",
        type=_size,
        default=56,
        metavar="SIZE",
        help="data bytes in each request (default 56); requests carry DF, as ping's do",
    )
    p.add_argument(
        "--rules",
        action="store_true",
        help="afterwards, show which firewall rules concerning CONTAINER counted the ping's packets",
    )


def run(args: argparse.Namespace) -> int:
    import signal
    import sys
    import threading
    from dataclasses import replace

    # why: start-up
    from inspector.actions.ping import (
        PingError,
        PingSummary,
        check_parameters,
        format_event,
        plan_ping,
        run_ping,
    )
    from inspector.collect.linkdrops import read_link_drops, risen  # why: start-up
    from inspector.collect.tracefs import start_probe  # why: start-up
    from inspector.doctor.drops import probe_drops  # why: start-up

    try:
        check_parameters(args.count, args.interval, args.timeout)
    except PingError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None

    from inspector.live.runner import collect_snapshot  # why: start-up

    snapshot = collect_snapshot()
    try:
        plan = plan_ping(snapshot, args.container, args.target)
    except PingError as exc:
        if snapshot.container(args.container) is None:
            print_warnings(snapshot)  # e.g. Docker unreachable: say why the container is unknown
        raise CliError(str(exc), exc.code) from None

    plan = replace(plan, size=args.size)
    rules_before = _read_rules() if args.rules else None
    probe, drops_problem = start_probe(begin=False)
    links_before = read_link_drops()  # while the baseline window runs
    if probe is not None:
        probe.begin()
    thread = probe.watch() if probe is not None else 0
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: summary, like ping
    summary: PingSummary | None = None
    failure: PingError | None = None
    try:
        events = run_ping(
            plan, count=args.count, interval=args.interval, timeout=args.timeout, stop=stop
        )
        print(safe(plan.header), flush=True)  # the container's name and the target's
        for event in events:
            if isinstance(event, PingSummary):
                summary = event
                print()
            line = format_event(event)
            if line:  # the summary is cnet's own lines (its target an address)
                print(safe_lines(line), flush=True)
    except PingError as exc:
        failure = exc
    finally:
        signal.signal(signal.SIGINT, previous)
        report = probe.finish() if probe is not None else None
        links_after = read_link_drops()
        sys.stdout.flush()
    try:
        rules_after = _read_rules() if rules_before is not None else None
        container = snapshot.container(args.container)
        assert container is not None  # plan_ping found it
        if rules_before is not None and rules_after is not None:
            for line in _moved_rules(snapshot, container.name, rules_before, rules_after):
                print(safe(line))
        drops = probe_drops(report, thread) if report is not None else None
        counters = risen(links_before, links_after)
        for line in _drop_lines(
            snapshot,
            container,
            drops,
            drops_problem,
            (rules_before, rules_after),
            counters,
            report.lost if report is not None else 0,
        ):
            print(safe(line))
        sys.stdout.flush()
    finally:
        if probe is not None:
            probe.close()
    if failure is not None:
        raise CliError(str(failure), failure.code) from None
    return EXIT_OK if summary is not None and summary.received > 0 else EXIT_FAILED


def _drop_lines(
    snapshot: Any,
    container: Any,
    drops: Any,
    problem: str | None,
    rulesets: tuple[Any, Any],
    counters: Any,
    lost: int = 0,
) -> list[str]:
    """The kernel's drop reasons during the ping, beside the drop rules whose counters rose."""
    from inspector.collect.tracefs import read_rp_filter  # why: start-up
    from inspector.doctor.drops import DropContext, dropping_rules, probe_lines  # why: start-up
    from inspector.model.queries import namespace_owner  # why: start-up

    owner = namespace_owner(snapshot, container)
    bridges = [i.peer.bridge for i in owner.interfaces if i.peer is not None and i.peer.bridge]
    bridge = bridges[0] if bridges else None
    rp = read_rp_filter({bridge}).get(bridge) if bridge else None
    before, after = rulesets
    rules = dropping_rules(before, after) if before is not None and after is not None else None
    words = DropContext(bridge, rp)
    lines = probe_lines(drops, words, problem=problem, rules=rules, counters=counters, lost=lost)
    return ["", *lines]


def _read_rules() -> Any:
    from inspector.rules import RulesUnavailable, read_rulesets  # why: start-up

    try:
        return read_rulesets()
    except RulesUnavailable as exc:
        raise CliError(str(exc), EXIT_FAILED) from None


def _moved_rules(snapshot: Any, container: str, before: Any, after: Any) -> list[str]:
    """The rules concerning ``container`` whose counters moved between the two reads."""
    from inspector.rules import counter_delta, path_order, rules_for  # why: start-up

    report = rules_for(snapshot, after, container)
    changes = counter_delta(before, after, report)
    lines = [
        "",
        f"firewall rules concerning {container} whose counters moved during the ping,"
        " in the order the packets met them:",
    ]
    if not changes:
        lines.append("  none (the packets crossed no rule that concerns it)")
    for ch in path_order(report, changes):
        what = "policy" if ch.rule is None else ch.rule.spec
        why = f"  # {ch.match.reason}" if ch.match is not None else ""
        lines.append(
            f"  {ch.table} {ch.chain}: +{ch.packets} packets +{ch.bytes} bytes  {what}{why}"
        )
    return lines
