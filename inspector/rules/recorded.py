"""The rulesets a snapshot was taken with: recorded from the live host, read back offline.

``record`` adds the raw texts of ``iptables-save -c``, ``ip6tables-save -c`` and
``nft -j list ruleset`` to a snapshot (``Snapshot.rulesets``), so a report, ``cnet diff``
and ``cnet rules --from`` work on another machine.  Reading a firewall may fail (no
root, no tool): the snapshot then records none and says why in a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from inspector.model.background import on_daemon_thread
from inspector.model.snapshot import RulesetText, Snapshot
from inspector.rules.model import Rulesets, RulesUnavailable
from inspector.rules.read import capture, parse_captured


def record(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with this host's rulesets as they are now."""
    return recorder()(snapshot)


def recorder() -> Callable[[Snapshot], Snapshot]:
    """Start reading this host's rulesets now, on a daemon thread (the tools are
    subprocesses: they run while the caller collects); the function returned adds them
    to a snapshot, waiting for them if need be."""
    captured = on_daemon_thread(lambda: capture(ipv6=True), "cnet-rules-record")

    def attach(snapshot: Snapshot) -> Snapshot:
        try:
            texts = captured.result()
        except RulesUnavailable as exc:
            return replace(
                snapshot, warnings=(*snapshot.warnings, f"no firewall rules recorded: {exc}")
            )
        return replace(snapshot, rulesets=tuple(RulesetText(s, t) for s, t in texts))

    return attach


class NoRecordedRules(Exception):
    """The snapshot was taken without its rulesets."""


def recorded(snapshot: Snapshot) -> Rulesets:
    """The rulesets recorded with ``snapshot``, parsed; NoRecordedRules when there are none."""
    if not snapshot.rulesets:
        raise NoRecordedRules(
            f"the snapshot of {snapshot.hostname} taken at {snapshot.taken_at} records no "
            "firewall rules (taken by an older cnet, or without root)"
        )
    parsed = parse_captured([(r.source, r.text) for r in snapshot.rulesets])
    return replace(parsed, sources=tuple(f"{r.source} (recorded)" for r in snapshot.rulesets))
