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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from inspector.collect import netns
from inspector.collect.docker_source import DockerUnavailable, connect, read_containers
from inspector.collect.netlink import netnsid_of, read_links, read_routes
from inspector.join import NamespaceView, join
from inspector.model import Container, HostNetwork, Snapshot

NOT_ROOT_WARNING = (
    "not running as root: container network namespaces cannot be entered, so container "
    "interfaces, their host peers and routes are missing; run cnet as root to see them"
)


@dataclass
class Collector:
    """Keeps the Docker connection between collections (a warm collect is much cheaper).

    Not shared between threads: each worker thread that collects owns one.
    """

    docker_timeout: float = 5.0
    _api: Any = field(default=None, repr=False)

    def _docker(self) -> Any:
        if self._api is None:
            self._api = connect(self.docker_timeout)
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def collect(self) -> Snapshot:
        from pyroute2 import IPRoute

        warnings: list[str] = []
        taken_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        containers: tuple[Container, ...] = ()
        try:
            view = read_containers(self._docker())
            containers = view.containers
            warnings.extend(view.warnings)
        except DockerUnavailable as exc:
            self._api = None
            warnings.append(f"Docker is not reachable: {exc}; showing the host only")

        with IPRoute() as ipr:
            links = read_links(ipr)
            host = HostNetwork(
                interfaces=links.interfaces, routes=read_routes(ipr, links.interfaces)
            )
            namespaces: dict[str, NamespaceView] = {}
            if containers and os.geteuid() != 0:
                warnings.append(NOT_ROOT_WARNING)
            elif containers:
                namespaces = _read_namespaces(ipr, containers, warnings)
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
    host_ipr: Any, containers: tuple[Container, ...], warnings: list[str]
) -> dict[str, NamespaceView]:
    """Read each distinct namespace once; map every running container to its view."""
    host_identity = netns.netns_inode(netns.host_netns_fd())
    views: dict[tuple[int, int], NamespaceView] = {}
    by_container: dict[str, NamespaceView] = {}
    for c in containers:
        if not c.running or c.pid is None:
            continue
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
                views[identity] = _read_namespace(host_ipr, fd)
            by_container[c.id] = views[identity]
        except OSError as exc:
            warnings.append(
                f"container {c.name}: its namespace could not be read ({exc.strerror or exc})"
            )
        finally:
            os.close(fd)
    return by_container


def _read_namespace(host_ipr: Any, fd: int) -> NamespaceView:
    from pyroute2 import IPRoute

    with IPRoute(fileno=netns.netlink_socket_in(fd).detach()) as ipr:
        links = read_links(ipr)
        return NamespaceView(
            nsid_in_host=netnsid_of(host_ipr, fd),
            host_nsid=netnsid_of(ipr, netns.host_netns_fd()),
            interfaces=links.interfaces,
            routes=read_routes(ipr, links.interfaces),
        )


_default: Collector | None = None


def collect_snapshot() -> Snapshot:
    """Collect once with a process-wide collector (warm on the second call)."""
    global _default
    if _default is None:
        _default = Collector()
    return _default.collect()


def warn(snapshot: Snapshot) -> None:
    """Print a snapshot's warnings on stderr, one line each."""
    for w in snapshot.warnings:
        print(f"cnet: warning: {w}", file=sys.stderr)
