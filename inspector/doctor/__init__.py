"""The doctor: walk the troubleshooting path for each container and name the broken step.

``run_checks`` is pure (snapshot + ``DoctorFacts`` -> ``ContainerReport``), so the TUI
can re-run it on the facts it already has; ``diagnose`` gathers the live facts
(forwarding, the rulesets, sockets and resolvers, one gateway ping per namespace and
family) and runs it for many containers.  cnet never runs a fix: each check only
suggests one, and never one that deletes or edits a rule the engine owns.
"""

from __future__ import annotations

from inspector.doctor.checks import run_checks
from inspector.doctor.live import diagnose, gather_facts, ping_gateway, read_ip_forward
from inspector.doctor.model import (
    CHECK_IDS,
    CHECK_TITLES,
    IPV6_CHECK_IDS,
    NOT_PINGED,
    NOT_RECORDED,
    Check,
    ContainerReport,
    DnsFacts,
    DoctorFacts,
    GatewayPing,
    Listener,
    Status,
    display_order,
    is_unchecked,
    unchecked,
    worst_status,
)
from inspector.doctor.text import failing, format_report, format_reports, reports_to_dict

__all__ = [
    "CHECK_IDS",
    "CHECK_TITLES",
    "IPV6_CHECK_IDS",
    "NOT_PINGED",
    "NOT_RECORDED",
    "Check",
    "ContainerReport",
    "DnsFacts",
    "DoctorFacts",
    "GatewayPing",
    "Listener",
    "Status",
    "diagnose",
    "display_order",
    "failing",
    "format_report",
    "format_reports",
    "gather_facts",
    "is_unchecked",
    "ping_gateway",
    "read_ip_forward",
    "reports_to_dict",
    "run_checks",
    "unchecked",
    "worst_status",
]
