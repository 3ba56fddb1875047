"""The Docker engine through the docker SDK: the list, bounded inspects, networks, events.

Only the fields cnet shows are kept.  ``Config.Env`` and the command line come back in the
API replies and are dropped here, so they can never reach a snapshot.  The SDK reads
``DOCKER_HOST`` (unix, tcp, ssh), ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH`` and the CLI's
context the way the docker CLI does.

Nothing here waits without a bound: the list and every inspect carry a timeout, and
inspects run on daemon threads so that one container the engine never answers for
(moby#46661) costs a warning, not the picture.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from inspector.model.snapshot import Container, NetworkAttachment, PublishedPort

LIVE_STATES = ("running", "paused")  # the states in which a container has a pid
INSPECT_CONCURRENCY = 8
CONTAINER_EVENTS = ("create", "start", "die", "destroy", "rename", "pause", "unpause", "update")
NETWORK_EVENTS = ("connect", "disconnect", "create", "destroy")


class EngineUnavailable(Exception):
    """The engine cannot be asked (no socket, refused, permission denied, timeout)."""


@dataclass(frozen=True)
class EngineEvent:
    """One event of the engine's stream, reduced to what changes cnet's picture.

    ``container`` is the container concerned (for network connect/disconnect, the one
    connected); None for a network created or destroyed.
    """

    type: str
    action: str
    container: str | None
    time_nano: int


def _networks(summary: dict[str, Any]) -> tuple[NetworkAttachment, ...]:
    networks = (summary.get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(
        NetworkAttachment(
            name=name,
            ip=(ep or {}).get("IPAddress") or None,
            gateway=(ep or {}).get("Gateway") or None,
            mac=(ep or {}).get("MacAddress") or None,
            ipv6=(ep or {}).get("GlobalIPv6Address") or None,
            ipv6_gateway=(ep or {}).get("IPv6Gateway") or None,
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


def _name(summary: dict[str, Any]) -> str:
    names = summary.get("Names") or []
    # Legacy links add names like /other/alias; the container's own name has one slash.
    own = [n for n in names if n.count("/") == 1] or names or [summary["Id"][:12]]
    return str(own[0]).lstrip("/")


def container_from_summary(summary: dict[str, Any]) -> Container:
    """A container as the list reports it: no pid yet, no interfaces (those come later).

    ``network_mode`` keeps Docker's reference (``container:<id>``); the inventory names
    the container it points to, once it knows them all.
    """
    return Container(
        id=str(summary["Id"]),
        name=_name(summary),
        image=str(summary.get("Image") or ""),
        state=str(summary.get("State") or "unknown"),
        pid=None,
        network_mode=str((summary.get("HostConfig") or {}).get("NetworkMode") or "default"),
        networks=_networks(summary),
        ports=_ports(summary),
    )


class Engine:
    """A connection to the engine, with a timeout on every call.

    Two SDK clients: one for the list and the networks, one for inspects (each inspect on
    a daemon thread, so a hung one never holds the caller or the process's exit).
    """

    def __init__(self, timeout: float = 5.0, inspect_timeout: float = 2.0) -> None:
        import docker
        from docker.errors import DockerException

        self.timeout = timeout
        self.inspect_timeout = inspect_timeout
        try:
            self._client = docker.from_env(timeout=timeout, use_ssh_client=True).api
            self._inspector = docker.from_env(  # the version is known now: no second ask
                version=self._client.api_version, timeout=inspect_timeout, use_ssh_client=True
            ).api
        except DockerException as exc:
            raise EngineUnavailable(_reason(exc)) from None
        self.url = str(self._client.base_url)

    @property
    def on_this_host(self) -> bool | None:
        """True for a unix socket, False for ssh://, None when only the pids can tell."""
        if self.url.startswith("http+docker://") or self.url.startswith("unix"):
            return True
        if self.url.startswith("ssh") or "+ssh" in self.url:
            return False
        host = self.url.split("://", 1)[-1].split(":", 1)[0].strip("[]")
        return True if host in ("localhost", "127.0.0.1", "::1") else None

    def close(self) -> None:
        self._client.close()
        self._inspector.close()

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # the SDK raises requests', urllib3's and its own errors
            raise EngineUnavailable(f"{what}: {_reason(exc)}") from None

    def containers(self, container_id: str | None = None) -> tuple[Container, ...]:
        """Every container (running or not), or the one ``container_id`` names."""
        filters = {"id": [container_id]} if container_id else None
        summaries = self._call(
            "listing containers", lambda: self._client.containers(all=True, filters=filters)
        )
        return tuple(
            container_from_summary(s)
            for s in summaries
            if container_id is None or s.get("Id") == container_id
        )

    def networks(self) -> list[dict[str, Any]]:
        result = self._call("listing networks", self._client.networks)
        return result if isinstance(result, list) else []

    def inspect_pids(
        self, ids: Iterable[str], deadline: float | None = None
    ) -> tuple[dict[str, int | None], dict[str, str]]:
        """Pids by container id, asking up to ``INSPECT_CONCURRENCY`` at a time.

        Returns the pids that came (None for a container that is gone or has none) and,
        for the others, why not.  Waits at most ``deadline`` seconds in all (default: the
        inspect timeout): what has not answered by then is reported, not waited for.
        """
        todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        wanted = list(dict.fromkeys(ids))
        for cid in wanted:
            todo.put(cid)
        pids: dict[str, int | None] = {}
        problems: dict[str, str] = {}
        lock = threading.Lock()
        finished = threading.Event()

        def work() -> None:
            while True:
                try:
                    cid = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    detail = self._inspector.inspect_container(cid)
                    pid = int((detail.get("State") or {}).get("Pid") or 0) or None
                    with lock:
                        pids[cid] = pid
                except Exception as exc:
                    with lock:
                        if _is_not_found(exc):
                            pids[cid] = None
                        else:
                            problems[cid] = f"its inspect failed: {_reason(exc)}"
                with lock:
                    if len(pids) + len(problems) == len(wanted):
                        finished.set()

        if not wanted:
            return pids, problems
        for n in range(min(INSPECT_CONCURRENCY, len(wanted))):
            threading.Thread(target=work, name=f"cnet-inspect-{n}", daemon=True).start()
        finished.wait(self.inspect_timeout if deadline is None else deadline)
        with lock:
            answered = dict(pids)
            failed = dict(problems)
        for cid in wanted:
            if cid not in answered and cid not in failed:
                failed[cid] = (
                    f"the engine did not answer its inspect within {self.inspect_timeout:g} s"
                )
        return answered, failed

    def events(self, since: float) -> EventStream:
        """The engine's container and network events from ``since`` (seconds) on."""
        stream = self._call(
            "subscribing to events",
            lambda: self._client.events(
                since=int(since),
                filters={
                    "type": ["container", "network"],
                    "event": sorted({*CONTAINER_EVENTS, *NETWORK_EVENTS}),
                },
                decode=True,
            ),
        )
        return EventStream(stream)


class EventStream:
    """Iterates ``EngineEvent``s until the engine closes the stream; ``close`` ends it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[EngineEvent]:
        try:
            for raw in self._stream:
                event = _event(raw)
                if event is not None:
                    yield event
        except Exception as exc:  # a cut connection ends the stream like a restart does
            if not _is_closed(exc):
                raise EngineUnavailable(f"the event stream broke: {_reason(exc)}") from None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a stream the engine already dropped
            self._stream.close()


def _event(raw: Any) -> EngineEvent | None:
    if not isinstance(raw, dict):
        return None
    kind = str(raw.get("Type") or "")
    action = str(raw.get("Action") or raw.get("status") or "").split(":", 1)[0]
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    if kind == "container":
        container = actor.get("ID") or raw.get("id")
    elif kind == "network":
        container = attributes.get("container")
    else:
        return None
    when = raw.get("timeNano") or int(float(raw.get("time") or time.time()) * 1e9)
    return EngineEvent(kind, action, str(container) if container else None, int(when))


def _is_not_found(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) == 404


def _is_closed(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "closed" in text or text == "none"


def _reason(exc: BaseException) -> str:
    """One line for the user: the innermost cause the SDK wrapped, without the noise."""
    text = str(exc)
    for marker in ("Read timed out", "timed out"):
        if marker in text:
            return "the engine did not answer in time"
    if "No such file or directory" in text or "FileNotFoundError" in text:
        return "no Docker socket"
    if "Permission denied" in text:
        return "permission denied on the Docker socket"
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def read_networks(timeout: float = 5.0) -> list[dict[str, Any]]:
    """Docker's networks as the engine lists them; empty when it cannot be asked."""
    try:
        engine = Engine(timeout=timeout)
    except EngineUnavailable:
        return []
    try:
        return engine.networks()
    except EngineUnavailable:
        return []
    finally:
        engine.close()
