"""Interface counters: bytes, packets, drops and errors, as each interface's namespace sees them.

The host's side comes from psutil's per-NIC counters (one read of the host's table for
every link).  A veth's container end is its host end with receive and transmit swapped,
so no namespace is entered for it.  Only interfaces with no host end (macvlan, a veth
between two containers, one plumbed by hand) are read in their own namespace, from
``/proc/PID/net/dev``, which the kernel fills for the namespace ``PID`` is in.  It only
reads; it sends nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from inspector.collect.attribute import NETNS_DIRS
from inspector.collect.netns import inside
from inspector.model.snapshot import Container, Interface, Snapshot


@dataclass(frozen=True)
class Counters:
    """Totals since the interface was created, from the interface's own point of view."""

    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_dropped: int = 0
    tx_dropped: int = 0
    rx_errors: int = 0
    tx_errors: int = 0

    def swapped(self) -> Counters:
        """The other end of a veth: what one end sends, the other receives (made once
        per object: a quiet interface's host end is the same object second after second)."""
        made: Counters | None = self.__dict__.get("_swapped")
        if made is not None:
            return made
        made = Counters(
            rx_bytes=self.tx_bytes,
            tx_bytes=self.rx_bytes,
            rx_packets=self.tx_packets,
            tx_packets=self.rx_packets,
            rx_dropped=self.tx_dropped,
            tx_dropped=self.rx_dropped,
            rx_errors=self.tx_errors,
            tx_errors=self.rx_errors,
        )
        object.__setattr__(self, "_swapped", made)  # not a field: eq, hash, repr ignore it
        return made


InterfaceKey = tuple[str, str]
"""(container name, interface name inside it)."""


def host_counters() -> dict[str, Counters]:
    """Every host link's counters by name (psutil reads the host's /proc/net/dev)."""
    return HostCounters().read()


class HostCounters:
    """The host's counters read again and again (the rates sampler, once a second): an
    interface whose numbers did not move keeps its ``Counters`` object, so what is quiet
    costs one comparison here and an identity check in the meter (at 1,000 quiet veths,
    building and subtracting 1,000 objects a second was most of the sampler's cost)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[Any, Counters]] = {}

    def read(self) -> dict[str, Counters]:
        import psutil

        last, now, out = self._last, {}, {}
        # nowrap=False: psutil's wrap bookkeeping walks every NIC's every field each call
        # (a sixth of the read at 1,000 NICs); a counter that went down is a reset to
        # ``rate_between`` already, which gives no rate for that step.
        for name, c in psutil.net_io_counters(pernic=True, nowrap=False).items():
            seen = last.get(name)
            if seen is not None and seen[0] == c:
                counters = seen[1]
            else:
                counters = Counters(
                    rx_bytes=c.bytes_recv,
                    tx_bytes=c.bytes_sent,
                    rx_packets=c.packets_recv,
                    tx_packets=c.packets_sent,
                    rx_dropped=c.dropin,
                    tx_dropped=c.dropout,
                    rx_errors=c.errin,
                    tx_errors=c.errout,
                )
            now[name] = (c, counters)
            out[name] = counters
        self._last = now
        return out


def parse_net_dev(text: str) -> dict[str, Counters]:
    """``/proc/net/dev`` (of any namespace) by interface name."""
    out: dict[str, Counters] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or len(fields) < 12:
            continue
        v = [int(f) for f in fields[:12]]
        out[name.strip()] = Counters(
            rx_bytes=v[0],
            rx_packets=v[1],
            rx_errors=v[2],
            rx_dropped=v[3],
            tx_bytes=v[8],
            tx_packets=v[9],
            tx_errors=v[10],
            tx_dropped=v[11],
        )
    return out


def namespace_counters(pid: int) -> dict[str, Counters]:
    """The counters of the namespace ``pid`` is in; empty when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/net/dev", encoding="ascii", errors="replace") as fh:
            return parse_net_dev(fh.read())
    except OSError:
        return {}


def needs_namespace(c: Container) -> bool:
    """Whether some interface of ``c`` (other than lo) has no host end to read it from (no
    peer, or a peer in another workload)."""
    return any(_own_read(i) and i.name != "lo" for i in c.interfaces)


def _own_read(i: Interface) -> bool:
    return i.peer is None or i.peer.workload is not None


def container_counters(
    snapshot: Snapshot,
    host: Mapping[str, Counters],
    inside: Mapping[str, Mapping[str, Counters]],
) -> dict[InterfaceKey, Counters]:
    """Each container interface's counters, from its own side.  Pure.

    ``host`` is ``host_counters()``; ``inside`` holds ``namespace_counters`` by container
    name, for the containers ``needs_namespace`` names.  A veth whose host end is known is
    taken from there, swapped; anything else from its own namespace's table.
    """
    out: dict[InterfaceKey, Counters] = {}
    for c in snapshot.containers:
        own = inside.get(c.name, {})
        for i in c.interfaces:
            if not _own_read(i) and i.peer is not None and i.peer.name in host:
                out[(c.name, i.name)] = host[i.peer.name].swapped()
            elif i.name in own:
                out[(c.name, i.name)] = own[i.name]
    return out


def read_container_counters(snapshot: Snapshot) -> dict[InterfaceKey, Counters]:
    """``container_counters`` of the live host now."""
    return container_counters(snapshot, host_counters(), _inside(snapshot.containers))


def _inside(containers: Iterable[Container]) -> dict[str, dict[str, Counters]]:
    out: dict[str, dict[str, Counters]] = {}
    for c in containers:
        if not needs_namespace(c):
            continue
        if c.pid is not None:
            out[c.name] = namespace_counters(c.pid)
        elif c.runtime == "netns":
            out[c.name] = named_namespace_counters(c)
    return out


def named_namespace_counters(c: Container) -> dict[str, Counters]:
    """The counters of an ``ip netns`` namespace that holds no process: read by a thread
    that enters it through its bind mount (``/run/netns/NAME``) just for the read."""
    where = c.id.removeprefix("netns:")
    paths = [where] if where.startswith("/") else [d + where for d in NETNS_DIRS]
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            with inside(fd), open("/proc/thread-self/net/dev", encoding="ascii") as fh:
                return parse_net_dev(fh.read())
        except OSError:
            return {}
        finally:
            os.close(fd)
    return {}
