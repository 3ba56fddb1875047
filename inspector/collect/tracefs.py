"""The kernel's drop reasons during one of cnet's probes, read from ``skb/kfree_skb``.

Since Linux 5.17 every ``kfree_skb`` carries a reason.  A probe gets a private tracefs
instance (``instances/cnet-probe-<pid>-<n>``), so the host's own tracing is untouched,
with a filter that leaves out the reasons that mean normal consumption.  The reasons'
names and numbers come from the event's own ``format`` file: the numbering changes
between kernels (NOT_SPECIFIED is 1 on 6.1 and 2 on 6.18).

The tracepoint is host-wide (no namespace or interface field), so the instance is
enabled a short baseline window before the probe's first packet; what the caller gets is
the count in each window, and ``DropReport.rose`` says which reasons rose beyond the
baseline's pace.  The instance exists only for the probe: nothing is traced while idle.
On start, instances of cnet processes that are gone (SIGKILL, a crash) are removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import math
import os
import re
import select
import threading
import time
from dataclasses import dataclass

TRACEFS = "/sys/kernel/tracing"
KALLSYMS = "/proc/kallsyms"
RP_FILTER_CONF = "/proc/sys/net/ipv4/conf"
EVENT = "events/skb/kfree_skb"
PREFIX = "cnet-probe-"
BASELINE_S = 0.05
BUFFER_KB = 256  # per CPU, for the instance's ring: the reader drains it every 0.1 s
MAX_KEYS = 256  # distinct (reason, function) pairs counted; the rest are "other"
MAX_SYMBOLS = 512  # raw addresses resolved through kallsyms, cached
_READ_SLICE_S = 0.1

NORMAL = frozenset(
    {
        "NOT_DROPPED_YET",
        "CONSUMED",
        "NOT_SPECIFIED",
        "SOCKET_CLOSE",
        "UNIX_DISCONNECT",
        "UNIX_SKIP_OOB",
        "QUEUE_PURGE",
        "NO_SOCKET",
    }
)
"""Reasons that mean a packet was consumed or its socket closed, not that it was lost.
NO_SOCKET too: the ping-socket layer frees its copy of every echo reply a raw socket
(cnet's probe) already took, and a probe never sends to a closed port."""

_SYMBOLIC = re.compile(r'\{\s*(\d+)\s*,\s*"([A-Za-z0-9_]+)"\s*\}')
_LINE = re.compile(
    r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[\d+\]\s+(?:\S+\s+)?"
    r"(?P<ts>\d+\.\d+):\s+kfree_skb:.*?\blocation=(?P<loc>\S+).*?\breason:\s+(?P<reason>\w+)"
)
_LOST = re.compile(r"\[LOST (\d+) EVENTS\]")
_counter = itertools.count(1)
_mount_allowed = False


class DropsUnavailable(Exception):
    """Why the drop reasons cannot be read here, as one line."""


def allow_mount() -> None:
    """``--mount-tracefs``: cnet may mount tracefs at its usual place when it is absent."""
    global _mount_allowed
    _mount_allowed = True


@dataclass(frozen=True)
class DropCount:
    """How many packets the kernel freed with ``reason`` in function ``location``."""

    reason: str
    location: str
    count: int
    thread: int = 0  # a watched thread (the probe's sender) it happened in, else 0


@dataclass(frozen=True)
class DropReport:
    """The two windows' counts, host-wide, and which reasons rose during the probe."""

    baseline_s: float
    probe_s: float
    baseline: tuple[DropCount, ...]
    probe: tuple[DropCount, ...]
    lost: int = 0  # events the kernel's ring lost (counts are then low)

    @property
    def rose(self) -> tuple[DropCount, ...]:
        """The probe's counts that exceed what the baseline's pace predicts for its length."""
        before = _totals(self.baseline)
        scale = self.probe_s / self.baseline_s if self.baseline_s > 0 else 0.0
        out = [
            DropCount(reason, location, n)
            for (reason, location), n in _totals(self.probe).items()
            if n > math.ceil(before.get((reason, location), 0) * scale)
        ]
        return tuple(sorted(out, key=lambda c: (-c.count, c.reason, c.location)))

    def in_thread(self, thread: int) -> tuple[DropCount, ...]:
        """The probe's drops that happened in ``thread`` (a watched sender): the kernel
        runs a veth's receive path in the sender's softirq, so these are most often the
        probe's own packets, dropped on their way."""
        out = [c for c in self.probe if thread and c.thread == thread]
        return tuple(sorted(out, key=lambda c: (-c.count, c.reason, c.location)))


def _totals(counts: tuple[DropCount, ...]) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = {}
    for c in counts:
        totals[(c.reason, c.location)] = totals.get((c.reason, c.location), 0) + c.count
    return totals


def reason_table(format_text: str) -> dict[int, str]:
    """Number -> name of every drop reason, from the event's ``format`` file.

    Raises DropsUnavailable when the event has no ``reason`` field (kernels before 5.17).
    """
    if not re.search(r"field:[^;]*\breason;", format_text):
        raise DropsUnavailable(
            "this kernel's skb/kfree_skb has no drop reason (Linux 5.17 or later has it):"
            " no drop reasons"
        )
    _, _, fmt = format_text.partition("print fmt:")
    table = {int(n): name for n, name in _SYMBOLIC.findall(fmt)}
    if not table:
        raise DropsUnavailable("skb/kfree_skb names no drop reasons in its format: no drop reasons")
    return table


def drop_filter(table: dict[int, str]) -> str:
    """The instance's filter: every reason except the normal-consumption ones."""
    skip = sorted(n for n, name in table.items() if name in NORMAL)
    return " && ".join(f"reason != {n}" for n in skip) or "reason >= 0"


def function_of(location: str) -> str:
    """``nft_do_chain+0x46f/0x690`` -> ``nft_do_chain``."""
    return location.split("+", 1)[0]


class Symbols:
    """Raw kernel addresses -> function names, through ``/proc/kallsyms`` when readable.

    The file is scanned for the addresses asked, never kept: about 200k lines on a
    distribution kernel.  Resolved names are cached (at most MAX_SYMBOLS).
    """

    def __init__(self, path: str = KALLSYMS) -> None:
        self.path = path
        self._cache: dict[int, str] = {}

    def name(self, location: str) -> str:
        """The function for a location the kernel printed (a name, or a hex address)."""
        if not location.startswith("0x"):
            return function_of(location)
        try:
            address = int(location, 16)
        except ValueError:
            return location
        if address not in self._cache:
            found = self._scan(address)
            if len(self._cache) >= MAX_SYMBOLS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[address] = found or location
        return self._cache[address]

    def _scan(self, address: int) -> str | None:
        best: tuple[int, str] | None = None
        try:
            with open(self.path, encoding="ascii", errors="replace") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) < 3 or parts[1] not in "tTwW":
                        continue
                    start = int(parts[0], 16)
                    if start == 0:
                        return None  # kptr_restrict hides the addresses from us
                    if start <= address and (best is None or start > best[0]):
                        best = (start, parts[2])
        except (OSError, ValueError):
            return None
        return best[1] if best else None


def availability(root: str = TRACEFS) -> str | None:
    """None when a probe can read drop reasons here, else the one line that says why not.

    Cheap (a stat and a read of the event's format): the snapshot and the doctor call it.
    """
    if _mount_allowed and os.geteuid() == 0 and not os.path.isdir(os.path.join(root, "instances")):
        return None  # the probe mounts it
    try:
        _check(root, mount=False)
    except DropsUnavailable as exc:
        return str(exc)
    return None


def _check(root: str, *, mount: bool) -> dict[int, str]:
    if os.geteuid() != 0:
        raise DropsUnavailable("drop reasons need root (tracefs): not read")
    if not os.path.isdir(os.path.join(root, "instances")):
        if not mount:
            raise DropsUnavailable(
                f"tracefs is not mounted at {root} (cnet --mount-tracefs mounts it):"
                " no drop reasons"
            )
        _mount(root)
    try:
        with open(os.path.join(root, EVENT, "format"), encoding="ascii", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        raise DropsUnavailable(
            "this kernel has no skb/kfree_skb tracepoint: no drop reasons"
        ) from None
    except OSError as exc:
        raise DropsUnavailable(
            f"cannot read skb/kfree_skb's format: {exc.strerror}: no drop reasons"
        ) from None
    return reason_table(text)


def _mount(root: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"nodev", root.encode(), b"tracefs", 0, None) != 0:
        code = ctypes.get_errno()
        raise DropsUnavailable(
            f"cannot mount tracefs at {root}: {os.strerror(code)}: no drop reasons"
        )


def remove_stale(root: str = TRACEFS) -> list[str]:
    """Remove cnet's probe instances whose process is gone; never a live one's."""
    removed: list[str] = []
    try:
        names = os.listdir(os.path.join(root, "instances"))
    except OSError:
        return removed
    for name in names:
        if not name.startswith(PREFIX):
            continue
        pid = name[len(PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or os.path.exists(f"/proc/{pid}"):
            continue
        try:
            os.rmdir(os.path.join(root, "instances", name))
            removed.append(name)
        except OSError:
            pass  # busy (a reader still has it open) or gone already
    return removed


class DropProbe:
    """One probe's private instance: ``open`` it, ``begin`` before the first packet,
    ``finish`` after the last (``close`` in a ``finally`` if the probe fails)."""

    def __init__(
        self, root: str = TRACEFS, baseline_s: float = BASELINE_S, symbols: Symbols | None = None
    ) -> None:
        self.root = root
        self.baseline_s = baseline_s
        self.symbols = symbols or Symbols()
        self.path = os.path.join(root, "instances", f"{PREFIX}{os.getpid()}-{next(_counter)}")
        self._fd: int | None = None
        self._enabled_at = 0.0
        self._start = 0.0
        self._counts: dict[tuple[str, str, int, bool], int] = {}
        self._watched: set[int] = set()
        self._lost = 0
        self._read_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None
        self._reader: threading.Thread | None = None
        self._partial = b""

    @classmethod
    def open(
        cls, root: str = TRACEFS, baseline_s: float = BASELINE_S, symbols: Symbols | None = None
    ) -> DropProbe:
        """Make and enable the instance (the baseline window starts now); DropsUnavailable
        with one line when it cannot be."""
        table = _check(root, mount=_mount_allowed)
        remove_stale(root)
        probe = cls(root, baseline_s, symbols)
        try:
            probe._setup(table)
        except OSError as exc:
            probe.close()
            raise DropsUnavailable(
                f"cannot set up a tracefs instance: {exc.strerror or exc}: no drop reasons"
            ) from None
        return probe

    def _write(self, name: str, text: str) -> None:
        with open(os.path.join(self.path, name), "w", encoding="ascii") as f:
            f.write(text)

    def _setup(self, table: dict[int, str]) -> None:
        # The instance keeps the kernel's default ring and clock: resizing it or setting
        # the clock costs 20-40 ms each, and the reader drains it every 0.1 s anyway.
        os.mkdir(self.path)
        self._write(f"{EVENT}/filter", drop_filter(table))
        self._fd = os.open(os.path.join(self.path, "trace_pipe"), os.O_RDONLY | os.O_NONBLOCK)
        self._wake = os.pipe()
        self._write(f"{EVENT}/enable", "1")
        self._enabled_at = time.monotonic()
        self._reader = threading.Thread(target=self._read_loop, name="cnet-drops", daemon=True)
        self._reader.start()

    def begin(self) -> None:
        """The probe's window starts: waits out what is left of the baseline window, and
        counts what the kernel recorded until now as the baseline."""
        left = self._enabled_at + self.baseline_s - time.monotonic()
        if left > 0:
            time.sleep(left)
        with self._read_lock:
            self._drain()
            self._start = time.monotonic()

    def watch(self, thread: int | None = None) -> int:
        """Count drops in this thread (default: the calling one) apart; returns its id."""
        tid = thread if thread is not None else threading.get_native_id()
        with self._read_lock:
            self._watched.add(tid)
        return tid

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            with self._read_lock:
                self._drain()
            fd, wake = self._fd, self._wake
            if fd is None or wake is None:
                return
            select.select([fd, wake[0]], [], [], _READ_SLICE_S)

    def _drain(self) -> None:
        fd = self._fd
        if fd is None:
            return
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return
            if not chunk:
                return
            data = self._partial + chunk
            *lines, self._partial = data.split(b"\n")
            for line in lines:
                self._count(line.decode("ascii", "replace"))

    def _count(self, line: str) -> None:
        lost = _LOST.search(line)
        if lost:
            self._lost += int(lost.group(1))
            return
        m = _LINE.match(line)
        if m is None:
            return
        in_probe = self._start > 0
        pid = int(m.group("pid"))
        thread = pid if pid in self._watched else 0
        key = (m.group("reason"), self.symbols.name(m.group("loc")), thread, in_probe)
        if key not in self._counts and len(self._counts) >= MAX_KEYS:
            key = ("other", "", 0, in_probe)
        self._counts[key] = self._counts.get(key, 0) + 1

    def finish(self) -> DropReport:
        """The probe's window ends: stop tracing, read what is left, count.  The instance
        is removed by ``close`` (about 40 ms: the caller may show the result first)."""
        end = time.monotonic()
        self._stop_reader()
        self._disable()
        with self._read_lock:
            self._drain()
            counts = dict(self._counts)
        start = self._start or end

        def window(in_probe: bool) -> tuple[DropCount, ...]:
            return tuple(
                DropCount(reason, location, n, thread)
                for (reason, location, thread, probe), n in sorted(counts.items())
                if probe is in_probe
            )

        return DropReport(
            baseline_s=max(0.0, start - self._enabled_at),
            probe_s=max(0.0, end - start),
            baseline=window(False),
            probe=window(True),
            lost=self._lost,
        )

    def _disable(self) -> None:
        with contextlib.suppress(OSError):
            self._write(f"{EVENT}/enable", "0")

    def _stop_reader(self) -> None:
        self._stop.set()
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=1.0)

    def close(self) -> None:
        """Stop tracing and remove the instance (idempotent; safe in ``finally``)."""
        self._stop_reader()
        if self._fd is not None:
            self._disable()
            os.close(self._fd)
            self._fd = None
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
            self._wake = None
        with contextlib.suppress(OSError):  # never made, or gone already
            os.rmdir(self.path)


def start_probe(*, begin: bool = True) -> tuple[DropProbe | None, str | None]:
    """A drop-reason probe whose baseline window has passed, or None and why not.
    ``begin=False``: the baseline window is still open (the caller may read other
    counters meanwhile, then calls ``begin``)."""
    try:
        probe = DropProbe.open()
    except DropsUnavailable as exc:
        return None, str(exc)
    if begin:
        probe.begin()
    return probe, None


def read_rp_filter(devices: set[str], conf: str = RP_FILTER_CONF) -> dict[str, int]:
    """The effective ``rp_filter`` of each device: the higher of ``all`` and its own."""
    values: dict[str, int] = {}
    for dev in devices:
        try:
            with open(f"{conf}/all/rp_filter", encoding="ascii") as f:
                every = int(f.read())
            with open(f"{conf}/{dev}/rp_filter", encoding="ascii") as f:
                values[dev] = max(every, int(f.read()))
        except (OSError, ValueError):
            continue
    return values
