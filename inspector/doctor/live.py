"""Gather the live facts the checks need: forwarding, the rulesets, the gateway pings, the
sockets listening in each namespace, and each namespace's resolver set-up.

Read-only, and the only traffic is one short ping per namespace to its own gateway (and
one to its IPv6 gateway when it has IPv6); no DNS query is ever sent.  The pings run in
parallel threads (each enters its namespace just to make a socket) and the ruleset and
Docker's networks are read meanwhile, on daemon threads that a caller giving up does not
wait for; a host of broken containers costs one ping timeout, not one per container.
While the pings run, one drop-reason probe (``collect.tracefs``) counts why the kernel
dropped packets; a failed ping gets the reasons its own sending thread saw, else those
that rose host-wide.
Sockets come from sock_diag (``collect.sockets``, a thread steps into the namespace just
to make its socket), resolv.conf from
``/proc/PID/root/etc/resolv.conf``, and the rules inside a namespace from
``nsenter --net=/proc/PID/ns/net iptables-save`` / ``nft -j list ruleset`` (a timeout
each): nothing enters a namespace in this process for those.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from inspector.actions.ping import PingError, PingReply, PingSummary, plan_ping, run_ping
from inspector.doctor.checks import run_checks
from inspector.doctor.context import bare_address
from inspector.doctor.dns import EMBEDDED_DNS, nameservers
from inspector.doctor.memo import Shared
from inspector.doctor.model import ContainerReport, DnsFacts, DoctorFacts, GatewayPing, Listener
from inspector.doctor.recorded import record_facts
from inspector.model.background import on_daemon_thread
from inspector.model.paths import loopback_only
from inspector.model.queries import default_route, namespace_owner
from inspector.model.snapshot import Container, Snapshot
from inspector.rules import (
    Rulesets,
    RulesUnavailable,
    capture,
    parse_captured,
    read_rulesets,
    run_command,
)
from inspector.rules.read import RunResult

if TYPE_CHECKING:
    from inspector.collect.tracefs import DropReport

IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
IP6_FORWARD = "/proc/sys/net/ipv6/conf/all/forwarding"
NSENTER_TIMEOUT_S = 5.0
PING_COUNT = 2
PING_INTERVAL_S = 0.05
PING_TIMEOUT_S = 1.0
MAX_PING_THREADS = 16
NSENTER_THREADS = 8


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
        return _RulesRead(read_rulesets(ipv6=True), None)
    except RulesUnavailable as exc:
        return _RulesRead(None, str(exc))
    except Exception as exc:  # a parser surprise must not take the other checks down
        return _RulesRead(None, f"the ruleset could not be read ({type(exc).__name__}: {exc})")


def read_no_nat_networks(timeout: float = 5.0) -> dict[str, str]:
    """Docker networks built without NAT on purpose (``--internal``, or masquerading off).

    Best effort: when the engine cannot be asked, nothing is exempt and the masquerade
    check judges by the rules alone.
    """
    from inspector.collect.engine import read_networks  # why: only on the live host

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
    target: str | None = None,
) -> GatewayPing:
    """Ping the namespace's own gateway (or ``target``, its IPv6 gateway) from inside it
    (``skipped`` says why not)."""
    try:
        plan = plan_ping(snapshot, owner.name, target)
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


def with_drops(
    ping: GatewayPing, report: DropReport, thread: int, threads: Sequence[int]
) -> GatewayPing:
    """A failed ping with the kernel's drop reasons: those in its own sending thread when
    that thread sent no other ping, else those that rose host-wide."""
    if ping.received or ping.skipped or not ping.transmitted:
        return ping
    own = report.in_thread(thread) if threads.count(thread) == 1 else ()
    if own:
        drops, scope = own, "this ping's packets"
    else:
        drops, scope = report.rose, "host-wide count"
    found = tuple(replace(d, thread=0) for d in drops)
    return replace(ping, drops=found, drops_scope=scope if found else "")


def _rp_bridges(snapshot: Snapshot, ping: GatewayPing) -> list[str]:
    """The bridges holding a ping's target, when the kernel named the reverse-path filter."""
    if not any(d.reason == "IP_RPFILTER" for d in ping.drops):
        return []
    return [
        b.name for b in snapshot.bridges if any(bare_address(a) == ping.target for a in b.addresses)
    ]


def _rp_filter(devices: set[str]) -> dict[str, int]:
    from inspector.collect.tracefs import read_rp_filter  # why: only on the live host

    return read_rp_filter(devices) if devices else {}


def _ping_targets(snapshot: Snapshot, containers: Sequence[Container]) -> list[Container]:
    """One namespace owner per distinct namespace that has a network of its own."""
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


def gateway6_target(owner: Container) -> str | None:
    """The IPv6 default gateway of the namespace (``addr%dev`` when link-local)."""
    import ipaddress

    route = default_route(tuple(owner.routes), 6)
    if route is None or route.gateway is None:
        return None
    if ipaddress.ip_address(route.gateway).is_link_local and route.dev:
        return f"{route.gateway}%{route.dev}"
    return route.gateway


def read_listeners(pid: int | None) -> tuple[Listener, ...] | None:
    """Sockets listening in the namespace of ``pid`` (this thread's own when None), read
    through sock_diag with a state filter; None if the namespace could not be read."""
    from inspector.collect.sockets import read_sockets  # why: only on the live host

    read = read_sockets(pid, processes=False)
    if read.problem is not None and not read.sockets:
        return None
    found: list[Listener] = []
    for s in read.listeners:
        listener = Listener(s.protocol, s.local, s.local_port)
        if listener not in found:
            found.append(listener)
    return tuple(found)


def read_namespace_rules(
    pid: int,
) -> tuple[Rulesets | None, str | None, tuple[tuple[str, str], ...]]:
    """The rules inside a namespace, read by the tools run under ``nsenter --net``: parsed,
    why not, and the tools' texts."""
    import shutil

    nsenter = shutil.which("nsenter")
    if nsenter is None:
        return None, "nsenter is not installed (util-linux)", ()

    def runner(argv: Sequence[str], timeout: float) -> RunResult:
        return run_command([nsenter, f"--net=/proc/{pid}/ns/net", *argv], timeout)

    try:
        texts = capture(runner, ipv6=False, timeout=NSENTER_TIMEOUT_S, proc_net=f"/proc/{pid}/net")
    except RulesUnavailable as exc:
        return None, str(exc), ()
    return parse_captured(texts), None, tuple(texts)


def read_dns(owner: Container) -> DnsFacts:
    """resolv.conf of the namespace owner and, when it names Docker's embedded resolver,
    the rules inside its namespace.  Nothing is queried."""
    if owner.pid is None:
        return DnsFacts(problem="no process id")
    try:
        with open(f"/proc/{owner.pid}/root/etc/resolv.conf", encoding="utf-8") as f:
            text = f.read(65536)
    except OSError as exc:
        return DnsFacts(problem=exc.strerror or str(exc))
    if EMBEDDED_DNS not in nameservers(text):
        return DnsFacts(resolv_conf=text)
    rulesets, problem, texts = read_namespace_rules(owner.pid)
    return DnsFacts(resolv_conf=text, rulesets=rulesets, rules_problem=problem, texts=texts)


def _namespace_facts(
    owners: Sequence[Container], publishing: set[str]
) -> tuple[dict[str, tuple[Listener, ...]], dict[str, DnsFacts]]:
    """Each namespace's resolver and, where a check looks at them (a published port, or
    Docker's embedded resolver), its listening sockets.

    Only there: four ``/proc/PID/net`` files for each of 200 containers cost 1.5 s of CPU
    on every change the TUI's marks were worked out for; sock_diag is cheaper (about 1 ms
    a namespace) but still not free.
    """
    listeners: dict[str, tuple[Listener, ...]] = {}
    # one nsenter + iptables-save per namespace on a user network: waited for in parallel
    with ThreadPoolExecutor(max_workers=NSENTER_THREADS) as pool:
        dns = dict(zip((o.name for o in owners), pool.map(read_dns, owners), strict=True))
    for owner in owners:
        if owner.name not in publishing and dns[owner.name].rulesets is None:
            continue
        found = read_listeners(owner.pid)
        if found is not None:
            listeners[owner.name] = found
    return listeners, dns


def _publishing(snapshot: Snapshot, containers: Sequence[Container]) -> set[str]:
    """The namespace owners behind the containers that publish a port on the host."""
    return {
        namespace_owner(snapshot, c).name
        for c in containers
        if any(p.host_port is not None for p in c.ports)
    }


def gather_facts(
    snapshot: Snapshot,
    containers: Sequence[Container],
    *,
    ping: bool = True,
    stop: threading.Event | None = None,
    read_rules: bool = True,
) -> DoctorFacts:
    """Forwarding, the rulesets (unless ``read_rules`` is False: the caller has them),
    sockets and resolvers, and (when ``ping``) each namespace's gateway pings."""
    from inspector.collect.snmp import read_health  # why: only on the live host

    namespaces = _ping_targets(snapshot, containers)
    owners = namespaces if ping else []
    # The tools (iptables-save: 10 s timeout, Docker: 5 s) on daemon threads, so that a
    # caller that gives up (the TUI quitting) is not held by them; the pings (1 s each)
    # in a bounded pool.
    rules_future = on_daemon_thread(
        _read_rules if read_rules else lambda: _RulesRead(None, None), "cnet-doctor-rules"
    )
    no_nat_future = on_daemon_thread(read_no_nat_networks, "cnet-doctor-networks")
    publishing = _publishing(snapshot, containers)
    namespace_future = on_daemon_thread(
        lambda: _namespace_facts(namespaces, publishing), "cnet-doctor-ns"
    )
    pings: dict[str, GatewayPing] = {}
    pings6: dict[str, GatewayPing] = {}
    drops_problem: str | None = None
    if owners:
        from inspector.collect.tracefs import start_probe  # why: only on the live host

        probe, drops_problem = start_probe()
        v6 = {o.name: t for o in owners if (t := gateway6_target(o)) is not None}
        try:
            with ThreadPoolExecutor(max_workers=min(MAX_PING_THREADS, len(owners))) as pool:

                def watched(owner: Container, target: str | None) -> tuple[int, GatewayPing]:
                    tid = probe.watch() if probe is not None else 0
                    return tid, ping_gateway(snapshot, owner, stop=stop, target=target)

                futures = {o.name: pool.submit(watched, o, None) for o in owners}
                futures6 = {
                    o.name: pool.submit(watched, o, v6[o.name]) for o in owners if o.name in v6
                }
                done = {name: f.result() for name, f in futures.items()}
                done6 = {name: f.result() for name, f in futures6.items()}
            if probe is not None:
                report = probe.finish()
                threads = [tid for tid, _ in (*done.values(), *done6.values())]
                pings = {n: with_drops(p, report, tid, threads) for n, (tid, p) in done.items()}
                pings6 = {n: with_drops(p, report, tid, threads) for n, (tid, p) in done6.items()}
            else:
                pings = {name: p for name, (_, p) in done.items()}
                pings6 = {name: p for name, (_, p) in done6.items()}
        finally:
            if probe is not None:
                probe.close()
    rules = rules_future.result()
    no_nat = no_nat_future.result()
    listeners, dns = namespace_future.result()
    return DoctorFacts(
        ip_forward=read_ip_forward(),
        rulesets=rules.rulesets,
        rules_problem=rules.problem,
        pings=pings,
        no_nat=no_nat,
        ip6_forward=read_ip_forward(IP6_FORWARD),
        pings6=pings6,
        listeners=listeners,
        host_listeners=read_listeners(None),
        dns=dns,
        tcp_health={o.name: h for o in namespaces if (h := read_health(o.pid)) is not None},
        pinged=ping,
        drops_problem=drops_problem,
        rp_filter=_rp_filter(
            {b for p in (*pings.values(), *pings6.values()) for b in _rp_bridges(snapshot, p)}
        ),
    )


def record_doctor_facts(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with the facts the doctor reads now (no ping; its rules are the ones
    recorded with it), so that a saved copy is judged as the live host is."""
    facts = gather_facts(snapshot, snapshot.containers, ping=False, read_rules=False)
    return record_facts(snapshot, facts)


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
    shared = Shared(snapshot, facts)
    return [run_checks(snapshot, c, facts, shared) for c in chosen]
