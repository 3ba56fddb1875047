"""The doctor on a saved snapshot: the checks its links, routes, MTUs and recorded facts
allow, no traffic.

A snapshot taken on the live host records the doctor's facts (``doctor.recorded``): the
listeners, the DNS set-up, ip_forward and the rules, and the gateway pings when they were
sent, so the verdict is the one the live doctor gave at that moment.  What it does not
record skips, in the words every output uses (``unchecked``).  Used by ``cnet doctor
--from``, the reports and the TUI on a saved snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspector.doctor.checks import run_checks
from inspector.doctor.memo import Shared
from inspector.doctor.model import ContainerReport, is_unchecked
from inspector.doctor.recorded import recorded_facts
from inspector.model.snapshot import Snapshot


def offline_reports(snapshot: Snapshot, names: Sequence[str] = ()) -> list[ContainerReport]:
    """One report per container (all when ``names`` is empty); KeyError for an unknown name."""
    facts = recorded_facts(snapshot)
    chosen = list(names) or [c.name for c in snapshot.containers]
    shared = Shared(snapshot, facts)
    return [run_checks(snapshot, name, facts, shared) for name in chosen]


def not_checked(reports: Sequence[ContainerReport]) -> list[tuple[str, str]]:
    """Each check skipped for want of a fact, once per reason: ``(check id, the sentence)``,
    in walk order of first appearance."""
    found: dict[tuple[str, str], None] = {}
    for r in reports:
        if not r.running:
            continue
        for c in r.checks:
            if is_unchecked(c):
                found.setdefault((c.id, c.summary), None)
    return list(found)
