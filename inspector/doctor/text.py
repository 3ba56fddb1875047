"""The doctor's words: one block per container for people, and the documented JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.doctor.model import Check, ContainerReport, display_order, worst_status

_COLOURS = {"fail": "\033[1;31m", "warn": "\033[33m", "pass": "\033[32m", "skip": "\033[2m"}
_RESET = "\033[0m"


def _paint(status: str, text: str, colour: bool) -> str:
    return f"{_COLOURS[status]}{text}{_RESET}" if colour else text


def _headline(report: ContainerReport) -> str:
    if not report.running:
        return f"not running ({report.state})"
    first = report.first_failure
    if first is not None:
        return f"FAIL at {first.id}"
    return {"warn": "WARN", "pass": "ok", "skip": "nothing to check"}[worst_status(report)]


def _check_lines(check: Check, colour: bool, verbose: bool) -> list[str]:
    status = _paint(check.status, f"{check.status:<4}", colour)
    lines = [f"  {status}  {check.id:<12}  {check.summary}"]
    if check.status in ("fail", "warn") or verbose:
        pad = " " * 22
        for key, value in check.evidence:
            lines.append(f"{pad}{key}: {value}")
        if check.fix:
            lines.append(f"{pad}fix: {check.fix}")
    return lines


def format_report(report: ContainerReport, *, colour: bool = False, verbose: bool = False) -> str:
    """One container's block: its name and verdict, then failing checks first."""
    head = f"{report.name}: {_paint(worst_status(report), _headline(report), colour)}"
    lines = [head]
    if report.note:
        lines.append(f"  {report.note}")
    skips = {c.summary for c in report.checks if c.status == "skip"}
    if not verbose and all(c.status == "skip" for c in report.checks) and len(skips) == 1:
        lines.append(f"  {_paint('skip', 'skip', colour)}  every check: {skips.pop()}")
        return "\n".join(lines)
    for check in display_order(report):
        lines.extend(_check_lines(check, colour, verbose))
    return "\n".join(lines)


def format_reports(
    reports: Sequence[ContainerReport], *, colour: bool = False, verbose: bool = False
) -> str:
    """Every block, then one line that counts the verdicts."""
    if not reports:
        return "no containers\n"
    blocks = [format_report(r, colour=colour, verbose=verbose) for r in reports]
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
    return "\n\n".join(blocks) + f"\n\n{len(reports)} {noun}: {tally or 'none'}\n"


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
    plus each container's ``state``, worst ``status`` and ``note``."""
    return {
        "containers": [
            {
                "name": r.name,
                "state": r.state,
                "status": worst_status(r),
                "note": r.note,
                "checks": [check_to_dict(c) for c in r.checks],
            }
            for r in reports
        ]
    }
