"""One workload's connections at one moment: its sockets, its flows and its TCP health.

What the Connections view asks for every few seconds, for the selected workload only
(never every namespace each second): one sock_diag read in its namespace (with the
established connections), one conntrack dump filtered to its addresses, two small
``/proc/PID/net`` files.  Each part that cannot be read says so in its own ``problem``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.collect.conntrack import Flow, FlowRead, involves, read_flows
from inspector.collect.snmp import read_health
from inspector.collect.sockets import SocketRead, pids_by_namespace, read_sockets
from inspector.model.snapshot import (
    Container,
    NamespaceConnections,
    RecordedConnections,
    RecordedFlow,
    RecordedListener,
    Snapshot,
    TcpHealth,
)


@dataclass(frozen=True)
class Connections:
    sockets: SocketRead
    flows: FlowRead
    health: TcpHealth | None  # None: the namespace's counters could not be read


def read_connections(
    pid: int | None,
    addresses: Sequence[str],
    *,
    established: bool = True,
    progress: Callable[[Connections], None] | None = None,
) -> Connections:
    """The workload whose namespace holds ``pid``; its flows are those of ``addresses``.
    ``established`` adds its established TCP connections (not for the host's namespace,
    whose tens of thousands of connections would cost seconds).  ``progress`` hears of
    the sockets, the health and the first flows while the rest are decoded
    (``read_flows``), when there are more than a screenful."""
    if pid is None:
        gone = "no process id: its namespace cannot be read"
        return Connections(SocketRead(problem=gone), FlowRead(problem=gone), None)
    sockets = read_sockets(pid, established=established)
    health = read_health(pid)
    if not addresses:
        return Connections(sockets, FlowRead(problem="no address: no flows"), health)

    def first(flows: FlowRead) -> None:
        assert progress is not None
        progress(Connections(sockets, flows, health))

    flows = read_flows(list(addresses), progress=first if progress is not None else None)
    return Connections(sockets, flows, health)


def _recorded_flow(f: Flow) -> RecordedFlow:
    nat = "DNAT" if f.dnat else "SNAT" if f.snat else ""
    return RecordedFlow(
        f.protocol, f.state, f.original.text(), f.reply.text(), nat, f.bytes, f.packets
    )


def record_connections(
    snapshot: Snapshot, *, flows: bool = False, owners: Sequence[Container] | None = None
) -> RecordedConnections:
    """Listeners and TCP/UDP counters of every namespace a container owns (and its flows
    when ``flows``): what ``cnet snapshot`` records.  One walk of ``/proc`` for the
    processes, one sock_diag read per namespace, one conntrack dump in all."""
    if owners is None:
        owners = namespace_owners(snapshot)
    by_namespace = pids_by_namespace()
    table = read_flows(None) if flows else None
    out: list[NamespaceConnections] = []
    for c in owners:
        assert c.pid is not None
        read = read_sockets(c.pid, by_namespace=by_namespace)
        listeners = tuple(
            RecordedListener(s.protocol, s.local, s.local_port, s.process) for s in read.listeners
        )
        mine: tuple[RecordedFlow, ...] | None = None
        problem = read.problem
        if table is not None:
            addresses = [*c.ips, *(n.ipv6 for n in c.networks if n.ipv6)]
            mine = tuple(_recorded_flow(f) for f in table.flows if involves(f, addresses))
            problem = problem or table.problem
        out.append(NamespaceConnections(c.name, listeners, read_health(c.pid), mine, problem))
    return RecordedConnections(tuple(out))


def namespace_owners(snapshot: Snapshot) -> list[Container]:
    """One running container per network namespace of its own (not host mode, not
    ``container:X``): the name its namespace's listeners and counters go under."""
    return [
        c
        for c in snapshot.containers
        if c.running
        and c.pid is not None
        and c.network_mode != "host"
        and c.netns_shared_with is None
    ]
