"""Podman's containers through its CLI (rootful: the containers root sees), with a timeout.

``podman ps -a --format json`` lists them with their pids; one ``podman inspect`` of the
running ones adds each network endpoint (address, gateway, MAC, IPv6).  Only those fields
are kept: the replies also hold the environment and the command line, which are dropped
here so they never reach a snapshot.  Without podman on the PATH there is nothing to ask,
and that is no error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

from inspector.model.snapshot import Container, NetworkAttachment

PODMAN_TIMEOUT_S = 5.0


class PodmanUnavailable(Exception):
    """Podman is installed but did not answer (a timeout, an error); one line."""


def _run(podman: str, args: list[str], timeout: float) -> Any:
    try:
        proc = subprocess.run(
            [podman, *args],
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise PodmanUnavailable(f"podman {args[0]} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise PodmanUnavailable(f"podman {args[0]}: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        line = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PodmanUnavailable(f"podman {args[0]}: {line[-1][:200] if line else 'failed'}")
    try:
        return json.loads(proc.stdout or b"[]")
    except ValueError:
        raise PodmanUnavailable(f"podman {args[0]}: not JSON") from None


def endpoints(detail: Any) -> tuple[NetworkAttachment, ...]:
    """The network endpoints of one ``podman inspect`` entry."""
    networks = ((detail or {}).get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(
        NetworkAttachment(
            name=str(name),
            ip=(ep or {}).get("IPAddress") or None,
            gateway=(ep or {}).get("Gateway") or None,
            mac=(ep or {}).get("MacAddress") or None,
            ipv6=(ep or {}).get("GlobalIPv6Address") or None,
            ipv6_gateway=(ep or {}).get("IPv6Gateway") or None,
        )
        for name, ep in sorted(networks.items())
    )


def container_from_ps(entry: Any, detail: Any = None) -> Container:
    """A ``podman ps --format json`` entry (and its inspect, when running) as a workload."""
    names = entry.get("Names") or [str(entry["Id"])[:12]]
    state = str(entry.get("State") or "unknown")
    mode = ((detail or {}).get("HostConfig") or {}).get("NetworkMode")
    nets = entry.get("Networks") or []
    return Container(
        id=str(entry["Id"]),
        name=str(names[0]),
        image=str(entry.get("Image") or ""),
        state=state,
        pid=(int(entry.get("Pid") or 0) or None) if state == "running" else None,
        network_mode=str(mode or (nets[0] if len(nets) == 1 else "bridge")),
        networks=endpoints(detail),
        runtime="podman",
    )


def available() -> str | None:
    return shutil.which("podman")


def containers(timeout: float = PODMAN_TIMEOUT_S) -> tuple[Container, ...] | None:
    """Every podman container, or None when podman is not installed.

    Raises PodmanUnavailable when it is but does not answer.
    """
    podman = available()
    if podman is None:
        return None
    listed = _run(podman, ["ps", "-a", "--format", "json"], timeout)
    if not isinstance(listed, list):
        return ()
    running = [str(e["Id"]) for e in listed if isinstance(e, dict) and e.get("State") == "running"]
    details: dict[str, Any] = {}
    if running:
        inspected = _run(podman, ["inspect", "--format", "json", *running], timeout)
        details = {str(d.get("Id")): d for d in inspected or [] if isinstance(d, dict)}
    return tuple(
        container_from_ps(e, details.get(str(e["Id"])))
        for e in listed
        if isinstance(e, dict) and e.get("Id")
    )


EVENT_ACTIONS = ("start", "died", "remove", "restart", "pause", "unpause")
"""Podman event statuses after which its list is asked again."""


def event_action(line: bytes) -> tuple[str, str] | None:
    """(status, container id) of one ``podman events --format json`` line, for the
    statuses that change what cnet shows; None for the others and for what is not one."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("Type") != "container":
        return None
    status, cid = str(data.get("Status") or ""), str(data.get("ID") or "")
    return (status, cid) if status in EVENT_ACTIONS and cid else None


class PodmanEvents:
    """``podman events`` as a stream of (status, id), until ``close`` or podman ends it."""

    def __init__(self, podman: str) -> None:
        self._proc = subprocess.Popen(
            [podman, "events", "--format", "json", "--filter", "type=container"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def __iter__(self) -> Iterator[tuple[str, str]]:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            action = event_action(line)
            if action is not None:
                yield action

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
