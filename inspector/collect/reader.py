"""The reads both the one-shot collector and the live runner make, each as events.

``Reader`` owns the host's netlink connection and the engine's client; every method reads
and returns events for ``inventory.apply``, never a snapshot, and never raises for what
the engine or a dying container does: those become ``EngineLost``/``ContainerUnread``.
It is used from one thread (the runner's, or the caller's for a one-shot collect).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace

from inspector.collect import cri, discover, netns, podman, tracefs
from inspector.collect.attribute import attribute
from inspector.collect.cgroups import CgroupPids, pid_belongs_to
from inspector.collect.engine import LIVE_STATES, Engine, EngineUnavailable
from inspector.collect.netlink import DumpMemos, Netlink
from inspector.inventory import events as ev
from inspector.model.background import on_daemon_thread
from inspector.model.records import FoundNamespace, NamespaceDump
from inspector.model.snapshot import Container

NOT_ROOT_WARNING = (
    "not running as root: container network namespaces cannot be entered, so container "
    "interfaces, their host peers and routes are missing; run cnet as root to see them"
)
REMOTE_ENGINE_WARNING = (
    "the Docker engine at {url} is not on this host: its containers are listed, but their "
    "network namespaces cannot be read from here; run cnet on that host "
    "(cnet --host ssh://HOST)"
)


class Reader:
    """Reads the host and the engine; makes the engine's client on first use."""

    def __init__(self, docker_timeout: float = 5.0, inspect_timeout: float = 2.0) -> None:
        self._docker_timeout = docker_timeout
        self._inspect_timeout = inspect_timeout
        self._netlink: Netlink | None = None  # made on first use: pyroute2 is slow to import
        self._memos: DumpMemos | None = None  # the namespaces' reads share theirs
        self._engine: Engine | None = None
        self._cgroups = CgroupPids()
        self._host_identity = netns.netns_inode(netns.host_netns_fd())
        self._root = os.geteuid() == 0
        self._found: dict[ev.NamespaceId, FoundNamespace] = {}
        """The last discovery's namespaces: how to open each again."""
        # An ssh:// engine is another host's by construction; tcp:// only the pids can tell.
        self._remote: bool | None = (
            True if os.environ.get("DOCKER_HOST", "").startswith("ssh") else None
        )

    def close(self) -> None:
        if self._netlink is not None:
            self._netlink.close()
        self.drop_engine()

    @property
    def _host(self) -> Netlink:
        if self._netlink is None:
            self._netlink = Netlink()
        return self._netlink

    def drop_engine(self) -> None:
        """Forget the engine's connection (it went away): the next read makes a new one."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(self._docker_timeout, self._inspect_timeout)
            self._remote = (
                None if self._engine.on_this_host is None else not self._engine.on_this_host
            )
        return self._engine

    # -- the host -------------------------------------------------------------------------

    def host(self) -> ev.HostDumped:
        return ev.HostDumped(self._host.dump())

    def host_routes(self) -> ev.HostRoutesDumped:
        return ev.HostRoutesDumped(self._host.routes())

    def link(self, ifindex: int) -> ev.LinkChanged | ev.LinkRemoved:
        """One host link again (a bridge port's state changed)."""
        record = self._host.link(ifindex)
        return ev.LinkRemoved(ifindex) if record is None else ev.LinkChanged(record)

    # -- the engine -----------------------------------------------------------------------

    def containers(self) -> list[ev.Event]:
        """The whole list, or why the engine could not give it.

        Asked twice at most: a connection kept from before the engine went away fails
        once, and a new one may then answer.
        """
        try:
            listed = self.engine.containers()
        except EngineUnavailable:
            self.drop_engine()
            try:
                listed = self.engine.containers()
            except EngineUnavailable as exc:
                self.drop_engine()
                return [ev.EngineLost(str(exc)), *self._remote_notice()]
        return [ev.ContainersListed(listed), *self._remote_notice()]

    def _remote_notice(self) -> list[ev.Event]:
        if not self._remote:
            return []
        url = self._engine.url if self._engine is not None else os.environ.get("DOCKER_HOST", "")
        return [ev.Notice("remote", REMOTE_ENGINE_WARNING.format(url=url))]

    def container(self, container_id: str) -> list[ev.Event]:
        """One container again, after an event about it."""
        try:
            listed = self.engine.containers(container_id)
        except EngineUnavailable as exc:
            self.drop_engine()
            return [ev.EngineLost(str(exc))]
        if not listed:
            return [ev.ContainerRemoved(container_id)]
        return [ev.ContainerListed(listed[0])]

    # -- namespaces -----------------------------------------------------------------------

    def namespaces(self, containers: Iterable[Container]) -> list[ev.Event]:
        """Each running container's namespace, every distinct one read once.

        Pids come from the containers' cgroups; only where that finds none is the engine
        asked, with a bound: a container it does not answer for is reported, not awaited.
        """
        live = [c for c in containers if c.state in LIVE_STATES]
        out: list[ev.Event] = []
        if not live:
            return out
        pids: dict[str, int | None] = {}
        if self._remote is not True:
            pids = {c.id: self._cgroups.pid(c.id) for c in live}
        unknown = [c.id for c in live if pids.get(c.id) is None]
        if unknown:
            try:
                asked, problems = self.engine.inspect_pids(unknown)
            except EngineUnavailable as exc:
                asked, problems = {}, {cid: str(exc) for cid in unknown}
            if self._remote is None and not any(pids.values()):
                found = [(cid, pid) for cid, pid in asked.items() if pid]
                if found:
                    self._remote = not any(pid_belongs_to(pid, cid) for cid, pid in found)
            pids.update(asked)
            out.extend(ev.ContainerUnread(cid, why) for cid, why in problems.items())
            out.extend(  # listed running, but by now it has no process
                ev.ContainerUnread(cid, "it stopped while being read")
                for cid in unknown
                if cid not in problems and not pids.get(cid)
            )
        if self._remote:
            return [*out, *self._remote_notice()]
        if not self._root:  # the pids are known; entering a namespace needs root
            out.extend(ev.PidKnown(c.id, pid) for c in live if (pid := pids.get(c.id)))
            return [*out, ev.Notice("root", NOT_ROOT_WARNING)]
        read: set[ev.NamespaceId] = set()
        for c in live:
            pid = pids.get(c.id)
            if pid is not None:
                out.append(self._namespace(c, pid, read))
        return out

    def _namespace(self, c: Container, pid: int, read: set[ev.NamespaceId]) -> ev.Event:
        try:
            fd = netns.open_netns(pid)
        except OSError:
            return ev.ContainerUnread(c.id, "it stopped while being read")
        try:
            identity = netns.netns_inode(fd)
            if identity == self._host_identity:
                return ev.NamespaceRead(c.id, pid, None)
            if identity in read:
                return ev.NamespaceRead(c.id, pid, identity)
            dump, nsid_in_host, host_nsid, peers = self._read(fd, identity)
            read.add(identity)
            return ev.NamespaceRead(c.id, pid, identity, dump, nsid_in_host, host_nsid, peers)
        except OSError as exc:
            return ev.ContainerUnread(
                c.id, f"its namespace could not be read ({exc.strerror or exc})"
            )
        finally:
            os.close(fd)

    def _read(
        self, fd: int, identity: ev.NamespaceId
    ) -> tuple[NamespaceDump, int | None, int | None, ev.Peers]:
        """One namespace's dump, the ids it and the host give each other, and the
        namespaces its veths lead to (asked only for veths that lead neither here nor to
        the host)."""
        if self._memos is None:
            self._memos = DumpMemos()
        with Netlink.inside(fd, self._memos) as nl:
            dump = nl.dump()
            host_nsid = nl.netnsid(netns.host_netns_fd())
            wanted = {
                link.interface.link_netnsid
                for link in dump.links
                if link.interface.link_netnsid is not None
                and link.interface.link_netnsid != host_nsid
            }
            peers: list[tuple[int, ev.NamespaceId]] = []
            for other in self._found.values():
                if not wanted:
                    break
                if other.identity == identity:
                    continue
                other_fd = self._open(other)
                if other_fd is None:
                    continue
                try:
                    nsid = nl.netnsid(other_fd)
                finally:
                    os.close(other_fd)
                if nsid in wanted:
                    wanted.discard(nsid)
                    peers.append((nsid, other.identity))
        return dump, self._host.netnsid(fd), host_nsid, tuple(sorted(peers))

    @staticmethod
    def _open(found: FoundNamespace) -> int | None:
        """An fd on the namespace ``found`` names, by a bind mount or its pid; None when
        neither leads to it any more (a pid reused by a process elsewhere is refused)."""
        paths = [*found.paths, *([f"/proc/{found.pid}/ns/net"] if found.pid else [])]
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            if netns.netns_inode(fd) == found.identity:
                return fd
            os.close(fd)
        return None

    # -- every other namespace --------------------------------------------------------------

    def discover(self) -> list[ev.Event]:
        """Every namespace on the host (``collect.discover``), each with what made it.

        Needs root: another user's ``/proc/PID/ns/net`` cannot even be looked at.
        """
        if not self._root:
            return []
        cni = cri.cni_results()
        kube = None
        found = []
        for f in discover.discover(known=self._found):
            if f.identity == self._host_identity:
                continue
            if kube is None and f.cgroup and "kubepods" in f.cgroup:
                kube = cri.pod_names()  # crictl only where there are pods to name
            found.append(replace(f, owner=attribute(f, cni, kube)))
        self._found = {f.identity: f for f in found}
        return [ev.NamespacesFound(self._host_identity, tuple(found))]

    def podman(self) -> list[ev.Event]:
        """Podman's containers, with the namespace each running one's pid is in."""
        try:
            listed = podman.containers()
        except podman.PodmanUnavailable as exc:
            return [ev.Notice("podman", f"Podman is installed but did not answer: {exc}")]
        if listed is None:
            return []
        namespaces = []
        for c in listed:
            if c.pid is None:
                continue
            try:
                fd = netns.open_netns(c.pid)
            except OSError:
                continue
            try:
                namespaces.append((c.id, netns.netns_inode(fd)))
            finally:
                os.close(fd)
        return [ev.WorkloadsListed("podman", listed, tuple(namespaces)), ev.Notice("podman", None)]

    def read_namespaces(self, identities: Iterable[ev.NamespaceId]) -> list[ev.Event]:
        """The namespaces discovery found (by identity), each read once."""
        out: list[ev.Event] = []
        for identity in dict.fromkeys(identities):
            found = self._found.get(identity)
            fd = self._open(found) if found is not None else None
            if fd is None:
                out.append(ev.NamespaceGone(identity))
                continue
            try:
                dump, nsid_in_host, host_nsid, peers = self._read(fd, identity)
            except OSError:
                out.append(ev.NamespaceGone(identity))
                continue
            finally:
                os.close(fd)
            out.append(ev.NamespaceDumped(identity, dump, nsid_in_host, host_nsid, peers))
        return out

    def everything(self, known: Sequence[Container] = ()) -> list[ev.Event]:
        """A full pass: the host, the list, discovery, every namespace (Docker's, then
        every other one found).  When the engine cannot be asked, the containers already
        ``known`` are read again instead."""
        # Podman's list is a subprocess to wait for (40-50 ms): asked now, taken after the
        # namespaces are read.  Only discovery (root) makes use of it.
        podman_listed = on_daemon_thread(self.podman, "cnet-podman-list") if self._root else None
        events: list[ev.Event] = [self.host()]
        if self._root:  # why the probes cannot name the kernel's drop reasons, if they cannot
            tracefs.remove_stale()  # a killed cnet's probe instance still traces: end it
            events.append(ev.Notice("drops", tracefs.availability()))
        listed = self.containers()
        events.extend(listed)
        containers = listed[0].containers if isinstance(listed[0], ev.ContainersListed) else known
        found = self.discover()  # first: a veth between two namespaces needs them all
        events.extend(found)
        read = self.namespaces(containers)
        events.extend(read)
        if found and podman_listed is not None:
            events.extend(podman_listed.result())
            docker = {e.namespace for e in read if isinstance(e, ev.NamespaceRead)}
            assert isinstance(found[0], ev.NamespacesFound)
            events.extend(
                self.read_namespaces(f.identity for f in found[0].found if f.identity not in docker)
            )
        return events
