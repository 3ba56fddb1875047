"""The doctor on a saved snapshot: the checks its links, routes and MTUs allow, no traffic.

A saved snapshot records no gateway ping and not the host's ip_forward (nor, yet, the
firewall rules), so those checks skip, and say that this is why rather than that
something could not be read.  Used by ``cnet doctor --from`` and by the reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from inspector.doctor.checks import run_checks
from inspector.doctor.model import Check, ContainerReport, DoctorFacts
from inspector.model.snapshot import Snapshot

NOT_CHECKED = ("gateway", "ip-forward", "forward-drop", "masquerade")
"""The checks that need the live host."""

_FACTS = DoctorFacts(rules_problem="a saved snapshot does not record them")

_WHY = {
    "gateway": "not pinged: cnet sends no traffic for a saved snapshot",
    "ip-forward": "not read: a saved snapshot does not record net.ipv4.ip_forward",
}


def offline_reports(snapshot: Snapshot, names: Sequence[str] = ()) -> list[ContainerReport]:
    """One report per container (all when ``names`` is empty); KeyError for an unknown name."""
    chosen = list(names) or [c.name for c in snapshot.containers]
    return [_reworded(run_checks(snapshot, name, _FACTS)) for name in chosen]


def _reworded(report: ContainerReport) -> ContainerReport:
    return replace(report, checks=tuple(_offline_words(c) for c in report.checks))


def _offline_words(check: Check) -> Check:
    """Only the skips that stand for "no live fact" (not e.g. "not on a bridge")."""
    generic = (check.id == "gateway" and check.summary.startswith("not pinged")) or (
        check.id == "ip-forward" and check.summary.startswith("/proc/sys")
    )
    if check.status == "skip" and generic:
        return replace(check, summary=_WHY[check.id], evidence=())
    return check
