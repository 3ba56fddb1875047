"""Read containers from the Docker API: one list call, one inspect per running container.

Only the fields cnet shows are kept.  ``Config.Env`` and the command line come back in
the API replies, and are dropped here so they can never reach a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from inspector.collect.docker_api import DockerAPI, DockerUnavailable
from inspector.model import Container, NetworkAttachment, PublishedPort

__all__ = ["DockerUnavailable", "DockerView", "read_containers"]

LIVE_STATES = ("running", "paused")  # the states in which a container has a pid


class DockerView(NamedTuple):
    """Containers as Docker reports them, before their namespaces are read."""

    containers: tuple[Container, ...]
    warnings: tuple[str, ...] = ()


def _networks(summary: dict[str, Any]) -> tuple[NetworkAttachment, ...]:
    networks = (summary.get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(
        NetworkAttachment(
            name=name,
            ip=(ep or {}).get("IPAddress") or None,
            gateway=(ep or {}).get("Gateway") or None,
            mac=(ep or {}).get("MacAddress") or None,
        )
        for name, ep in sorted(networks.items())
    )


def _ports(summary: dict[str, Any]) -> tuple[PublishedPort, ...]:
    ports = [
        PublishedPort(
            container_port=int(p["PrivatePort"]),
            protocol=str(p.get("Type", "tcp")),
            host_ip=p.get("IP") or None,
            host_port=int(p["PublicPort"]) if p.get("PublicPort") else None,
        )
        for p in summary.get("Ports") or []
        if p.get("PrivatePort")
    ]
    ports.sort(key=lambda p: (p.container_port, p.protocol, p.host_ip or "", p.host_port or 0))
    return tuple(dict.fromkeys(ports))


def read_containers(
    api: DockerAPI, on_pid: Callable[[Container], None] | None = None
) -> DockerView:
    """List every container (running and stopped) and find the pid of the running ones.

    ``on_pid`` is called with each container as soon as its pid is known, so a caller can
    read its namespace while the engine answers the next inspect.
    """
    summaries = api.containers()
    names_by_id = {s["Id"]: _name(s) for s in summaries}
    # One pipelined stream of inspects, consumed in list order as the replies arrive.
    inspections = api.inspect_containers(
        s["Id"] for s in summaries if str(s.get("State") or "") in LIVE_STATES
    )
    containers: list[Container] = []
    warnings: list[str] = []
    for s in summaries:
        name = names_by_id[s["Id"]]
        state = str(s.get("State") or "unknown")
        mode = str((s.get("HostConfig") or {}).get("NetworkMode") or "default")
        pid: int | None = None
        if state in LIVE_STATES:
            detail = next(inspections)
            if detail is None:
                warnings.append(f"container {name} disappeared during the scan; skipped")
                continue
            st = detail.get("State") or {}
            state = str(st.get("Status") or state)
            pid = int(st.get("Pid") or 0) or None
            mode = str((detail.get("HostConfig") or {}).get("NetworkMode") or mode)
        container = Container(
            id=s["Id"],
            name=name,
            image=str(s.get("Image") or ""),
            state=state,
            pid=pid,
            network_mode=mode,
            netns_shared_with=_shared_with(mode, names_by_id),
            networks=_networks(s),
            ports=_ports(s),
        )
        containers.append(container)
        if on_pid is not None and pid is not None:
            on_pid(container)
    containers.sort(key=lambda c: c.name)
    return DockerView(containers=tuple(containers), warnings=tuple(warnings))


def _name(summary: dict[str, Any]) -> str:
    names = summary.get("Names") or []
    # Legacy links add names like /other/alias; the container's own name has one slash.
    own = [n for n in names if n.count("/") == 1] or names or [summary["Id"][:12]]
    return str(own[0]).lstrip("/")


def _shared_with(mode: str, names_by_id: dict[str, str]) -> str | None:
    if mode == "host":
        return "host"
    if mode.startswith("container:"):
        ref = mode.split(":", 1)[1]
        for cid, name in names_by_id.items():
            if cid == ref or name == ref or cid.startswith(ref):
                return name
        return ref
    return None
