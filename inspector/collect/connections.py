"""One workload's connections at one moment: its sockets, its flows and its TCP health.

What the Connections view asks for every few seconds, for the selected workload only
(never every namespace each second): one sock_diag read in its namespace (with the
established connections), one conntrack dump filtered to its addresses, two small
``/proc/PID/net`` files.  Each part that cannot be read says so in its own ``problem``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inspector.collect.conntrack import FlowRead, read_flows
from inspector.collect.snmp import TcpHealth, read_health
from inspector.collect.sockets import SocketRead, read_sockets


@dataclass(frozen=True)
class Connections:
    sockets: SocketRead
    flows: FlowRead
    health: TcpHealth | None  # None: the namespace's counters could not be read


def read_connections(pid: int | None, addresses: Sequence[str]) -> Connections:
    """The workload whose namespace holds ``pid``; its flows are those of ``addresses``."""
    if pid is None:
        gone = "no process id: its namespace cannot be read"
        return Connections(SocketRead(problem=gone), FlowRead(problem=gone), None)
    return Connections(
        read_sockets(pid, established=True),
        read_flows(list(addresses)) if addresses else FlowRead(problem="no address: no flows"),
        read_health(pid),
    )
