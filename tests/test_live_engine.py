"""The live inventory against the real engine and kernel, with no reconciliation.

Every change below reaches the picture through events alone (``reconcile=0``), and each
is checked against iproute2 (``ip -j``, ``nsenter``) and the docker CLI.  A dying engine
and a stuck inspect are simulated by a socket proxy of the tests' own
(``tests/docker_proxy.py``), never by touching the shared dockerd.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inspector.live.runner import Live, LiveUpdate
from inspector.model.snapshot import Container, Snapshot
from tests.cli import cnet
from tests.docker_proxy import DockerProxy
from tests.lab import PREFIX, Lab, host_links, sh

WAIT_S = 15.0


class Watch:
    """The newest update a ``Live`` published, and a way to wait for a condition on it."""

    def __init__(self) -> None:
        self.latest: LiveUpdate | None = None
        self.count = 0
        self._changed = threading.Condition()

    def publish(self, update: LiveUpdate) -> None:
        with self._changed:
            self.latest = update
            self.count += 1
            self._changed.notify_all()

    def until(
        self, what: str, ok: Callable[[Snapshot], object], seconds: float = WAIT_S
    ) -> Snapshot:
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                latest = self.latest
                if latest is not None and not latest.status.reading and ok(latest.snapshot):
                    return latest.snapshot
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for: {what}")
                self._changed.wait(left)


@pytest.fixture
def watch(lab: Lab) -> Iterator[tuple[Live, Watch]]:
    live = Live(reconcile=0)
    w = Watch()
    live.start(w.publish)
    w.until("the first full read", lambda s: s.container(lab.multi) is not None)
    try:
        yield live, w
    finally:
        live.stop()


def veth_of(lab: Lab, name: str, ifname: str = "eth0") -> str:
    """The host end of a container's interface, by iproute2's own link index."""
    inside = {link["ifname"]: link for link in lab.ip_links_in(name)}
    host = {link["ifindex"]: link["ifname"] for link in host_links()}
    return host[inside[ifname]["link_index"]]


def peers(c: Container | None) -> dict[str, str | None]:
    """Interface -> host end's name; empty while the container is not in the picture."""
    if c is None:
        return {}
    return {i.name: i.peer.name if i.peer else None for i in c.interfaces}


def test_run_connect_disconnect_rename_restart_rm_follow_events(
    lab: Lab, watch: tuple[Live, Watch]
) -> None:
    _, w = watch
    name = PREFIX + "ev"
    lab.run(name)
    veth = veth_of(lab, name)
    w.until(
        "the new container with its veth", lambda s: peers(s.container(name)).get("eth0") == veth
    )

    sh("docker", "network", "connect", lab.net2, name)
    veth2 = veth_of(lab, name, "eth1")
    s = w.until("eth1 after connect", lambda s: peers(s.container(name)).get("eth1") == veth2)
    assert {p.name for b in s.bridges for p in b.ports if p.container == name} == {veth, veth2}

    sh("docker", "network", "disconnect", lab.net2, name)
    w.until("eth1 gone after disconnect", lambda s: "eth1" not in peers(s.container(name)))

    renamed = PREFIX + "ev2"
    sh("docker", "rename", name, renamed)
    lab.containers[lab.containers.index(name)] = renamed
    w.until(
        "the new name", lambda s: s.container(renamed) is not None and s.container(name) is None
    )

    sh("docker", "restart", "-t", "0", renamed)
    new_veth = veth_of(lab, renamed)
    assert new_veth != veth
    s = w.until(
        "the restarted container's new veth",
        lambda s: (
            peers(s.container(renamed)).get("eth0") == new_veth
            and (s.container(renamed) or Container("", "", "", "", None, "")).pid
            == lab.pid(renamed)
        ),
    )
    assert all(i.name != veth for i in s.host.interfaces)

    lab.remove(renamed)
    s = w.until("the container gone", lambda s: s.container(renamed) is None)
    assert all(i.name != new_veth for i in s.host.interfaces)
    assert all(p.container != renamed for b in s.bridges for p in b.ports)


def test_a_veth_moved_off_its_bridge_is_seen_from_kernel_events(
    lab: Lab, watch: tuple[Live, Watch]
) -> None:
    _, w = watch
    veth = veth_of(lab, lab.multi)
    bridge = lab.net1_bridge
    sh("ip", "link", "set", veth, "nomaster")
    try:
        w.until(
            "the port off the bridge",
            lambda s: all(p.name != veth for p in (s.bridge(bridge) or _no_bridge()).ports),
        )
    finally:
        sh("ip", "link", "set", veth, "master", bridge)
    w.until(
        "the port back",
        lambda s: any(
            p.name == veth and p.container == lab.multi
            for p in (s.bridge(bridge) or _no_bridge()).ports
        ),
    )
    iproute = {link["ifname"]: link for link in host_links()}
    assert iproute[veth].get("master") == bridge


def _no_bridge() -> object:
    raise AssertionError("bridge missing")


def test_enobufs_is_followed_by_a_dump_that_loses_nothing(lab: Lab, tmp_path: Path) -> None:
    """A tiny receive buffer and a burst of links: the kernel drops notifications, says
    ENOBUFS, and the re-dump gives exactly what iproute2 lists."""
    live = Live(reconcile=0, rcvbuf=1024)
    w = Watch()
    live.start(w.publish)
    names = [f"{PREFIX}nb{i}" for i in range(40)]
    batch = tmp_path / "burst"
    try:
        w.until("the first full read", lambda s: s.container(lab.multi) is not None)
        first = live.dumps
        for _ in range(3):
            batch.write_text("".join(f"link add {n}a type veth peer name {n}b\n" for n in names))
            sh("ip", "-batch", str(batch))
            batch.write_text("".join(f"link del {n}a\n" for n in names[: len(names) // 2]))
            sh("ip", "-batch", str(batch))
            deadline = time.monotonic() + 5
            while live.dumps == first and time.monotonic() < deadline:
                time.sleep(0.05)
            if live.dumps > first:
                break
            batch.write_text("".join(f"link del {n}a\n" for n in names[len(names) // 2 :]))
            subprocess.run(["ip", "-batch", str(batch)], capture_output=True, check=False)
        assert live.dumps > first, "the burst never overflowed the buffer"
        expected = {link["ifname"] for link in host_links()}
        w.until(
            "the host links as iproute2 lists them",
            lambda s: {i.name for i in s.host.interfaces} == expected,
        )
    finally:
        live.stop()
        for n in names:
            subprocess.run(["ip", "link", "del", f"{n}a"], capture_output=True, check=False)


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DockerProxy]:
    p = DockerProxy(tmp_path / "docker.sock")
    monkeypatch.setenv("DOCKER_HOST", p.url)
    try:
        yield p
    finally:
        p.close()


def test_an_event_stream_that_ends_is_reconnected_and_resynced(
    lab: Lab, proxy: DockerProxy
) -> None:
    live = Live(reconcile=0)
    w = Watch()
    live.start(w.publish)
    name = PREFIX + "while-cut"
    try:
        w.until("the first full read", lambda s: s.container(lab.multi) is not None)
        w.until(
            "following the engine", lambda s: w.latest is not None and w.latest.status.engine_events
        )
        proxy.cut()  # as when dockerd restarts: the stream ends, new connections refused
        w.until(
            "the stream lost", lambda s: w.latest is not None and not w.latest.status.engine_events
        )
        lab.run(name)  # straight to the engine: no event reaches cnet for it
        time.sleep(1.0)
        assert w.latest is not None and w.latest.snapshot.container(name) is None
        proxy.resume()
        veth = veth_of(lab, name)
        s = w.until(
            "the resync after reconnecting", lambda s: peers(s.container(name)).get("eth0") == veth
        )
        assert w.latest is not None and w.latest.status.engine_events
        assert {c.name for c in s.containers} >= set(
            sh("docker", "ps", "-a", "--format", "{{.Names}}").split()
        )
    finally:
        live.stop()


def _stuck_container(lab: Lab, name: str) -> tuple[str, str]:
    """A container in a cgroup of its own making (so cnet must ask the engine for its pid)."""
    cid = lab.run(name, "--cgroup-parent", f"/{PREFIX}cg")
    return name, cid


def test_a_stuck_inspect_costs_one_warning_not_the_picture(lab: Lab, proxy: DockerProxy) -> None:
    name, cid = _stuck_container(lab, PREFIX + "stuck")
    proxy.stall(f"/containers/{cid}/json")
    started = time.monotonic()
    proc = cnet("snapshot", timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proxy.stalled >= 1  # cnet did ask, and the engine never answered
    data = json.loads(proc.stdout)
    by_name = {c["name"]: c for c in data["containers"]}
    assert by_name[name]["state"] == "running" and by_name[name]["problem"]
    assert any(name in w and "inspect" in w for w in data["warnings"])
    assert f"container {name}" in proc.stderr
    multi = by_name[lab.multi]
    assert {i["name"] for i in multi["interfaces"]} == {
        x["ifname"] for x in lab.ip_links_in(lab.multi)
    }
    assert all(i["peer"] for i in multi["interfaces"] if i["name"] != "lo")
    assert took < 30  # bounded: well inside the subprocess guard, whatever the engine does


def test_a_stuck_inspect_in_the_tui_shows_everything_else(lab: Lab, proxy: DockerProxy) -> None:
    import asyncio

    from inspector.tui.app import make_app

    name, cid = _stuck_container(lab, PREFIX + "stuck-tui")
    proxy.stall(f"/containers/{cid}/json")

    async def run() -> None:
        live = Live(reconcile=0)
        app = make_app(feed=live)
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 30
            while not (
                app.view is not None
                and app.live_status is not None
                and not app.live_status.reading
                and app.view.snapshot.container(name) is not None
                and app.view.snapshot.container(name).problem  # type: ignore[union-attr]
            ):
                assert time.monotonic() < deadline, "timed out"
                await pilot.pause(0.1)
            rows = {r.key for r in app.pane("containers").rows_shown}
            assert {name, lab.multi, lab.bridge} <= rows
            notice = str(app.screen.query_one("#notice").render())
            assert name in notice
            multi = app.view.snapshot.container(lab.multi)
            assert multi is not None and any(i.peer for i in multi.interfaces)
            await pilot.press("q")
        live.stop()

    asyncio.run(run())


def test_an_engine_that_is_not_there_is_one_line_and_the_host_is_shown(tmp_path: Path) -> None:
    proc = cnet("snapshot", env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if "Docker is not reachable" in line]
    assert json.loads(proc.stdout)["host"]["interfaces"]


def test_an_ssh_engine_is_named_as_remote(tmp_path: Path) -> None:
    """ssh:// engines are another host's: cnet says so and points to --host."""
    proc = cnet(
        "snapshot",
        env={"DOCKER_HOST": "ssh://cnet-nonexistent.invalid", "PATH": str(tmp_path)},
        timeout=60,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    remote = [line for line in proc.stderr.splitlines() if "not on this host" in line]
    assert len(remote) == 1 and "cnet --host ssh://" in remote[0]
