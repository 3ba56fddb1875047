"""The doctor: walk the troubleshooting path for each container and name the broken step.

``run_checks`` is pure (snapshot + ``DoctorFacts`` -> ``ContainerReport``), so the TUI
can re-run it on the facts it already has; ``diagnose`` gathers the live facts
(ip_forward, the ruleset, one gateway ping per namespace) and runs it for many
containers.  cnet never runs a fix: each check only suggests a command.
"""

from __future__ import annotations

from inspector.doctor.checks import run_checks
from inspector.doctor.live import diagnose, gather_facts, ping_gateway, read_ip_forward
from inspector.doctor.model import (
    CHECK_IDS,
    CHECK_TITLES,
    Check,
    ContainerReport,
    DoctorFacts,
    GatewayPing,
    Status,
    display_order,
    worst_status,
)
from inspector.doctor.text import format_report, format_reports, reports_to_dict

__all__ = [
    "CHECK_IDS",
    "CHECK_TITLES",
    "Check",
    "ContainerReport",
    "DoctorFacts",
    "GatewayPing",
    "Status",
    "diagnose",
    "display_order",
    "format_report",
    "format_reports",
    "gather_facts",
    "ping_gateway",
    "read_ip_forward",
    "reports_to_dict",
    "run_checks",
    "worst_status",
]
