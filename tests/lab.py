"""A lab of real containers in every network mode, for engine tests, benchmarks and the demo.

Everything it creates is named with ``PREFIX`` and removed by ``Lab.close()``; leftovers of
a crashed earlier run are removed first.  Traffic is only ever sent to these containers.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from typing import Any

IMAGE = os.environ.get("CNET_TEST_IMAGE", "cnet-test/busybox:latest")

# CNET_LAB_ID (0-9) lets several labs live side by side (parallel developers, benchmarks):
# each gets its own name prefix and its own subnets.
_LAB_ID = os.environ.get("CNET_LAB_ID", "")
PREFIX = f"cnetlab{_LAB_ID}-"
_OCTET = 231 if not _LAB_ID else 200 + 3 * int(_LAB_ID)
NET1_SUBNET = f"172.30.{_OCTET}.0/24"
NET2_SUBNET = f"172.30.{_OCTET + 1}.0/24"
MACVLAN_SUBNET = f"172.30.{_OCTET + 2}.0/24"


# The environment the lab's own commands run in, fixed at import: a test that points cnet
# at a socket proxy (DOCKER_HOST) still builds and inspects the lab on the real engine.
LAB_ENV = dict(os.environ)


def sh(*args: str, check: bool = True, timeout: float = 60) -> str:
    """Run a command (never through a shell) and return its stdout."""
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=LAB_ENV)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def engine_problem() -> str | None:
    """Why engine tests cannot run here, or None when they can."""
    if os.environ.get("CNET_ENGINE_PROBLEM"):
        return os.environ["CNET_ENGINE_PROBLEM"]
    if os.geteuid() != 0:
        return "not root: engine tests need root to enter network namespaces"
    for tool in ("docker", "ip", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (./scripts/test installs it on Debian as root)"
    try:
        subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=True)
    except (subprocess.SubprocessError, OSError):
        return "no Docker engine answers (./scripts/test starts one on Debian as root)"
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        return f"test image {IMAGE} is missing (./scripts/engine builds it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Lab:
    """Names of what the lab made, and helpers to read iproute2's and docker's own view."""

    published_port: int = 0
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    # The standard lab's container names.
    bridge = PREFIX + "bridge"  # default bridge, a port published on 127.0.0.1
    multi = PREFIX + "multi"  # net1 (custom bridge name) + net2 (br-<id>)
    host = PREFIX + "host"  # --net=host
    none = PREFIX + "none"  # --net=none
    shared = PREFIX + "shared"  # --net=container:bridge
    macvlan = PREFIX + "macvlan"  # macvlan on one end of a veth pair
    stopped = PREFIX + "stopped"  # ran, then stopped
    net1 = PREFIX + "net1"
    net2 = PREFIX + "net2"
    net_macvlan = PREFIX + "mv"
    net1_bridge = PREFIX + "br1"
    macvlan_parent = PREFIX + "mvp"
    macvlan_peer = PREFIX + "mvq"

    @classmethod
    def start(cls) -> Lab:
        cleanup_leftovers()
        lab = cls(published_port=free_port())
        try:
            lab._build()
        except BaseException:
            lab.close()
            raise
        return lab

    def _build(self) -> None:
        self.network(
            self.net1,
            "--subnet",
            NET1_SUBNET,
            "-o",
            f"com.docker.network.bridge.name={self.net1_bridge}",
        )
        self.network(self.net2, "--subnet", NET2_SUBNET)
        sh(
            "ip",
            "link",
            "add",
            self.macvlan_parent,
            "type",
            "veth",
            "peer",
            "name",
            self.macvlan_peer,
        )
        self.links.append(self.macvlan_parent)
        sh("ip", "link", "set", self.macvlan_parent, "up")
        sh("ip", "link", "set", self.macvlan_peer, "up")
        # The macvlan network's gateway lives on the other end of the lab's own veth pair, so
        # a ping to it stays inside the lab (and is answered, as a real router would).
        gateway = MACVLAN_SUBNET.replace(".0/24", ".1/24")
        sh("ip", "addr", "add", gateway, "dev", self.macvlan_peer)
        self.network(
            self.net_macvlan,
            "-d",
            "macvlan",
            "-o",
            f"parent={self.macvlan_parent}",
            "--subnet",
            MACVLAN_SUBNET,
        )
        self.run(
            self.bridge,
            "-p",
            f"127.0.0.1:{self.published_port}:80",
            "-e",
            "CNET_LAB_SECRET=hunter2-lab-secret",
            # Something listens behind the published port (the doctor checks it does).
            command=("httpd", "-f", "-p", "80", "-h", "/bin"),
        )
        self.run(self.multi, "--net", self.net1)
        sh("docker", "network", "connect", self.net2, self.multi)
        self.run(self.host, "--net", "host")
        self.run(self.none, "--net", "none")
        self.run(self.shared, "--net", f"container:{self.bridge}")
        self.run(self.macvlan, "--net", self.net_macvlan)
        self.run(self.stopped)
        sh("docker", "stop", "-t", "0", self.stopped)

    def network(self, name: str, *args: str) -> str:
        self.networks.append(name)
        return sh("docker", "network", "create", *args, name).strip()

    def run(self, name: str, *args: str, command: tuple[str, ...] = ("sleep", "86400")) -> str:
        """Start a lab container (name must carry the prefix); removed by close()."""
        assert name.startswith(PREFIX), name
        self.containers.append(name)
        return sh("docker", "run", "-d", "--name", name, *args, IMAGE, *command).strip()

    def remove(self, name: str) -> None:
        """Remove a lab container now; later tests see the lab without it."""
        self.containers.remove(name)
        sh("docker", "rm", "-f", name)

    def close(self) -> None:
        remove_one_at_a_time(self.containers)
        for net in reversed(self.networks):
            sh("docker", "network", "rm", net, check=False)
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        self.containers.clear()
        self.networks.clear()
        self.links.clear()

    # --- the independent sources tests compare against -----------------------------
    def inspect(self, name: str) -> dict[str, Any]:
        data: list[dict[str, Any]] = json.loads(sh("docker", "inspect", name))
        return data[0]

    def pid(self, name: str) -> int:
        return int(self.inspect(name)["State"]["Pid"])

    def container_id(self, name: str) -> str:
        return str(self.inspect(name)["Id"])

    def ip_links_in(self, name: str) -> list[dict[str, Any]]:
        """``nsenter -t PID -n ip -j -d link`` for a container."""
        out = sh("nsenter", "-t", str(self.pid(name)), "-n", "ip", "-j", "-d", "link")
        return list(json.loads(out))

    def ip_addrs_in(self, name: str) -> list[dict[str, Any]]:
        out = sh("nsenter", "-t", str(self.pid(name)), "-n", "ip", "-j", "addr")
        return list(json.loads(out))

    def ip_routes_in(self, name: str) -> list[dict[str, Any]]:
        """The container's main table as iproute2 lists it: IPv4, then IPv6."""
        pid = str(self.pid(name))
        return [
            route
            for family in ("-4", "-6")
            for route in json.loads(
                sh("nsenter", "-t", pid, "-n", "ip", family, "-j", "route", "show", "table", "main")
            )
        ]

    def container_ip(self, name: str, network: str | None = None) -> str:
        nets = self.inspect(name)["NetworkSettings"]["Networks"]
        ep = nets[network] if network else next(iter(nets.values()))
        return str(ep["IPAddress"])


def remove_one_at_a_time(containers: list[str]) -> None:
    """``docker rm -f`` each in turn: the CLI removes several at once in parallel, which
    deadlocks Docker 20.10's libnetwork (moby#46661) and wedges the shared engine."""
    for name in containers:
        sh("docker", "rm", "-f", name, check=False, timeout=120)


def host_links() -> list[dict[str, Any]]:
    """``ip -j -d link`` in the host."""
    return list(json.loads(sh("ip", "-j", "-d", "link")))


def host_routes() -> list[dict[str, Any]]:
    """The host's main table as iproute2 lists it: IPv4, then IPv6."""
    return [
        route
        for family in ("-4", "-6")
        for route in json.loads(sh("ip", family, "-j", "route", "show", "table", "main"))
    ]


def cleanup_leftovers() -> None:
    """Remove whatever an earlier, crashed lab left behind (only prefixed objects)."""
    remove_one_at_a_time(
        sh("docker", "ps", "-aq", "--filter", f"name=^/{PREFIX}", check=False).split()
    )
    nets = sh("docker", "network", "ls", "-q", "--filter", f"name=^{PREFIX}", check=False).split()
    for net in nets:
        sh("docker", "network", "rm", net, check=False)
    for link in host_links():
        if link.get("ifname", "").startswith(PREFIX):
            sh("ip", "link", "del", link["ifname"], check=False)
