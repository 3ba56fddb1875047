"""What made a network namespace, judged from what discovery found (pure, no I/O).

The cgroup of the lowest process in it says most: an engine puts every container in a
cgroup named after its id (Docker ``docker-<id>.scope`` or ``/docker/<id>``, Podman
``libpod-<id>.scope``, CRI ``kubepods…/cri-containerd-<id>.scope``, ``crio-<id>.scope`` or
``/kubepods/…/pod<uid>/<id>``), and systemd one per unit (``…/NAME.service``).  A namespace
kept only by a bind mount is named by it (``ip netns add NAME``).  Anything else is the
process: its short name and pid, never its command line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from inspector.model.records import Attribution, CniResult, FoundNamespace
from inspector.model.snapshot import NetworkAttachment

_ID = r"([0-9a-f]{64})"
_DOCKER = re.compile(rf"(?:/docker/|docker-){_ID}(?:\.scope)?(?:/|$)")
_PODMAN = re.compile(rf"libpod-{_ID}(?:\.scope)?(?:/|$)")
_CRI = re.compile(rf"(?:cri-containerd-|crio-|/){_ID}(?:\.scope)?(?:/|$)")
_POD_UID = re.compile(
    r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})"
)
_UNIT = re.compile(r"/([^/]+\.service)(?:/|$)")
NETNS_DIRS = ("/run/netns/", "/var/run/netns/")
DOCKER_NETNS_DIRS = ("/run/docker/netns/", "/var/run/docker/netns/")


def from_cgroup(path: str) -> tuple[str, str] | None:
    """(runtime, container id) for an engine's cgroup path; None for any other."""
    if "libpod-conmon" in path:  # Podman's monitor, not a container
        return None
    if m := _PODMAN.search(path):
        return "podman", m.group(1)
    if "kubepods" in path and (m := _CRI.search(path)):
        return "cri", m.group(1)
    if m := _DOCKER.search(path):
        return "docker", m.group(1)
    return None


def pod_uid(path: str) -> str | None:
    """The Kubernetes pod UID in a kubepods cgroup path (systemd writes ``_`` for ``-``)."""
    m = _POD_UID.search(path)
    return m.group(1).replace("_", "-") if m else None


def unit(path: str) -> str | None:
    """The systemd service a cgroup path belongs to."""
    m = _UNIT.search(path)
    return m.group(1) if m else None


def _named(paths: tuple[str, ...], dirs: tuple[str, ...]) -> str | None:
    return next((os.path.basename(p) for p in paths if p.startswith(dirs)), None)


def _networks(results: list[CniResult]) -> tuple[NetworkAttachment, ...]:
    return tuple(
        NetworkAttachment(
            name=r.network,
            ip=next((ip.split("/")[0] for ip in r.ips if ":" not in ip), None),
            gateway=r.gateway,
            mac=None,
            ipv6=next((ip.split("/")[0] for ip in r.ips if ":" in ip), None),
        )
        for r in results
    )


def attribute(
    found: FoundNamespace,
    cni: Mapping[str, CniResult] | None = None,
    pod_names: Mapping[str, str] | None = None,
) -> Attribution:
    """What made ``found``: an engine (by cgroup), a CNI pod (by the result cache naming
    its mount), ``ip netns``, a systemd unit, or a process.

    ``cni`` maps a namespace path to the CNI result that plumbed it; ``pod_names`` a CRI
    sandbox id to its pod's name (from ``crictl``).
    """
    cni = cni or {}
    pod_names = pod_names or {}
    path = found.cgroup or "/"
    engine = from_cgroup(path)
    if engine is not None:
        runtime, cid = engine
        if runtime == "cri":
            uid = pod_uid(path)
            name = pod_names.get(cid) or (f"pod {uid}" if uid else f"pod {cid[:12]}")
            results = [cni[p] for p in found.paths if p in cni]
            return Attribution("cri", cid, name, _networks(results))
        return Attribution(runtime, cid, f"{runtime} {cid[:12]}")
    results = [cni[p] for p in found.paths if p in cni]
    if results:
        cid = results[0].container_id
        return Attribution("cri", cid, pod_names.get(cid) or f"pod {cid[:12]}", _networks(results))
    netns = _named(found.paths, NETNS_DIRS)
    if netns is not None:
        return Attribution("netns", f"netns:{netns}", netns)
    sandbox = _named(found.paths, DOCKER_NETNS_DIRS)
    if sandbox is not None and found.pid is None:
        return Attribution("docker", f"docker-sandbox:{sandbox}", f"docker sandbox {sandbox}")
    service = unit(path)
    if service is not None:
        return Attribution("systemd", f"systemd:{service}", service)
    if found.pid is not None:
        comm = found.comm or "?"
        return Attribution("process", f"pid:{found.pid}", f"process {comm} (pid {found.pid})")
    where = found.paths[0] if found.paths else f"net:[{found.identity[1]}]"
    return Attribution("netns", f"netns:{where}", where)
