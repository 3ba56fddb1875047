"""The troubleshooting walk as pure functions over a snapshot and ``DoctorFacts``.

Each check looks at one step an expert would look at, in order, and says pass, warn,
fail or skip, with the evidence it read and a fix.  A fix never deletes or edits a rule
the engine owns, and the engine's own DROPs (isolation, ICC off, direct access) and
``--internal`` networks are never failures.  No I/O: the live facts (forwarding, the
rulesets, the gateway pings, sockets, resolvers) come in ``DoctorFacts``, so every check
runs on recorded data in tests.

The steps live one module each (``link``, ``bridge``, ``route``, ``firewall``, ``mtu``,
``ports``, ``dns``, ``tcp``, over ``context``); here is the walk that runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inspector.doctor.bridge import check_bridge
from inspector.doctor.context import (
    UP_STATES,
    Context,
    build_context,
    main_default_route,
    new_check,
    sh,
)
from inspector.doctor.dns import check_dns
from inspector.doctor.firewall import (
    check_forward_drop,
    check_forward_drop6,
    check_ip6_forward,
    check_ip_forward,
    check_masquerade,
)
from inspector.doctor.link import check_interface, check_veth
from inspector.doctor.memo import Shared
from inspector.doctor.model import (
    CHECK_IDS,
    Check,
    ContainerReport,
    DoctorFacts,
    unchecked,
)
from inspector.doctor.mtu import check_mtu
from inspector.doctor.ports import check_ports
from inspector.doctor.route import (
    check_gateway,
    check_gateway6,
    check_route,
    check_route6,
)
from inspector.doctor.tcp import check_tcp
from inspector.model.paths import loopback_only
from inspector.model.queries import namespace_owner
from inspector.model.snapshot import (
    Container,
    Snapshot,
)

# --- the host's own network, for host-mode containers ----------------------------------------


def _host_interface_check(snapshot: Snapshot) -> Check:
    route = main_default_route(snapshot.host.routes)
    if route is None or route.dev is None:
        return new_check(
            "interface", "skip", "host network mode: the host has no default route to follow"
        )
    uplink = snapshot.host_interface(route.dev)
    if uplink is None:
        return new_check("interface", "fail", f"host network mode: the uplink {route.dev} is gone")
    evidence = [
        (f"{uplink.name} state", uplink.state),
        (f"{uplink.name} addresses", ", ".join(uplink.addresses) or "(none)"),
    ]
    if uplink.state not in UP_STATES or not uplink.addresses:
        return new_check(
            "interface",
            "fail",
            f"host network mode: the host's uplink {uplink.name} is {uplink.state}",
            evidence,
            sh("ip", "link", "set", uplink.name, "up"),
        )
    return new_check(
        "interface",
        "pass",
        f"host network mode: the host's uplink {uplink.name} is up and addressed",
        evidence,
    )


def _host_route_check(snapshot: Snapshot) -> Check:
    route = main_default_route(snapshot.host.routes)
    if route is None:
        return new_check("route", "warn", "host network mode: the host has no IPv4 default route")
    return new_check(
        "route",
        "pass",
        f"host network mode: the host's default route is via {route.gateway} dev {route.dev}",
        [("default route", f"via {route.gateway} dev {route.dev}")],
    )


def _all_skip(reason: str, keep: Sequence[Check] = ()) -> tuple[Check, ...]:
    kept = {c.id: c for c in keep}
    return tuple(kept.get(i) or new_check(i, "skip", reason) for i in CHECK_IDS)


WALK: tuple[tuple[str, Callable[[Context], Check]], ...] = (
    ("interface", check_interface),
    ("veth", check_veth),
    ("bridge", check_bridge),
    ("route", check_route),
    ("route6", check_route6),
    ("gateway", check_gateway),
    ("gateway6", check_gateway6),
    ("ip-forward", check_ip_forward),
    ("ip6-forward", check_ip6_forward),
    ("forward-drop", check_forward_drop),
    ("forward-drop6", check_forward_drop6),
    ("masquerade", check_masquerade),
    ("mtu", check_mtu),
    ("ports", check_ports),
    ("dns", check_dns),
    ("tcp", check_tcp),
)


def run_checks(
    snapshot: Snapshot,
    container: Container | str,
    facts: DoctorFacts | None = None,
    shared: Shared | None = None,
) -> ContainerReport:
    """The whole walk for one container (pure: the live facts come in ``facts``).

    ``shared``: the answers of this run that do not depend on the container (one per
    bridge, subnet or owner), kept across the calls of a run over many containers; the
    verdicts are the same without it.  Raises KeyError for a name the snapshot does not know.
    """
    facts = facts or DoctorFacts()
    if shared is None or not shared.fits(snapshot, facts):
        shared = Shared(snapshot, facts)
    if isinstance(container, str):
        found = snapshot.container(container)
        if found is None:
            raise KeyError(container)
        container = found

    if not container.running:
        return ContainerReport(
            container.name,
            container.state,
            _all_skip(f"not running ({container.state})"),
        )
    owner = namespace_owner(snapshot, container)
    note = ""
    if owner is not container:
        note = f"shares the network namespace of {owner.name}: these are {owner.name}'s checks"
        if not owner.running:
            return ContainerReport(
                container.name,
                container.state,
                _all_skip(f"{owner.name}, whose namespace it uses, is not running"),
                note,
            )
    if owner.netns_shared_with == "host":
        reason = "host network mode: no veth, bridge, NAT or forwarding of its own"
        checks = _all_skip(reason, [_host_interface_check(snapshot), _host_route_check(snapshot)])
        checks = tuple(
            new_check(
                "gateway",
                "skip",
                "host network mode: cnet pings only a container's own Docker gateway",
            )
            if c.id == "gateway"
            else c
            for c in checks
        )
        return ContainerReport(
            container.name,
            container.state,
            checks,
            "host network mode: uses the host's network stack",
        )
    if loopback_only(owner):
        return ContainerReport(
            container.name,
            container.state,
            _all_skip(f"only loopback in its namespace (network mode {owner.network_mode})"),
            f"only loopback (network mode {owner.network_mode}): no network by design, "
            "not a failure"
            if owner.network_mode == "none"
            else f"only loopback (network mode {owner.network_mode}): no network to check",
        )
    if not owner.interfaces:
        return ContainerReport(
            container.name,
            container.state,
            _all_skip(
                unchecked(
                    "its namespace was not read",
                    owner.problem or "cnet needs root to enter namespaces",
                )
            ),
            note,
        )
    ctx = build_context(snapshot, container, facts, shared)
    return ContainerReport(
        container.name,
        container.state,
        tuple(check(ctx) for _, check in WALK),
        note,
        facts.pings.get(owner.name),
        facts.pings6.get(owner.name),
    )
