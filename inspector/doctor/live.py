"""Gather the live facts the checks need: ip_forward, the ruleset, the gateway pings.

Read-only, and the only traffic is one short ping per namespace to its own gateway.
The pings run in parallel threads (each enters its namespace just to make a socket) and
the ruleset and Docker's networks are read meanwhile, on daemon threads that a caller
giving up does not wait for; a host of broken containers costs one ping timeout, not one
per container.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from inspector.background import on_daemon_thread
from inspector.doctor.checks import run_checks
from inspector.doctor.model import ContainerReport, DoctorFacts, GatewayPing
from inspector.model import Container, Snapshot
from inspector.paths import loopback_only
from inspector.rules import Rulesets, RulesUnavailable, read_rulesets

IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
PING_COUNT = 2
PING_INTERVAL_S = 0.05
PING_TIMEOUT_S = 1.0
MAX_PING_THREADS = 16


@dataclass(frozen=True)
class _RulesRead:
    rulesets: Rulesets | None
    problem: str | None


def read_ip_forward(path: str = IP_FORWARD) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None


def _read_rules() -> _RulesRead:
    try:
        return _RulesRead(read_rulesets(), None)
    except RulesUnavailable as exc:
        return _RulesRead(None, str(exc))
    except Exception as exc:  # a parser surprise must not take the other checks down
        return _RulesRead(None, f"the ruleset could not be read ({type(exc).__name__}: {exc})")


def read_no_nat_networks(timeout: float = 5.0) -> dict[str, str]:
    """Docker networks built without NAT on purpose (``--internal``, or masquerading off).

    Best effort: when the engine cannot be asked, nothing is exempt and the masquerade
    check judges by the rules alone.
    """
    from inspector.collect.engine import read_networks

    exempt: dict[str, str] = {}
    for net in read_networks(timeout):
        name = str(net.get("Name") or "")
        options = net.get("Options") or {}
        if net.get("Internal"):
            exempt[name] = "internal network: no way out, no NAT, by design"
        elif options.get("com.docker.network.bridge.enable_ip_masquerade") == "false":
            exempt[name] = "network created with enable_ip_masquerade=false"
    return exempt


def ping_gateway(
    snapshot: Snapshot,
    owner: Container,
    *,
    count: int = PING_COUNT,
    interval: float = PING_INTERVAL_S,
    timeout: float = PING_TIMEOUT_S,
    stop: threading.Event | None = None,
) -> GatewayPing:
    """Ping the namespace's own gateway from inside it (``skipped`` says why not)."""
    from inspector.ping import PingError, PingReply, PingSummary, plan_ping, run_ping

    try:
        plan = plan_ping(snapshot, owner.name)
    except PingError as exc:
        return GatewayPing("", timeout_s=timeout, skipped=str(exc))
    fastest: float | None = None
    try:
        for event in run_ping(plan, count=count, interval=interval, timeout=timeout, stop=stop):
            if isinstance(event, PingReply):
                fastest = event.rtt_ms if fastest is None else min(fastest, event.rtt_ms)
            elif isinstance(event, PingSummary):
                return GatewayPing(plan.target, event.transmitted, event.received, fastest, timeout)
    except PingError as exc:
        return GatewayPing(plan.target, 0, 0, None, timeout, str(exc))
    return GatewayPing(plan.target, 0, 0, None, timeout, "stopped")


def _ping_targets(snapshot: Snapshot, containers: Sequence[Container]) -> list[Container]:
    """One namespace owner per distinct namespace that has a network of its own."""
    from inspector.ping import namespace_owner

    owners: dict[str, Container] = {}
    for c in containers:
        if not c.running:
            continue
        owner = namespace_owner(snapshot, c)
        if (
            owner.running
            and owner.pid is not None
            and owner.netns_shared_with != "host"
            and not loopback_only(owner)
            and owner.interfaces
        ):
            owners.setdefault(owner.name, owner)
    return list(owners.values())


def gather_facts(
    snapshot: Snapshot,
    containers: Sequence[Container],
    *,
    ping: bool = True,
    stop: threading.Event | None = None,
) -> DoctorFacts:
    """ip_forward, the ruleset and (when ``ping``) each namespace's gateway ping."""
    owners = _ping_targets(snapshot, containers) if ping else []
    # The tools (iptables-save: 10 s timeout, Docker: 5 s) on daemon threads, so that a
    # caller that gives up (the TUI quitting) is not held by them; the pings (1 s each)
    # in a bounded pool.
    rules_future = on_daemon_thread(_read_rules, "cnet-doctor-rules")
    no_nat_future = on_daemon_thread(read_no_nat_networks, "cnet-doctor-networks")
    pings: dict[str, GatewayPing] = {}
    if owners:
        with ThreadPoolExecutor(max_workers=min(MAX_PING_THREADS, len(owners))) as pool:
            futures = {o.name: pool.submit(ping_gateway, snapshot, o, stop=stop) for o in owners}
            pings = {name: f.result() for name, f in futures.items()}
    rules = rules_future.result()
    no_nat = no_nat_future.result()
    return DoctorFacts(
        ip_forward=read_ip_forward(),
        rulesets=rules.rulesets,
        rules_problem=rules.problem,
        pings=pings,
        no_nat=no_nat,
    )


def diagnose(
    snapshot: Snapshot,
    names: Sequence[str] = (),
    *,
    ping: bool = True,
    stop: threading.Event | None = None,
) -> list[ContainerReport]:
    """Every named container (all when none is named), with live facts; KeyError for
    a name the snapshot does not know.  The TUI calls this from a worker thread."""
    if names:
        chosen: list[Container] = []
        for name in names:
            c = snapshot.container(name)
            if c is None:
                raise KeyError(name)
            if c not in chosen:
                chosen.append(c)
    else:
        chosen = list(snapshot.containers)
    facts = gather_facts(snapshot, chosen, ping=ping, stop=stop)
    return [run_checks(snapshot, c, facts) for c in chosen]
