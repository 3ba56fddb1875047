"""A real podman container on netavark: ``cnet rules podman0`` shows its MASQUERADE and the
``FORWARD -> NETAVARK_FORWARD`` jump, and the doctor's listener check sees a real socket.

Marked ``engine`` (run with ``-m engine``); skips without root or podman.  The one
container is named ``cnrl-pod-<random>``; it and netavark's leftover chains (netavark keeps
``NETAVARK_FORWARD`` and its HOSTPORT chains after ``podman rm``) are removed at the end.
cnet is pointed at a Docker socket that does not exist, so the shared dockerd is never
asked anything; traffic goes only to the container (none is needed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.doctor.live import read_listeners
from tests.cli import cnet

pytestmark = pytest.mark.engine

IMAGE = "localhost/cnrl-busybox:1"
BUSYBOX = Path("/bin/busybox")
LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")  # runc here


def _podman_problem() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("podman") is None:
        return "podman is not installed (apt-get install podman)"
    if not BUSYBOX.exists():
        return "needs busybox-static for the image"
    return None


def _run(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout


def _image(tmp: Path) -> None:
    if subprocess.run(["podman", "image", "exists", IMAGE]).returncode == 0:
        return
    root = tmp / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for name in ("sh", "sleep", "httpd"):
        (root / "bin" / name).symlink_to("busybox")
    tar = tmp / "image.tar"
    with tarfile.open(tar, "w") as t:
        t.add(root, arcname=".")
    _run("podman", "import", str(tar), IMAGE)


def _remove_netavark_leftovers() -> None:
    """netavark's shared chains, only when no podman container is left to need them."""
    if _run("podman", "ps", "-aq", check=False).strip():
        return
    ipt = "iptables"
    _run(ipt, "-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment",
         "netavark firewall plugin rules", "-j", "NETAVARK_FORWARD", check=False)  # fmt: skip
    for table, chain in (("filter", "NETAVARK_FORWARD"),):
        _run(ipt, "-t", table, "-F", chain, check=False)
        _run(ipt, "-t", table, "-X", chain, check=False)
    for hook in ("PREROUTING", "OUTPUT"):
        _run(ipt, "-t", "nat", "-D", hook, "-m", "addrtype", "--dst-type", "LOCAL",
             "-j", "NETAVARK-HOSTPORT-DNAT", check=False)  # fmt: skip
    _run(ipt, "-t", "nat", "-D", "POSTROUTING", "-j", "NETAVARK-HOSTPORT-MASQ", check=False)
    for chain in ("NETAVARK-HOSTPORT-DNAT", "NETAVARK-HOSTPORT-MASQ", "NETAVARK-HOSTPORT-SETMARK"):
        _run(ipt, "-t", "nat", "-F", chain, check=False)
        _run(ipt, "-t", "nat", "-X", chain, check=False)


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    problem = _podman_problem()
    if problem:
        pytest.skip(f"podman test skipped: {problem}")
    _image(tmp_path_factory.mktemp("cnrl-image"))
    name = f"cnrl-pod-{uuid.uuid4().hex[:6]}"
    try:
        _run("podman", "run", "-d", "--name", name, *LIMITS, "-p", "127.0.0.1:18183:80",
             IMAGE, "httpd", "-f", "-p", "80", "-h", "/")  # fmt: skip
        yield name
    finally:
        _run("podman", "rm", "-f", "-t", "0", name, check=False)
        _remove_netavark_leftovers()


def test_rules_podman0_shows_netavark_masquerade_and_forward_jump(pod: str) -> None:
    proc = cnet("rules", "podman0", env={"DOCKER_HOST": "unix:///nonexistent/cnrl.sock"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.splitlines()[0].startswith("rules for bridge podman0 (10.88.0.0/16)")
    assert '-m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD' in out
    masq = [ln for ln in out.splitlines() if "! -d 224.0.0.0/4 -j MASQUERADE" in ln]
    assert len(masq) == 1, out
    assert "--to-destination 10.88.0." in out and ":80" in out  # its DNAT for 18183
    assert "masquerades traffic not to 224.0.0.0/4" in out  # each rule in words


def test_a_real_listener_inside_the_pod_is_seen(pod: str) -> None:
    pid = int(_run("podman", "inspect", "-f", "{{.State.Pid}}", pod).strip())
    listeners = read_listeners(pid)
    assert listeners is not None
    assert any(x.port == 80 and x.protocol == "tcp" for x in listeners), listeners
