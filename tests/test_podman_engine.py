"""A rootful Podman container, as cnet sees it and as ``podman inspect`` and iproute2 do.

Marked ``engine`` (it starts a real container): run with the engine tests.  It makes one
container (prefix ``cnns-``) from a busybox image it imports itself, removes it, and removes
the netavark iptables chains that were not there before it, unless another Podman container
still uses them.  Docker is kept out (``DOCKER_HOST`` points nowhere).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.live.runner import Collector
from inspector.model.snapshot import Snapshot

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(os.geteuid() != 0, reason="rootful podman needs root"),
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
    pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="needs busybox-static"),
]
IMAGE = "localhost/cnns-busybox:test"
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


def podman(*args: str) -> str:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def _netavark_chains() -> set[tuple[str, str]]:
    """(table, chain) of every NETAVARK chain in iptables-save."""
    chains, table = set(), ""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, timeout=30).stdout
    for line in out.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":NETAVARK"):
            chains.add((table, line[1:].split()[0]))
    return chains


def _remove_chains(chains: set[tuple[str, str]]) -> None:
    """Unhook, flush and delete each chain (only those the test's container made)."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, timeout=30).stdout
    table = ""
    names = {c for _, c in chains}
    for line in out.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif (
            line.startswith("-A ")
            and line.split()[1] not in names
            and any(f"-j {c}" in line for c in names)
        ):
            rule = shlex.split(line)[1:]  # iptables-save quotes as a shell would
            subprocess.run(["iptables", "-t", table, "-D", *rule], capture_output=True, timeout=30)
    for table, chain in chains:
        subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True, timeout=30)
    for table, chain in chains:
        subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("img")
    (root / "bin").mkdir()
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for tool in ("sh", "sleep"):
        (root / "bin" / tool).symlink_to("busybox")
    tar = Path(root.parent / "cnns-img.tar")
    with tarfile.open(tar, "w") as fh:
        fh.add(root, arcname=".")
    podman("import", str(tar), IMAGE)
    before = _netavark_chains()
    name = f"cnns-pt{secrets.token_hex(2)}"
    try:
        podman("run", "-d", "--name", name, *ULIMITS, IMAGE, "sleep", "600")
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name)
        if not podman("ps", "-aq").strip():  # nobody else's container uses them
            _remove_chains(_netavark_chains() - before)
        podman("rmi", "-f", IMAGE)


@pytest.fixture(scope="module")
def snapshot(container: str) -> Snapshot:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_HOST", "unix:///nonexistent/cnns.sock")
        collector = Collector()
        try:
            return collector.collect()
        finally:
            collector.close()


def test_a_podman_container_is_listed_as_podman_inspect_says(
    container: str, snapshot: Snapshot
) -> None:
    c = snapshot.container(container)
    assert c is not None
    [detail] = json.loads(podman("inspect", "--format", "json", container))
    assert (c.runtime, c.id, c.pid, c.state) == (
        "podman",
        detail["Id"],
        detail["State"]["Pid"],
        "running",
    )
    assert c.netns == os.readlink(f"/proc/{c.pid}/ns/net")
    for n in c.networks:
        ep = detail["NetworkSettings"]["Networks"][n.name]
        assert (n.ip, n.gateway, n.mac) == (ep["IPAddress"], ep["Gateway"], ep["MacAddress"])
    assert "PATH=" not in repr(c)  # its environment never reaches the snapshot


def test_its_veth_is_joined_to_podmans_bridge(container: str, snapshot: Snapshot) -> None:
    c = snapshot.container(container)
    assert c is not None
    inside = json.loads(
        subprocess.run(
            ["nsenter", "-t", str(c.pid), "-n", "ip", "-j", "-d", "link"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    )
    eth0 = next(i for i in c.interfaces if i.name == "eth0")
    assert eth0.iflink == next(x for x in inside if x["ifname"] == "eth0")["link_index"]
    assert eth0.peer is not None and eth0.peer.bridge is not None
    bridge = snapshot.bridge(eth0.peer.bridge)
    assert bridge is not None
    port = next(p for p in bridge.ports if p.name == eth0.peer.name)
    assert (port.container, port.container_interface) == (container, "eth0")
