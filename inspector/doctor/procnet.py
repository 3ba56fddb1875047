"""Pure parser of ``/proc/PID/net/{tcp,tcp6,udp,udp6}``: the sockets listening in a namespace.

Each line is ``sl local_address rem_address st ...`` with addresses in hex: IPv4 as one
32-bit word in host (little-endian) byte order, IPv6 as four such words, the port in
big-endian hex.  A TCP socket listens in state ``0A``; a UDP socket that can receive from
anyone is unconnected (state ``07``, remote ``0``).  Reading the file needs no tool and
no namespace switch: ``/proc/PID/net`` is that process's namespace view.
"""

from __future__ import annotations

import ipaddress
import struct

from inspector.doctor.model import Listener

TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(struct.pack("<I", struct.unpack(">I", raw)[0])))
    if len(raw) == 16:
        words = struct.unpack(">4I", raw)
        packed = b"".join(struct.pack("<I", w) for w in words)
        address = ipaddress.IPv6Address(packed)
        return str(address.ipv4_mapped or address)
    raise ValueError(f"bad address {hex_addr!r}")


def parse_proc_net(text: str, protocol: str) -> tuple[Listener, ...]:
    """The listening (tcp) or receiving (udp) sockets of one ``/proc/net`` file.

    Lines that do not parse are skipped: the kernel's format is stable, and a partial
    answer is better than none for a check that only looks for one port.
    """
    wanted = TCP_LISTEN if protocol == "tcp" else UDP_UNCONNECTED
    found: list[Listener] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3].upper() != wanted:
            continue
        try:
            local, port = fields[1].rsplit(":", 1)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            listener = Listener(protocol, _address(local), int(port, 16))
        except (ValueError, IndexError):
            continue
        if protocol == "udp" and remote_port != 0:
            continue
        if listener not in found:
            found.append(listener)
    return tuple(found)
