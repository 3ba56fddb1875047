"""ICMP echo from inside a container's network namespace, with no ping tool anywhere.

The worker thread steps into the namespace only long enough to create icmplib's raw
ICMP socket (a socket stays bound to the namespace it was made in, see
``collect.netns``), so images without ``ping`` and hosts without a ping binary work
alike.  icmplib builds the requests and parses what comes back; replies are counted only
when their id (random per session), sequence and source are ours, so replies to other
pingers in the same namespace never are.

Two steps, so a TUI can show the plan before any packet leaves and stream the rest:
``plan_ping`` resolves CONTAINER and TARGET against a snapshot (pure, raises
``PingError``); ``run_ping`` yields ``PingReply``/``PingTimeout``/``PingProblem`` as
they happen and ends with one ``PingSummary``.  ``ping_iter`` chains both.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import os
import random
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from inspector.model.paths import addresses, loopback_only
from inspector.model.queries import bridge_behind, container_gateway, default_route, namespace_owner
from inspector.model.snapshot import Container, Interface, Snapshot

if TYPE_CHECKING:
    from icmplib import ICMPReply, ICMPRequest

# icmplib (with the asyncio it imports, ~45 ms) is imported only when packets are sent:
# planning a ping, and the doctor's use of the helpers here, stay light.

PAYLOAD_SIZE = 56  # data bytes, as ping sends by default
MAX_COUNT = 10_000
MIN_INTERVAL_S = 0.01
MAX_INTERVAL_S = 60.0
MIN_TIMEOUT_S = 0.01
MAX_TIMEOUT_S = 60.0
MAX_SIZE = 65_507  # the most data an IPv4 echo request can carry
_SELECT_SLICE_S = 0.1  # how late a stop request may be noticed

EXIT_FAILED = 1
EXIT_USAGE = 2

# A container name as Docker allows it, or a hex id prefix; anything else is refused.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class PingError(Exception):
    """Why a ping cannot start, as one line; ``code`` is the exit code (1 state, 2 usage)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PingPlan:
    """Who pings whom: resolved from a snapshot before any packet leaves.

    ``pid`` is the process whose network namespace sends (None: the host's own).
    ``scope_id`` is the ifindex for a link-local IPv6 target inside that namespace.
    """

    container: str
    namespace: str  # in words: "cnetlab-bridge", "cnetlab-bridge (shared by x)", "the host"
    pid: int | None
    target: str
    target_label: str
    family: int
    scope_id: int = 0
    mode_note: str = ""
    size: int = PAYLOAD_SIZE  # data bytes in each request (sent with DF, as ping does)

    @property
    def header(self) -> str:
        label = f" ({self.target_label})" if self.target_label else ""
        return (
            f"PING {self.target}{label} from the network namespace of {self.namespace}: "
            f"{self.size} data bytes"
        )


@dataclass(frozen=True)
class PingReply:
    """An echo reply that matched one of ours (``size``: ICMP bytes, as ping counts them).

    No TTL: icmplib's replies do not carry the IP header's TTL or hop limit.
    """

    seq: int
    source: str
    size: int
    rtt_ms: float


@dataclass(frozen=True)
class PingTimeout:
    """No reply to ``seq`` within the timeout (ping prints nothing; a TUI may)."""

    seq: int


@dataclass(frozen=True)
class PingProblem:
    """A send error, or an ICMP error about one of our requests (unreachable, TTL)."""

    seq: int
    source: str | None
    message: str


@dataclass(frozen=True)
class PingSummary:
    """The statistics ping prints at the end."""

    target: str
    transmitted: int
    received: int
    errors: int
    elapsed_ms: float
    rtts_ms: tuple[float, ...] = field(default=(), repr=False)
    stopped: bool = False

    @property
    def loss_percent(self) -> float:
        if self.transmitted == 0:
            return 0.0
        return 100.0 * (self.transmitted - self.received) / self.transmitted

    @property
    def rtt_min(self) -> float | None:
        return min(self.rtts_ms) if self.rtts_ms else None

    @property
    def rtt_avg(self) -> float | None:
        return sum(self.rtts_ms) / len(self.rtts_ms) if self.rtts_ms else None

    @property
    def rtt_max(self) -> float | None:
        return max(self.rtts_ms) if self.rtts_ms else None

    @property
    def rtt_mdev(self) -> float | None:
        if not self.rtts_ms:
            return None
        avg = sum(self.rtts_ms) / len(self.rtts_ms)
        mean_sq = sum(r * r for r in self.rtts_ms) / len(self.rtts_ms)
        return math.sqrt(max(0.0, mean_sq - avg * avg))


PingEvent = PingReply | PingTimeout | PingProblem | PingSummary


# --- resolving CONTAINER and TARGET (pure) -------------------------------------------


def check_parameters(count: int | None, interval: float, timeout: float) -> None:
    """Refuse counts and timings that would flood or hang (PingError, code 2)."""
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise PingError(f"count must be between 1 and {MAX_COUNT}, not {count}", EXIT_USAGE)
    if not (MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S):  # also refuses NaN
        raise PingError(
            f"interval must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S:g} s, not {interval:g}",
            EXIT_USAGE,
        )
    if not (MIN_TIMEOUT_S <= timeout <= MAX_TIMEOUT_S):
        raise PingError(
            f"timeout must be between {MIN_TIMEOUT_S} and {MAX_TIMEOUT_S:g} s, not {timeout:g}",
            EXIT_USAGE,
        )


def _host_address(snapshot: Snapshot, container: Container) -> tuple[str, str] | None:
    """``host``: the bridge address the container sits behind (else its gateway)."""
    owner = namespace_owner(snapshot, container)
    if owner.netns_shared_with == "host":
        return "127.0.0.1", "the host itself"
    route = default_route(owner.routes)
    devs = [route.dev] if route is not None else []
    devs += [i.name for i in owner.interfaces if i.name not in devs]
    for dev in devs:
        bridge_name = bridge_behind(owner, dev)
        bridge = snapshot.bridge(bridge_name) if bridge_name else None
        if bridge is None:
            continue
        for cidr in bridge.addresses:
            ip = ipaddress.ip_interface(cidr)
            if ip.version == 4:
                return str(ip.ip), f"the host's address on {bridge.name}"
    gateway = container_gateway(snapshot, container)
    if gateway is not None:
        return gateway[0], gateway[1] + " (no bridge found: the gateway stands in for the host)"
    return None


def _container_address(snapshot: Snapshot, source: Container, target: Container) -> tuple[str, str]:
    """Its address on a network both share, else its first address."""
    if not target.running:
        raise PingError(f"target container {target.name} is not running ({target.state})")
    owner = namespace_owner(snapshot, target)
    if owner.netns_shared_with == "host":
        raise PingError(
            f"target container {target.name} uses the host's network: ping `host` or an address",
            EXIT_USAGE,
        )
    if not addresses(owner):
        raise PingError(
            f"target container {target.name} has no address (network mode {owner.network_mode})"
        )
    mine = {n.name for n in namespace_owner(snapshot, source).networks}
    for net in owner.networks:
        if net.ip and net.name in mine:
            return net.ip, f"container {target.name} on {net.name}"
    return addresses(owner)[0], f"container {target.name}, its first address; no network in common"


def _parse_address(text: str, where: str, interfaces: tuple[Interface, ...]) -> tuple[str, int]:
    """A literal address (IPv6 with an optional %interface of the sending namespace)."""
    if "%" in text:
        address, _, zone = text.partition("%")
        ip = ipaddress.ip_address(address)
        if ip.version != 6:
            raise ValueError(text)
        iface = next((i for i in interfaces if i.name == zone), None)
        if iface is None:
            raise PingError(f"{where} has no interface {zone!r}", EXIT_USAGE)
        return str(ip), iface.ifindex
    ip = ipaddress.ip_address(text)
    if ip.is_unspecified or ip.is_multicast:
        raise PingError(f"{text} is not an address one can ping", EXIT_USAGE)
    if ip.version == 6 and ip.is_link_local:
        raise PingError(f"link-local {text} needs its interface: {text}%eth0", EXIT_USAGE)
    return str(ip), 0


def plan_ping(snapshot: Snapshot, container: str, target: str | None = None) -> PingPlan:
    """Resolve who pings whom, or raise PingError with one line (code 1 state, 2 usage).

    TARGET: None (the gateway), an IPv4/IPv6 literal, ``host``, or a container name/id.
    Nothing else is accepted, and nothing is ever handed to a shell.
    """
    source = snapshot.container(container)
    if source is None:
        raise PingError(f"no such container: {container!r}", EXIT_USAGE)
    if source.running and source.pid is None and source.runtime != "docker":
        raise PingError(  # an ip netns namespace: only a bind mount keeps it
            f"{source.name} has no process to enter its namespace by: nothing to ping from"
        )
    if source.running and source.pid is None:
        why = source.problem or "cnet has not read its namespace yet (try again in a moment)"
        raise PingError(f"container {source.name} is {source.state}, but {why}")
    if not source.running or source.pid is None:
        raise PingError(
            f"container {source.name} is not running ({source.state}): nothing to ping from"
        )
    owner = namespace_owner(snapshot, source)
    if owner is not source and (not owner.running or owner.pid is None):
        raise PingError(
            f"container {owner.name}, whose namespace {source.name} uses, is not running"
        )
    host_mode = owner.netns_shared_with == "host"
    if host_mode:
        namespace = f"the host ({source.name} uses host networking)"
    elif owner is not source:
        namespace = f"{owner.name} (shared by {source.name})"
    else:
        namespace = source.name

    scope_id = 0
    if (target is None or target == "") and host_mode:
        raise PingError(_host_mode_reason(snapshot, source))
    if target is None or target == "":
        resolved = container_gateway(snapshot, source)
        if resolved is None:
            raise PingError(_no_gateway_reason(owner))
        address, label = resolved
    elif target == "host":
        host = _host_address(snapshot, source)
        if host is None:
            raise PingError(_no_gateway_reason(owner))
        address, label = host
    else:
        try:
            interfaces = snapshot.host.interfaces if host_mode else owner.interfaces
            address, scope_id = _parse_address(target, namespace, interfaces)
            label = ""
        except ValueError:
            if not _NAME_RE.match(target):
                raise PingError(
                    f"TARGET must be an IP address, a container name or `host`, not {target!r}",
                    EXIT_USAGE,
                ) from None
            other = snapshot.container(target)
            if other is None:
                raise PingError(
                    f"TARGET {target!r} is neither an address nor a known container", EXIT_USAGE
                ) from None
            address, label = _container_address(snapshot, source, other)
    ip = ipaddress.ip_address(address)
    if loopback_only(owner) and not host_mode and not ip.is_loopback:
        raise PingError(
            f"container {source.name} has only loopback (network mode {owner.network_mode}): "
            f"no route to {address}"
        )
    return PingPlan(
        container=source.name,
        namespace=namespace,
        pid=None if host_mode else owner.pid,
        target=address,
        target_label=label,
        family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
        scope_id=scope_id,
    )


def _host_mode_reason(snapshot: Snapshot, source: Container) -> str:
    """Why a host-network container has no default target: its gateway is the host's."""
    route = default_route(snapshot.host.routes) or default_route(snapshot.host.routes, 6)
    via = f" on {route.dev}" if route is not None and route.dev else ""
    gateway = (
        f", whose gateway {route.gateway}{via} is off this machine" if route is not None else ""
    )
    return (
        f"container {source.name} uses the host's network{gateway}: "
        "name a TARGET (an address, a container or `host`)"
    )


def _no_gateway_reason(owner: Container) -> str:
    if loopback_only(owner):
        return (
            f"container {owner.name} has only loopback (network mode {owner.network_mode}):"
            " no gateway, no network"
        )
    return f"container {owner.name} has no default route and Docker names no gateway for it"


# --- sending and receiving ------------------------------------------------------------


class _Socket(Protocol):
    """What is used of icmplib's ``ICMPv4Socket``/``ICMPv6Socket`` (fakes in the tests)."""

    @property
    def sock(self) -> socket.socket | None: ...

    def send(self, request: ICMPRequest) -> None: ...

    def receive(self, request: ICMPRequest | None = None, timeout: float = 2) -> ICMPReply: ...

    def close(self) -> None: ...


def _open_socket(plan: PingPlan) -> _Socket:
    """icmplib's raw socket in the plan's namespace (the thread goes there and back at once)."""
    from icmplib import (
        ICMPSocketError,
        ICMPv4Socket,
        ICMPv6Socket,
        SocketPermissionError,
    )

    kind = ICMPv6Socket if plan.family == socket.AF_INET6 else ICMPv4Socket
    try:
        if plan.pid is None:
            sock: _Socket = kind(privileged=True)
            return sock
        from inspector.collect import netns  # why: only when it sends

        try:
            fd = netns.open_netns(plan.pid)
        except PermissionError:
            raise  # not root: said below
        except OSError:
            raise PingError(
                f"container {plan.container} is not running any more (its process is gone)"
            ) from None
        try:
            with netns.inside(fd):
                sock = kind(privileged=True)
        finally:
            os.close(fd)
        return sock
    except (PermissionError, SocketPermissionError):
        raise PingError("raw ICMP sockets and namespaces need root: run cnet as root") from None
    except (OSError, ICMPSocketError) as exc:
        raise PingError(f"cannot open an ICMP socket: {_strerror(exc)}") from None


def _errno(exc: BaseException) -> int | None:
    """The errno behind an icmplib error (it re-raises ``OSError`` as text, chained)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno is not None:
            return cause.errno
        cause = cause.__context__
    return None


def _strerror(exc: BaseException) -> str:
    code = _errno(exc)
    return os.strerror(code) if code is not None else str(exc)


def _send_failure(plan: PingPlan, exc: BaseException) -> str:
    code = _errno(exc)
    if code == errno.ENETUNREACH:
        return f"network is unreachable: no route to {plan.target} in {plan.namespace}"
    if code == errno.EHOSTUNREACH:
        return f"no route to host {plan.target} from {plan.namespace}"
    if code in (errno.EPERM, errno.EACCES):
        return (
            f"sending to {plan.target} was refused ({_strerror(exc)}; "
            "a firewall rule or a broadcast address)"
        )
    return f"sending to {plan.target} failed: {_strerror(exc)}"


def _new_ident() -> int:
    """The session's echo id: random, so two sessions in one namespace tell theirs apart."""
    return random.randrange(1, 0x10000)


@dataclass
class _Pending:
    seq: int
    request: ICMPRequest
    sent_at: float  # monotonic, for the timeout


def match_reply(
    reply: ICMPReply, ident: int, target: str, pending: dict[int, _Pending]
) -> PingReply | PingProblem | None:
    """The event ``reply`` is for one of ``pending`` (popped), or None when it is not ours.

    Ours: our id and a sequence still waiting; an echo reply must also come from the
    target.  ICMP errors (unreachable, time exceeded) about our requests are problems;
    anything else (our own requests seen on loopback, neighbour discovery, redirects) is
    not about us.
    """
    from icmplib import (
        DestinationUnreachable,
        ICMPError,
        TimeExceeded,
    )

    if int(reply.id) != ident or int(reply.sequence) not in pending:
        return None
    source = str(reply.source).split("%", 1)[0]
    try:
        reply.raise_for_status()
    except (DestinationUnreachable, TimeExceeded) as exc:
        waiting = pending.pop(int(reply.sequence))
        return PingProblem(waiting.seq, source, str(exc))
    except ICMPError:
        return None
    if ipaddress.ip_address(source) != ipaddress.ip_address(target):
        return None
    waiting = pending.pop(int(reply.sequence))
    rtt_ms = max(0.0, (float(reply.time) - float(waiting.request.time)) * 1000.0)
    return PingReply(waiting.seq, source, int(reply.bytes_received), rtt_ms)


def run_ping(
    plan: PingPlan,
    *,
    count: int | None = 4,
    interval: float = 1.0,
    timeout: float = 1.0,
    stop: threading.Event | None = None,
) -> Iterator[PingEvent]:
    """Open the socket now, then yield events as they happen; the last is a PingSummary.

    ``count=None`` pings until ``stop`` is set.  Safe to run in a worker thread: only
    that thread's namespace changes, for the time it takes to create the socket.
    Raises PingError at once when the socket cannot be had (not running, not root), and
    from the first ``next()`` when the very first request cannot be sent (no route).
    """
    check_parameters(count, interval, timeout)
    sock = _open_socket(plan)
    session = _Session(plan, _new_ident(), count, interval, timeout, stop or threading.Event())
    return _closing(sock, _loop(sock, session))


def _closing(sock: _Socket, events: Iterator[PingEvent]) -> Iterator[PingEvent]:
    try:
        yield from events
    finally:
        sock.close()


@dataclass(frozen=True)
class _Session:
    plan: PingPlan
    ident: int  # chosen with the socket, so sessions opened in turn differ in turn
    count: int | None
    interval: float
    timeout: float
    stop: threading.Event


def _loop(sock: _Socket, session: _Session) -> Iterator[PingEvent]:
    from icmplib import ICMPRequest, ICMPSocketError, TimeoutExceeded

    plan, ident, count = session.plan, session.ident, session.count
    interval, timeout, stop = session.interval, session.timeout, session.stop
    # A numeric zone: icmplib resolves the destination in the host's namespace, where the
    # container's interface names mean other links.
    destination = f"{plan.target}%{plan.scope_id}" if plan.scope_id else plan.target
    raw = sock.sock
    assert raw is not None  # open until _closing closes it
    pending: dict[int, _Pending] = {}  # wire seq (16 bits) -> what waits for it
    rtts: list[float] = []
    transmitted = errors = 0
    seq = 0
    start = time.monotonic()
    next_send = start
    while not stop.is_set():
        now = time.monotonic()
        for wire, waiting in sorted(pending.items(), key=lambda kv: kv[1].seq):
            if now - waiting.sent_at >= timeout:
                del pending[wire]
                yield PingTimeout(waiting.seq)
        if (count is None or seq < count) and now >= next_send:
            seq += 1
            request = ICMPRequest(destination, ident, seq, payload_size=plan.size)
            try:
                sock.send(request)
            except ICMPSocketError as exc:
                if transmitted == 0:
                    raise PingError(_send_failure(plan, exc)) from None
                errors += 1
                yield PingProblem(seq, None, _send_failure(plan, exc))
            else:
                pending[int(request.sequence)] = _Pending(seq, request, time.monotonic())
            transmitted += 1
            next_send = max(next_send + interval, now)
            continue
        if count is not None and seq >= count and not pending:
            break
        deadlines = [waiting.sent_at + timeout for waiting in pending.values()]
        if count is None or seq < count:
            deadlines.append(next_send)
        wait = min(max(0.0, min(deadlines) - now), _SELECT_SLICE_S)
        # Wait here, then receive() what is queued: icmplib throws away a reply it reads
        # after its own deadline, and receive(request) discards replies to the other
        # requests in flight, so none is passed and the matching is ours.
        readable, _, _ = select.select([raw], [], [], wait)
        if not readable:
            continue
        try:
            reply = sock.receive(None, _SELECT_SLICE_S)
        except TimeoutExceeded:
            continue  # what was queued was not ICMP icmplib could read
        except ICMPSocketError as exc:
            raise PingError(f"receiving from {plan.target} failed: {_strerror(exc)}") from None
        event = match_reply(reply, ident, plan.target, pending)
        if isinstance(event, PingReply):
            rtts.append(event.rtt_ms)
            yield event
        elif event is not None:
            errors += 1
            yield event
    yield PingSummary(
        target=plan.target,
        transmitted=transmitted,
        received=len(rtts),
        errors=errors,
        elapsed_ms=(time.monotonic() - start) * 1000.0,
        rtts_ms=tuple(rtts),
        stopped=stop.is_set(),
    )


def ping_iter(
    snapshot: Snapshot,
    container: str,
    target: str | None = None,
    *,
    count: int | None = 4,
    interval: float = 1.0,
    timeout: float = 1.0,
    stop: threading.Event | None = None,
) -> Iterator[PingEvent]:
    """``plan_ping`` then ``run_ping``: the TUI's one call from a worker thread."""
    check_parameters(count, interval, timeout)
    plan = plan_ping(snapshot, container, target)
    yield from run_ping(plan, count=count, interval=interval, timeout=timeout, stop=stop)


# --- ping's own words ------------------------------------------------------------------


def format_event(event: PingEvent) -> str:
    """One line per event as ping prints it (timeouts print nothing: empty string)."""
    if isinstance(event, PingReply):
        return (
            f"{event.size} bytes from {event.source}: icmp_seq={event.seq} "
            f"time={_ms(event.rtt_ms)} ms"
        )
    if isinstance(event, PingProblem):
        who = f"From {event.source} " if event.source else ""
        return f"{who}icmp_seq={event.seq} {event.message}"
    if isinstance(event, PingTimeout):
        return ""
    return format_summary(event)


def format_summary(s: PingSummary) -> str:
    """``--- X ping statistics ---``, the counts line and the rtt line (when any replied)."""
    loss = f"{round(s.loss_percent, 4):g}%"
    errors = f", +{s.errors} errors" if s.errors else ""
    lines = [
        f"--- {s.target} ping statistics ---",
        f"{s.transmitted} packets transmitted, {s.received} received{errors}, "
        f"{loss} packet loss, time {round(s.elapsed_ms)}ms",
    ]
    if s.rtts_ms:
        lines.append(
            f"rtt min/avg/max/mdev = {s.rtt_min:.3f}/{s.rtt_avg:.3f}/{s.rtt_max:.3f}/"
            f"{s.rtt_mdev:.3f} ms"
        )
    return "\n".join(lines)


def _ms(value: float) -> str:
    """Three significant digits like ping: 0.0841, 1.23, 12.3, 123."""
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"
