"""``cnet rules ITEM``: the firewall rules that concern a container, bridge, interface or network.

Read-only: dumps the rulesets (``iptables-save -c`` and friends, ``nft -j list ruleset``),
collects a snapshot to resolve ITEM, and prints the matching rules grouped by table and
chain with their counters, the reason each matched, each rule in words, and the chain
policies.  ``--ruleset FILE`` reads a saved ``iptables-save`` text or ``nft -j`` JSON
instead (from another host: ITEM is then an address, a subnet or an interface name).
Exit 0 when shown, 1 when no firewall tool can be run, 2 for an unknown item or a file
that is not a ruleset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from inspector.commands.shared import (
    EXIT_FAILED,
    EXIT_USAGE,
    CliError,
    print_warnings,
    saved_snapshot,
)

if TYPE_CHECKING:
    from inspector.model.snapshot import Snapshot
    from inspector.rules import NetworkRef, RulesReport


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rules",
        help="the iptables/nft rules that concern a container, bridge, interface or network",
        description=(
            "Show the host's firewall rules that concern ITEM (a container, a bridge, a host "
            "interface or a Docker network name), grouped by table and chain, with packet and "
            "byte counters, why each rule matched, each rule in words, and the chain "
            "policies. DROP/REJECT rules that would hit ITEM are marked '!!'; the engine's "
            "own DROPs (network isolation, ICC off, direct access) are marked 'design'. "
            "Nothing on the host is changed."
        ),
    )
    p.add_argument("item", metavar="ITEM", help="container name/id, bridge, interface or network")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--v6", action="store_true", help="read the IPv6 rules too (ip6tables-save)")
    p.add_argument(
        "--from",
        dest="source",
        metavar="SAVED.json",
        help="a saved snapshot (or the global --load/--demo): ITEM against the rules it was "
        "taken with",
    )
    p.add_argument(
        "--ruleset",
        metavar="FILE",
        help="read a saved `iptables-save` text or `nft -j list ruleset` JSON instead of this "
        "host's rules; ITEM is then an address, a subnet or an interface (bridge) name",
    )


def docker_networks(timeout: float = 5.0) -> tuple[NetworkRef, ...]:
    """Docker's networks with their bridge and subnets; empty when Docker cannot be asked."""
    from inspector.collect.engine import read_networks  # why: start-up
    from inspector.rules import NetworkRef  # why: start-up

    refs = []
    for n in read_networks(timeout):
        options = n.get("Options") or {}
        bridge = options.get("com.docker.network.bridge.name")
        if not bridge and n.get("Driver") == "bridge":
            bridge = "br-" + str(n.get("Id", ""))[:12]
        subnets = tuple(
            str(c["Subnet"]) for c in ((n.get("IPAM") or {}).get("Config") or []) if c.get("Subnet")
        )
        refs.append(NetworkRef(str(n.get("Name", "")), bridge or None, subnets))
    return tuple(refs)


def _print(report: RulesReport, as_json: bool) -> None:
    from inspector.rules import format_report, report_to_dict  # why: start-up

    if as_json:
        sys.stdout.write(json.dumps(report_to_dict(report), indent=2) + "\n")
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write("\n".join(format_report(report, color=color)) + "\n")
    sys.stdout.flush()


def run_saved(args: argparse.Namespace) -> int:
    """ITEM against a saved ruleset: no snapshot, no tool run."""
    # why: start-up
    from inspector.rules import (
        ParseError,
        UnknownItem,
        detect_source,
        parse_saved,
        spec_from_ruleset,
    )
    from inspector.rules.match import report_for_spec  # why: start-up

    try:
        with open(args.ruleset, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as exc:
        raise CliError(f"cannot read {args.ruleset}: {exc.strerror or exc}", EXIT_USAGE) from None
    try:
        rulesets = parse_saved(detect_source(text), text)
        report = report_for_spec(spec_from_ruleset(rulesets, args.item), rulesets)
    except (ParseError, UnknownItem) as exc:
        raise CliError(f"{args.ruleset}: {exc}", EXIT_USAGE) from None
    _print(report, args.json)
    return 0


def run_recorded(args: argparse.Namespace, snapshot: Snapshot) -> int:
    """ITEM against the rules a saved snapshot recorded: no tool run, nothing live."""
    from inspector.rules import UnknownItem, rules_for  # why: start-up
    from inspector.rules.recorded import NoRecordedRules, recorded  # why: start-up

    try:
        report = rules_for(snapshot, recorded(snapshot), args.item)
    except (NoRecordedRules, UnknownItem) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    _print(report, args.json)
    return 0


def run(args: argparse.Namespace) -> int:
    from inspector.rules import (  # why: start-up
        RulesUnavailable,
        UnknownItem,
        read_rulesets,
        rules_for,
    )

    if args.ruleset:
        if args.source or args.load or args.demo:
            raise CliError("--ruleset and a saved snapshot: name one", EXIT_USAGE)
        return run_saved(args)
    saved = saved_snapshot(args, args.source)
    if saved is not None:
        return run_recorded(args, saved)
    try:
        rulesets = read_rulesets(ipv6=args.v6)
    except RulesUnavailable as exc:
        raise CliError(str(exc), EXIT_FAILED) from None

    from inspector.live.runner import collect_snapshot  # why: start-up

    snapshot = collect_snapshot()
    try:
        report = rules_for(snapshot, rulesets, args.item)
    except UnknownItem:
        try:  # a network no container uses: only Docker knows its bridge and subnet
            report = rules_for(snapshot, rulesets, args.item, docker_networks())
        except UnknownItem as exc:
            print_warnings(snapshot)
            raise CliError(str(exc), EXIT_USAGE) from None
    print_warnings(snapshot)
    for w in rulesets.warnings:
        print(f"cnet: warning: {w}", file=sys.stderr)
    _print(report, args.json)
    return 0
