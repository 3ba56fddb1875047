"""A pod namespace plumbed by the real CNI bridge plugin, as a kubelet has it done.

``ip netns add``, then ``/usr/lib/cni/bridge`` ADD with host-local IPAM (prefix ``cnns-``);
DEL, the namespace, the bridge and host-local's ``/var/lib/cni/networks/N`` are removed
afterwards.  The result cache a CRI runtime keeps (libcni writes it, not the plugin) is
written from the plugin's own answer into a temporary directory.  Docker is kept out.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inspector.collect import cri
from inspector.live.runner import Collector
from inspector.model.snapshot import PeerRef, Snapshot

BRIDGE_PLUGIN = "/usr/lib/cni/bridge"
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not os.access(BRIDGE_PLUGIN, os.X_OK), reason="needs CNI's bridge plugin"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]


@dataclass
class Pod:
    netns: str
    network: str
    bridge: str
    container_id: str
    config: str
    result: dict[str, Any]


def _plugin(command: str, pod_netns: str, cid: str, config: str) -> str:
    env = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": cid,
        "CNI_NETNS": f"/var/run/netns/{pod_netns}",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": "/usr/lib/cni",
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
    }
    proc = subprocess.run(
        [BRIDGE_PLUGIN], input=config, env=env, capture_output=True, text=True, timeout=30
    )
    if proc.returncode != 0:
        raise RuntimeError(f"CNI {command} failed: {proc.stdout.strip()} {proc.stderr.strip()}")
    return proc.stdout


@pytest.fixture(scope="module")
def pod() -> Iterator[Pod]:
    s = secrets.token_hex(2)
    n = 100 + int(s, 16) % 100
    netns, network, bridge = f"cnns-{s}p", f"cnns-{s}net", f"cnns-cb{s}"
    cid = secrets.token_hex(32)
    config = json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": network,
            "type": "bridge",
            "bridge": bridge,
            "isGateway": True,
            "ipam": {
                "type": "host-local",
                "subnet": f"10.246.{n}.0/24",
                "routes": [{"dst": "0.0.0.0/0"}],
            },
        }
    )
    subprocess.run(["ip", "netns", "add", netns], check=True, timeout=30)
    try:
        result = json.loads(_plugin("ADD", netns, cid, config))
        yield Pod(netns, network, bridge, cid, config, result)
    finally:
        with contextlib.suppress(RuntimeError):  # DEL even when ADD failed halfway
            _plugin("DEL", netns, cid, config)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, timeout=30)
        shutil.rmtree(f"/var/lib/cni/networks/{network}", ignore_errors=True)


def _collect(monkeypatch: pytest.MonkeyPatch) -> Snapshot:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/cnns.sock")
    collector = Collector()
    try:
        return collector.collect()
    finally:
        collector.close()


def test_without_the_cache_it_is_the_named_namespace(
    pod: Pod, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cri, "CNI_RESULTS", str(tmp_path / "none"))
    s = _collect(monkeypatch)
    w = s.container(pod.netns)
    assert w is not None and w.runtime == "netns"


def test_a_cni_pod_is_named_by_the_result_cache_and_joined_to_its_bridge(
    pod: Pod, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "results"
    cache.mkdir()
    (cache / f"{pod.network}-{pod.container_id}-eth0").write_text(
        json.dumps(
            {
                "kind": "cniCacheV1",
                "containerId": pod.container_id,
                "config": base64.b64encode(pod.config.encode()).decode(),
                "ifName": "eth0",
                "networkName": pod.network,
                "result": pod.result,
            }
        )
    )
    monkeypatch.setattr(cri, "CNI_RESULTS", str(cache))
    s = _collect(monkeypatch)
    w = s.container(f"pod {pod.container_id[:12]}")
    assert w is not None, [c.name for c in s.containers]
    assert (w.runtime, w.id) == ("cri", pod.container_id)
    assert w.netns == f"net:[{os.stat(f'/run/netns/{pod.netns}').st_ino}]"
    [ip] = pod.result["ips"]
    [net] = w.networks
    assert (net.name, net.ip, net.gateway) == (
        pod.network,
        ip["address"].split("/")[0],
        ip["gateway"],
    )
    # the plugin's address, on eth0 as iproute2 sees it inside
    inside = json.loads(
        subprocess.run(
            ["ip", "-n", pod.netns, "-j", "addr", "show", "eth0"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    )
    eth0 = next(i for i in w.interfaces if i.name == "eth0")
    assert ip["address"] in eth0.addresses
    assert {f"{a['local']}/{a['prefixlen']}" for a in inside[0]["addr_info"]} == set(eth0.addresses)
    # the host end the plugin made, on its bridge, names the pod
    assert eth0.peer is not None and eth0.peer.bridge == pod.bridge
    host_end = s.host_interface(eth0.peer.name)
    assert host_end is not None and host_end.peer == PeerRef("eth0", eth0.ifindex, None, w.name)
    bridge = s.bridge(pod.bridge)
    assert bridge is not None
    assert [(p.container, p.container_interface) for p in bridge.ports] == [(w.name, "eth0")]
    default = next(r for r in w.routes if r.dst == "default")
    assert default.gateway == ip["gateway"]
