"""How cnet names things, shared by the TUI and the reports so that they say the same.

Pure functions over the model; no Textual here (the TUI's ``view`` imports them).
"""

from __future__ import annotations

import re

from inspector.model.paths import is_loopback
from inspector.model.snapshot import Container, Snapshot

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[str | int, ...]:
    """Sort key that orders numbers by value: ``hx-2`` before ``hx-10``."""
    return tuple(int(p) if n % 2 else p.lower() for n, p in enumerate(_DIGITS.split(text)))


def network_label(c: Container, snapshot: Snapshot | None = None) -> str:
    """The network mode in a few words: ``bridge``, ``host``, ``none``, ``container:X`` or the
    networks.  With ``snapshot``, a ``container:<id>`` whose namespace was not read is
    named too; without it, the id is cut to 12 digits as ``docker ps`` does.  Where the
    kernel disagrees with the mode, the label says so: a ``container:X`` that is not in X's
    namespace is ``container:X (not shared)``, a ``none`` with interfaces ``none, plumbed``."""
    if c.netns_shared_with == "host" or c.network_mode == "host":
        return "host"
    if c.netns_shared_with is not None:
        return f"container:{c.netns_shared_with}"
    if c.network_mode.startswith("container:"):
        ref = c.network_mode.split(":", 1)[1]
        owner = snapshot.container(ref) if snapshot is not None else None
        label = f"container:{owner.name if owner is not None else ref[:12]}"
        return f"{label} (not shared)" if c.netns is not None and c.running else label
    if c.network_mode == "none":
        plumbed = any(not is_loopback(i) for i in c.interfaces)
        return "none, plumbed" if plumbed else "none"
    if c.networks:
        return ",".join(n.name for n in c.networks)
    return "bridge" if c.network_mode == "default" else c.network_mode


def ports_label(c: Container) -> str:
    """``127.0.0.1:8080->80/tcp, 53/udp``: published ports as ``docker ps`` shows them."""
    parts = []
    for p in c.ports:
        target = f"{p.container_port}/{p.protocol}"
        if p.host_port is None:
            parts.append(target)
        else:
            host = f"{p.host_ip}:" if p.host_ip and p.host_ip not in ("0.0.0.0", "::") else ""
            parts.append(f"{host}{p.host_port}->{target}")
    return ", ".join(parts)
