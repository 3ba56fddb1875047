"""Interface drop counters by reason, from the kernel's ``IFLA_STATS64``.

``/proc/net/dev`` (what the rates read) has only ``drop``; ``IFLA_STATS64`` also counts, per
link, frames no protocol wanted (``rx_nohandler``) and, since Linux 5.19, frames for another
host's MAC address (``rx_otherhost_dropped``).  pyroute2 0.9 decodes only the first 23 of
the struct's fields, so the attribute's bytes are read as they are.  Netlink, not sysfs:
``/sys/class/net`` shows the links of the mount namespace's network namespace, which is not
the one a thread entered.  Read in the calling thread's network namespace; nothing is sent.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COUNTERS = {
    6: "rx_dropped",
    7: "tx_dropped",
    23: "rx_nohandler",
    24: "rx_otherhost_dropped",
}
"""Index in ``struct rtnl_link_stats64`` -> name, as ``ip -s -s link`` and sysfs call them."""

LinkDrops = Mapping[str, Mapping[str, int]]
"""Link name -> counter name -> value (only the counters this kernel has)."""


@dataclass(frozen=True)
class CounterRise:
    """A link's drop counter that rose between two reads."""

    link: str
    counter: str
    delta: int


def read_link_drops() -> dict[str, dict[str, int]]:
    """Every link's drop counters in this thread's network namespace (one dump); empty
    when netlink cannot be asked (the counters are then simply not shown)."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    found: dict[str, dict[str, int]] = {}
    try:
        with IPRoute() as ipr:
            for msg in ipr.get_links():
                name = msg.get_attr("IFLA_IFNAME")
                raw = _stats64(msg)
                if name is not None and raw is not None:
                    found[str(name)] = decode_stats64(raw)
    except (OSError, NetlinkError):
        return {}
    return found


def _stats64(msg: Any) -> bytes | None:
    for slot in msg["attrs"]:
        if slot.name == "IFLA_STATS64":
            cell = slot.cell[1]
            return bytes(cell.data[cell.offset + 4 : cell.offset + cell.length])
    return None


def decode_stats64(payload: bytes) -> dict[str, int]:
    """The drop counters in an ``IFLA_STATS64`` payload (the attribute without its header)."""
    values = struct.unpack_from(f"={len(payload) // 8}Q", payload)
    return {name: values[i] for i, name in COUNTERS.items() if i < len(values)}


def risen(before: LinkDrops, after: LinkDrops) -> list[CounterRise]:
    """The counters that rose, link by link (links made or gone in between are left out)."""
    out: list[CounterRise] = []
    for link in sorted(after):
        old = before.get(link)
        if old is None:
            continue
        for counter, value in after[link].items():
            delta = value - old.get(counter, value)
            if delta > 0:
                out.append(CounterRise(link, counter, delta))
    return out
