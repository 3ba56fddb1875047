"""The doctor's words: one block per container for people, and the documented JSON.

Failing containers come first, and in each block failing and warning checks come first
with their evidence and fix; passing checks share one line, skipped ones one line per
reason (``verbose`` shows every check in full).  The last line counts the verdicts and
names the failing containers, so a long run ends with what to look at.  Every name and
word taken from the host goes through ``safe`` (the JSON keeps them exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.doctor.model import Check, ContainerReport, display_order, worst_status
from inspector.model.safe import safe

_COLOURS = {"fail": "\033[1;31m", "warn": "\033[33m", "pass": "\033[32m", "skip": "\033[2m"}
_RESET = "\033[0m"


def _paint(status: str, text: str, colour: bool) -> str:
    return f"{_COLOURS[status]}{text}{_RESET}" if colour else text


def _headline(report: ContainerReport) -> str:
    if not report.running:
        return f"not running ({safe(report.state)})"
    first = report.first_failure
    if first is not None:
        return f"FAIL at {first.id}"
    word = {"warn": "WARN", "pass": "ok", "skip": "nothing to check"}[worst_status(report)]
    return word if report.pinged else f"{word} (without the gateway ping)"


def _check_lines(check: Check, colour: bool, verbose: bool) -> list[str]:
    status = _paint(check.status, f"{check.status:<4}", colour)
    lines = [f"  {status}  {check.id:<12}  {safe(check.summary)}"]
    if check.status in ("fail", "warn") or verbose:
        pad = " " * 22
        for key, value in check.evidence:
            lines.append(f"{pad}{safe(key)}: {safe(value)}")
        if check.fix:
            lines.append(f"{pad}fix: {safe(check.fix)}")
    return lines


def format_report(report: ContainerReport, *, colour: bool = False, verbose: bool = False) -> str:
    """One container's block: its name and verdict, then failing checks first."""
    head = f"{safe(report.name)}: {_paint(worst_status(report), _headline(report), colour)}"
    lines = [head]
    if report.note:
        lines.append(f"  {safe(report.note)}")
    skips = {c.summary for c in report.checks if c.status == "skip"}
    if not verbose and all(c.status == "skip" for c in report.checks) and len(skips) == 1:
        lines.append(f"  {_paint('skip', 'skip', colour)}  every check: {safe(skips.pop())}")
        return "\n".join(lines)
    if verbose:
        for check in display_order(report):
            lines.extend(_check_lines(check, colour, verbose))
        return "\n".join(lines)
    for check in display_order(report):
        if check.status in ("fail", "warn"):
            lines.extend(_check_lines(check, colour, verbose))
    passed = [c.id for c in report.checks if c.status == "pass"]
    if passed:
        lines.append(f"  {_paint('pass', 'pass', colour)}  {', '.join(passed)}")
    by_reason: dict[str, list[str]] = {}
    for c in report.checks:
        if c.status == "skip":
            by_reason.setdefault(c.summary, []).append(c.id)
    for reason, ids in by_reason.items():
        lines.append(f"  {_paint('skip', 'skip', colour)}  {', '.join(ids)}: {safe(reason)}")
    return "\n".join(lines)


_ORDER = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}


def _rank(report: ContainerReport) -> int:
    return _ORDER[worst_status(report)] if report.running else 4


def failing(reports: Sequence[ContainerReport]) -> list[ContainerReport]:
    """The containers with a failing check (``--failed``)."""
    return [r for r in reports if r.first_failure is not None]


def format_reports(
    reports: Sequence[ContainerReport], *, colour: bool = False, verbose: bool = False
) -> str:
    """Every block, then one line that counts the verdicts."""
    if not reports:
        return "no containers\n"
    ordered = sorted(reports, key=_rank)  # stable: failures first, then the given order
    blocks = [format_report(r, colour=colour, verbose=verbose) for r in ordered]
    counts = {"fail": 0, "warn": 0, "ok": 0, "not running": 0, "nothing to check": 0}
    for r in reports:
        if not r.running:
            counts["not running"] += 1
        else:
            counts[
                {"fail": "fail", "warn": "warn", "pass": "ok", "skip": "nothing to check"}[
                    worst_status(r)
                ]
            ] += 1
    tally = ", ".join(f"{n} {word}" for word, n in counts.items() if n)
    noun = "container" if len(reports) == 1 else "containers"
    last = f"{len(reports)} {noun}: {tally or 'none'}"
    bad = failing(reports)
    if bad:
        last += "; failing: " + ", ".join(
            f"{safe(r.name)} (at {r.first_failure.id})" for r in bad if r.first_failure
        )
    if not all(r.pinged for r in reports if r.running):
        last += "; gateways not pinged"
    return "\n\n".join(blocks) + f"\n\n{last}\n"


def check_to_dict(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "status": check.status,
        "summary": check.summary,
        "evidence": dict(check.evidence),
        "fix": check.fix,
    }


def reports_to_dict(reports: Sequence[ContainerReport]) -> dict[str, Any]:
    """``{"containers": [{"name", "checks": [{"id", "status", "summary", "evidence", "fix"}]}]}``
    plus each container's ``state``, worst ``status``, ``note`` and ``pinged`` (False: the
    verdict was made without the gateway ping)."""
    return {
        "containers": [
            {
                "name": r.name,
                "state": r.state,
                "status": worst_status(r),
                "note": r.note,
                "pinged": r.pinged,
                "checks": [check_to_dict(c) for c in r.checks],
            }
            for r in reports
        ]
    }
