"""Packet capture inside a workload's namespace with libpcap (pcapy-ng).

A libpcap handle is a packet socket, and a socket stays in the namespace it was made
in: the calling thread steps into the namespace (``collect.netns``), creates and
activates its handles, and steps back at once.  Each interface gets two handles, one
per direction (``setdirection``), so every packet carries the kernel's own word on
whether it left or arrived; ``lo`` gets one (libpcap shows each of its packets once).

The filter is compiled once without an interface (``check_filter``: a bad one is a
usage error before anything opens), then set on every handle as a kernel filter.
Reads are non-blocking and wait in ``select`` on the handles' descriptors: libpcap's
blocking read never returns while no packet comes (TPACKET_V3, libpcap#903), and a
stop must be noticed within one ``read`` timeout.  Nothing here changes an interface:
promiscuous mode only when asked for, no flag set, every handle closed by ``close``.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from inspector.actions.capture_plan import EXIT_FAILED, EXIT_USAGE, CaptureError, CapturePlan

DEFAULT_SNAPLEN = 262_144  # tcpdump's default: whole packets
MIN_SNAPLEN = 64
MAX_SNAPLEN = 262_144
BUFFER_BYTES = 8 << 20
"""Each handle's kernel ring, as tcpdump -B 8192 asks for."""
BLOCK_TIMEOUT_MS = 20
"""How long the kernel holds a part-filled block: the latest a lone packet shows up."""
HOLD_US = 100_000
"""How long a packet waits for older ones from the other rings (each direction of each
interface has its own, each handed over a block at a time), so lines come in order."""
DISPATCH_ROUNDS = 16
"""Blocks read from one handle per ``read`` before the others get their turn."""
RING_PACKETS = 10_000
RING_BYTES = 64 << 20

_ROOT_HINT = "capturing needs root (raw sockets and entering namespaces): run cnet as root"


class Packet(NamedTuple):
    """One packet as captured: ``tap`` indexes the plan's taps; ``outbound`` None on lo."""

    ts_us: int
    tap: int
    outbound: bool | None
    data: bytes
    length: int


@dataclass(frozen=True)
class CaptureCounts:
    """The kernel's counts, summed over the interfaces.

    ``received``: packets that passed the filter on the interfaces; ``dropped``: those
    the kernel could not queue to cnet's rings (a packet may be counted by the ring of
    each direction of its interface, so under overload this is an upper bound).
    """

    received: int = 0
    dropped: int = 0


def check_filter(expression: str, snaplen: int = DEFAULT_SNAPLEN) -> None:
    """Compile the pcap-filter ``expression`` for Ethernet: CaptureError (exit 2) if bad."""
    import pcapy

    if not expression.strip():
        return
    if "\0" in expression:
        raise CaptureError("bad filter: it holds a NUL character", EXIT_USAGE)
    try:
        pcapy.compile(pcapy.DLT_EN10MB, snaplen, expression, 1, 0xFFFFFFFF)
    except pcapy.PcapError as exc:
        raise CaptureError(f"bad filter {expression!r}: {exc}", EXIT_USAGE) from None


def check_snaplen(snaplen: int) -> None:
    if not MIN_SNAPLEN <= snaplen <= MAX_SNAPLEN:
        raise CaptureError(
            f"snaplen must be between {MIN_SNAPLEN} and {MAX_SNAPLEN} bytes, not {snaplen}",
            EXIT_USAGE,
        )


@dataclass
class _Handle:
    pcap: Any  # pcapy.Reader
    tap: int
    outbound: bool | None
    counts_received: bool  # one handle of each interface counts the filter's packets
    stats: tuple[int, int] = (0, 0)


class Capture:
    """Open handles on every tap of ``plan``; ``read`` the packets as they come.

    Opening raises CaptureError (one line) and leaves nothing open.  After an interface
    went away, ``problem`` says so and ``read`` returns nothing more: the caller ends.
    """

    def __init__(
        self,
        plan: CapturePlan,
        expression: str = "",
        snaplen: int = DEFAULT_SNAPLEN,
        promisc: bool = False,
    ) -> None:
        check_snaplen(snaplen)
        check_filter(expression, snaplen)
        self.plan = plan
        self.snaplen = snaplen
        self.problem: str | None = None
        self.linktypes: list[int] = []
        self._handles: list[_Handle] = []
        self._held: list[Packet] = []
        try:
            self._open_all(expression, promisc)
        except BaseException:
            self.close()
            raise

    def _open_all(self, expression: str, promisc: bool) -> None:
        from inspector.collect import netns  # why: start-up (the TUI loads no collector)

        linktypes: dict[int, int] = {}
        by_netns: dict[str | None, list[int]] = {}
        for n, tap in enumerate(self.plan.taps):
            by_netns.setdefault(tap.netns, []).append(n)
        for path, taps in by_netns.items():
            if path is None:
                self._open_taps(taps, expression, promisc, linktypes)
                continue
            fd = _open_namespace(path, self.plan.item)
            try:
                with netns.inside(fd):
                    self._open_taps(taps, expression, promisc, linktypes)
            finally:
                os.close(fd)
        self.linktypes = [linktypes[n] for n in range(len(self.plan.taps))]

    def _open_taps(
        self, taps: Sequence[int], expression: str, promisc: bool, linktypes: dict[int, int]
    ) -> None:
        for n in taps:
            tap = self.plan.taps[n]
            directions: tuple[bool | None, ...] = (None,) if tap.loopback else (False, True)
            for outbound in directions:
                pcap = self._open_one(tap.iface, tap.label, expression, promisc, outbound)
                self._handles.append(_Handle(pcap, n, outbound, outbound is not True))
                linktypes[n] = int(pcap.datalink())

    def _open_one(
        self, iface: str, label: str, expression: str, promisc: bool, outbound: bool | None
    ) -> Any:
        import pcapy

        try:
            pcap = pcapy.create(iface)
            pcap.set_snaplen(self.snaplen)
            pcap.set_promisc(promisc)
            pcap.set_timeout(BLOCK_TIMEOUT_MS)
            pcap.set_buffer_size(BUFFER_BYTES)
            pcap.activate()
        except pcapy.PcapError as exc:
            raise _open_failure(label, str(exc)) from None
        try:
            if outbound is not None:
                pcap.setdirection(pcapy.PCAP_D_OUT if outbound else pcapy.PCAP_D_IN)
            if expression.strip():
                pcap.setfilter(expression)
            pcap.setnonblock(True)
        except pcapy.PcapError as exc:
            pcap.close()
            raise CaptureError(f"{label}: {exc}") from None
        return pcap

    def fds(self) -> list[int]:
        return [int(h.pcap.getfd()) for h in self._handles]

    def read(self, timeout: float) -> list[Packet]:
        """The packets that arrived within ``timeout`` seconds and have waited ``HOLD_US``
        for older ones, oldest first; after a problem, what was held."""
        if self.problem is not None or not self._handles:
            return self.drain()
        held = self._held
        held.extend(self._read_ready(timeout))
        if not held:
            return []
        held.sort(key=_ts)
        if self.problem is not None:
            return self.drain()
        cut = bisect.bisect_right(held, time.time_ns() // 1000 - HOLD_US, key=_ts)
        out, self._held = held[:cut], held[cut:]
        return out

    def drain(self) -> list[Packet]:
        """Every packet still held, oldest first: the last read of a capture."""
        out, self._held = sorted(self._held, key=_ts), []
        return out

    def _read_ready(self, timeout: float) -> list[Packet]:
        by_fd = {int(h.pcap.getfd()): h for h in self._handles}
        try:
            ready, _, broken = select.select(list(by_fd), [], list(by_fd), timeout)
        except InterruptedError:  # pragma: no cover - PEP 475 retries; a signal handler raised
            return []
        batch: list[Packet] = []
        for fd in dict.fromkeys([*ready, *broken]):
            if not self._dispatch(by_fd[fd], batch.append):
                break
        return batch

    def _dispatch(self, handle: _Handle, add: Callable[[Packet], None]) -> bool:
        import pcapy

        tap, outbound = handle.tap, handle.outbound

        def one(header: Any, data: bytes) -> None:
            sec, usec = header.getts()
            add(Packet(sec * 1_000_000 + usec, tap, outbound, data, header.getlen()))

        try:
            for _ in range(DISPATCH_ROUNDS):
                if handle.pcap.dispatch(-1, one) <= 0:
                    break
        except pcapy.PcapError as exc:
            self._read_stats()
            label = self.plan.taps[tap].label
            self.problem = f"{label} {_reason(str(exc))}: the capture ended"
            return False
        return True

    def _read_stats(self) -> None:
        import pcapy

        for h in self._handles:
            with contextlib.suppress(pcapy.PcapError):
                received, dropped, _ = h.pcap.stats()
                h.stats = (int(received), int(dropped))

    def counts(self) -> CaptureCounts:
        """The kernel's counts now (the last ones read for an interface that went away)."""
        if self.problem is None:
            self._read_stats()
        received = sum(h.stats[0] for h in self._handles if h.counts_received)
        dropped = sum(h.stats[1] for h in self._handles)
        return CaptureCounts(received, dropped)

    def close(self) -> None:
        """Close every handle (the kernel then frees the sockets and their rings)."""
        for h in self._handles:
            with contextlib.suppress(Exception):
                h.pcap.close()
        self._handles = []


def _ts(packet: Packet) -> int:
    return packet.ts_us


def _open_namespace(path: str, item: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except PermissionError:
        raise CaptureError(_ROOT_HINT, EXIT_USAGE) from None
    except OSError:
        raise CaptureError(f"{item} is not running any more (its namespace is gone)") from None


def _open_failure(label: str, message: str) -> CaptureError:
    text = message.lower()
    if "permit" in text or "permission" in text:
        return CaptureError(_ROOT_HINT, EXIT_USAGE)
    if "no such device" in text:
        return CaptureError(f"{label}: no such interface (any more)", EXIT_USAGE)
    if "not up" in text:
        return CaptureError(f"{label} is down: nothing to capture")
    return CaptureError(f"{label}: {message}", EXIT_FAILED)


def _reason(message: str) -> str:
    """libpcap's words for a vanished interface, shortened (a deleted link goes down
    first, and libpcap reports that)."""
    text = message.lower()
    if "disappeared" in text or "no such device" in text:
        return "was deleted"
    if "went down" in text or "network is down" in text:
        return "went down (or was deleted)"
    return f"failed ({message})"


class PacketRing:
    """The last ``size`` packets, and at most ``max_bytes`` of them (a veth hands over
    64 KiB GSO segments: 10,000 of those would be 640 MB), shared between the capturing
    thread and the UI: memory stays bounded however long the capture runs."""

    def __init__(self, size: int = RING_PACKETS, max_bytes: int = RING_BYTES) -> None:
        self._packets: deque[Packet] = deque()
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def extend(self, packets: Iterable[Packet]) -> None:
        with self._lock:
            for p in packets:
                self._packets.append(p)
                self._bytes += len(p.data)
            while self._packets and (
                len(self._packets) > self._size or self._bytes > self._max_bytes
            ):
                self._bytes -= len(self._packets.popleft().data)

    def packets(self) -> tuple[Packet, ...]:
        with self._lock:
            return tuple(self._packets)

    def __len__(self) -> int:
        return len(self._packets)
