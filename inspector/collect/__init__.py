"""Collect a live host's container networking into one joined ``Snapshot``.

One pass, no process forked per container: the Docker API for containers, netlink for
the host, and for each distinct container namespace a netlink socket opened from this
thread with ``setns`` (see ``netns``).  Every failure that leaves part of the picture
readable becomes a warning, never an exception.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

from inspector.collect import netns
from inspector.collect.docker_api import DockerAPI, DockerUnavailable
from inspector.collect.docker_source import read_containers
from inspector.collect.netlink import read_links, read_routes
from inspector.collect.rtnl import Rtnl
from inspector.join import NamespaceView, join
from inspector.model import Container, HostNetwork, Snapshot

NOT_ROOT_WARNING = (
    "not running as root: container network namespaces cannot be entered, so container "
    "interfaces, their host peers and routes are missing; run cnet as root to see them"
)


class Collector:
    """Keeps the Docker connection between collections (a warm collect is much cheaper).

    Not shared between threads: each worker thread that collects owns one.
    """

    def __init__(self, docker_timeout: float = 5.0) -> None:
        self.docker_timeout = docker_timeout
        self._api: DockerAPI | None = None

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def collect(self) -> Snapshot:
        warnings: list[str] = []
        taken_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        containers: tuple[Container, ...] = ()
        try:
            if self._api is None:
                self._api = DockerAPI(timeout=self.docker_timeout)
            view = read_containers(self._api)
            containers = view.containers
            warnings.extend(view.warnings)
        except DockerUnavailable as exc:
            self.close()
            warnings.append(f"Docker is not reachable: {exc}; showing the host only")

        with Rtnl() as host_nl:
            links = read_links(host_nl)
            host = HostNetwork(
                interfaces=links.interfaces, routes=read_routes(host_nl, links.interfaces)
            )
            namespaces: dict[str, NamespaceView] = {}
            if containers and os.geteuid() != 0:
                warnings.append(NOT_ROOT_WARNING)
            elif containers:
                namespaces = _read_namespaces(host_nl, containers, warnings)
        return join(
            taken_at=taken_at,
            hostname=socket.gethostname(),
            host=host,
            bridges=links.bridges,
            containers=containers,
            namespaces=namespaces,
            warnings=warnings,
        )


def _read_namespaces(
    host_nl: Rtnl, containers: tuple[Container, ...], warnings: list[str]
) -> dict[str, NamespaceView]:
    """Read each distinct namespace once; map every running container to its view."""
    host_identity = netns.netns_inode(netns.host_netns_fd())
    views: dict[tuple[int, int], NamespaceView] = {}
    by_container: dict[str, NamespaceView] = {}
    for c in containers:
        if c.pid is None:
            continue  # not running: no namespace
        try:
            fd = netns.open_netns(c.pid)
        except OSError:
            warnings.append(
                f"container {c.name} stopped during the scan; its interfaces were skipped"
            )
            continue
        try:
            identity = netns.netns_inode(fd)
            if identity == host_identity:
                continue  # host mode: the host's own links, already read
            if identity not in views:
                views[identity] = _read_namespace(host_nl, fd)
            by_container[c.id] = views[identity]
        except OSError as exc:
            warnings.append(
                f"container {c.name}: its namespace could not be read ({exc.strerror or exc})"
            )
        finally:
            os.close(fd)
    return by_container


def _read_namespace(host_nl: Rtnl, fd: int) -> NamespaceView:
    with Rtnl(netns.netlink_socket_in(fd)) as nl:
        links = read_links(nl)
        return NamespaceView(
            nsid_in_host=host_nl.netnsid(fd),
            host_nsid=nl.netnsid(netns.host_netns_fd()),
            interfaces=links.interfaces,
            routes=read_routes(nl, links.interfaces),
        )


_per_thread = threading.local()


def collect_snapshot() -> Snapshot:
    """Collect once with this thread's collector (warm from the second call on)."""
    collector: Collector | None = getattr(_per_thread, "collector", None)
    if collector is None:
        collector = _per_thread.collector = Collector()
    return collector.collect()


def warn(snapshot: Snapshot) -> None:
    """Print a snapshot's warnings on stderr, one line each."""
    for w in snapshot.warnings:
        print(f"cnet: warning: {w}", file=sys.stderr)
