"""The sockets of one network namespace, through sock_diag, each with its process.

``/proc/PID/net/tcp`` makes the kernel walk its whole socket table on every read (16 ms in
a container, 164 ms in the host's namespace with 60k sockets here); a sock_diag dump asked
with a state filter costs about a millisecond.  Always ask with a filter: a dump of every
TCP state took 7 s.  pyroute2's ``DiagSocket`` has no namespace argument, so the socket is
made while this thread stands in the namespace (see ``collect.netns``).

psutil cannot do this (it reads the main thread's ``/proc/net``, psutil#1611): the process
behind a socket is found by matching the socket's inode with the ``socket:[INODE]`` links
in ``/proc/PID/fd`` of the processes whose network namespace is the one read.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from inspector.collect.netns import inside, open_netns

# linux/tcp_states.h, as sock_diag numbers them
SS_ESTABLISHED = 1
SS_CLOSE = 7
SS_LISTEN = 10
STATE_NAMES = {SS_ESTABLISHED: "ESTAB", SS_CLOSE: "UNCONN", SS_LISTEN: "LISTEN"}
# How many processes a socket names at most (a pre-forked server shares one listener).
MAX_PIDS = 8


@dataclass(frozen=True)
class Socket:
    """One socket: a TCP listener, a bound UDP socket or an established TCP connection.

    ``queue``/``backlog`` are the accept queue's length and limit for a listener (the
    receive and send queues otherwise); ``process`` is the command name of the first of
    ``pids`` ("" when no process of the namespace holds it, e.g. cnet is not root).
    """

    protocol: str  # tcp, udp
    state: str  # LISTEN, UNCONN, ESTAB
    local: str
    local_port: int
    remote: str
    remote_port: int
    inode: int
    uid: int
    queue: int = 0
    backlog: int = 0
    pids: tuple[int, ...] = ()
    process: str = ""

    @property
    def listening(self) -> bool:
        """A socket that takes traffic from anyone: a TCP listener or an unconnected UDP one."""
        return self.state in ("LISTEN", "UNCONN")


@dataclass(frozen=True)
class SocketRead:
    """What one read found; ``problem`` says in one line what could not be read."""

    sockets: tuple[Socket, ...] = ()
    problem: str | None = None

    @property
    def listeners(self) -> tuple[Socket, ...]:
        return tuple(s for s in self.sockets if s.listening)


def _queries(established: bool) -> list[tuple[int, int, int]]:
    """(family, protocol, state mask) for each dump: never an unfiltered one."""
    tcp_states = 1 << SS_LISTEN
    if established:
        tcp_states |= 1 << SS_ESTABLISHED
    out: list[tuple[int, int, int]] = []
    for family in (socket.AF_INET, socket.AF_INET6):
        out.append((family, socket.IPPROTO_TCP, tcp_states))
        out.append((family, socket.IPPROTO_UDP, 1 << SS_CLOSE))
    return out


def _record(msg: Mapping[str, Any], protocol: str) -> Socket | None:
    state = STATE_NAMES.get(int(msg["idiag_state"]))
    if state is None:
        return None
    remote_port = int(msg["idiag_dport"])
    if protocol == "udp" and remote_port != 0:
        return None  # a connected UDP socket hears from one peer only: not a listener
    return Socket(
        protocol=protocol,
        state=state,
        local=_unmap(str(msg["idiag_src"])),
        local_port=int(msg["idiag_sport"]),
        remote=_unmap(str(msg["idiag_dst"])),
        remote_port=remote_port,
        inode=int(msg["idiag_inode"]),
        uid=int(msg["idiag_uid"]),
        queue=int(msg["idiag_rqueue"]),
        backlog=int(msg["idiag_wqueue"]),
    )


def _unmap(address: str) -> str:
    """``::ffff:10.0.0.1`` as ``10.0.0.1``, as ``ss`` shows it."""
    return address[7:] if address.startswith("::ffff:") and "." in address else address


def _dump(established: bool) -> tuple[list[Socket], str | None]:
    """Run the filtered dumps on a sock_diag socket of this thread's namespace."""
    from pyroute2 import DiagSocket
    from pyroute2.netlink.exceptions import NetlinkError

    found: list[Socket] = []
    problem: str | None = None
    with DiagSocket() as ds:
        ds.bind()
        for family, proto, states in _queries(established):
            name = "tcp" if proto == socket.IPPROTO_TCP else "udp"
            try:
                msgs = ds.get_sock_stats(family=family, states=states, protocol=proto)
            except (OSError, NetlinkError) as exc:  # no udp_diag / no IPv6: say it, keep the rest
                problem = problem or f"sock_diag {name}: {getattr(exc, 'strerror', None) or exc}"
                continue
            for msg in msgs:
                if msg.get("header", {}).get("type") != 20:  # SOCK_DIAG_BY_FAMILY only
                    continue
                rec = _record(msg, name)
                if rec is not None:
                    found.append(rec)
    return found, problem


def pids_by_namespace(proc: str = "/proc") -> dict[tuple[int, int], list[int]]:
    """Every process, by its network namespace (st_dev, st_ino): one walk of ``/proc``
    serves every namespace a caller reads."""
    by_ns: dict[tuple[int, int], list[int]] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"{proc}/{entry}/ns/net")
        except OSError:
            continue
        by_ns.setdefault((st.st_dev, st.st_ino), []).append(int(entry))
    return by_ns


def socket_owners(
    pids: Iterable[int], inodes: set[int], proc: str = "/proc"
) -> dict[int, list[int]]:
    """Which of ``pids`` hold each socket inode (from their ``/proc/PID/fd`` links)."""
    owners: dict[int, list[int]] = {}
    for pid in pids:
        fd_dir = f"{proc}/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if not target.startswith("socket:["):
                continue
            inode = int(target[8:-1])
            if inode in inodes:
                held = owners.setdefault(inode, [])
                if pid not in held and len(held) < MAX_PIDS:
                    held.append(pid)
    return owners


def _comm(pid: int, proc: str = "/proc") -> str:
    try:
        with open(f"{proc}/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read(64).strip()
    except OSError:
        return ""


def with_processes(sockets: list[Socket], pids: Iterable[int]) -> list[Socket]:
    """The sockets, each naming the processes (of ``pids``, the namespace's) that hold it."""
    if not sockets:
        return sockets
    owners = socket_owners(pids, {s.inode for s in sockets})
    out = []
    for s in sockets:
        pids = tuple(sorted(owners.get(s.inode, ())))
        if pids:
            s = replace(s, pids=pids, process=_comm(pids[0]))
        out.append(s)
    return out


def _sorted(sockets: list[Socket]) -> tuple[Socket, ...]:
    order = {"LISTEN": 0, "UNCONN": 1, "ESTAB": 2}
    unique = {
        (s.protocol, s.state, s.local, s.local_port, s.remote, s.remote_port, s.inode): s
        for s in sockets
    }
    return tuple(
        sorted(
            unique.values(),
            key=lambda s: (order[s.state], s.protocol, s.local_port, s.local, s.remote_port),
        )
    )


def read_sockets(
    pid: int | None,
    *,
    established: bool = False,
    processes: bool = True,
    by_namespace: Mapping[tuple[int, int], list[int]] | None = None,
) -> SocketRead:
    """The listening TCP and bound UDP sockets (and established TCP when asked) of the
    network namespace of ``pid``, or of this thread's own when ``pid`` is None.
    ``by_namespace`` (``pids_by_namespace``) saves a walk of ``/proc`` per namespace.

    Never raises for a namespace gone or a kernel that refuses: ``problem`` says it.
    """
    try:
        if pid is None:
            ns_ino = _ino("/proc/thread-self/ns/net")
            found, problem = _dump(established)
        else:
            fd = open_netns(pid)
            try:
                st = os.fstat(fd)
                ns_ino = (st.st_dev, st.st_ino)
                with inside(fd):
                    found, problem = _dump(established)
            finally:
                os.close(fd)
    except OSError as exc:
        return SocketRead(problem=_why(exc, pid))
    if processes:
        if by_namespace is None:
            by_namespace = pids_by_namespace()
        found = with_processes(found, by_namespace.get(ns_ino, ()))
    return SocketRead(_sorted(found), problem)


def _ino(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _why(exc: OSError, pid: int | None) -> str:
    if exc.errno == errno.ENOENT and pid is not None:
        return f"process {pid} is gone: its namespace cannot be read"
    if exc.errno == errno.EPERM:
        return "not allowed to read sockets (cnet needs root to enter a namespace)"
    return f"sockets could not be read: {exc.strerror or exc}"
