"""Kubernetes pods on this node, through what the CRI runtime leaves readable.

The CNI result cache (``/var/lib/cni/results/<network>-<id>-<ifname>``, written by libcni
for containerd, CRI-O and Podman's CNI backend) says which namespace path a network
plumbed for which sandbox id, with the addresses it gave.  ``crictl pods`` names the pods,
where crictl is installed; it is asked with a timeout, and its absence is no error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from inspector.model.records import CniResult

CNI_RESULTS = "/var/lib/cni/results"
CRICTL_TIMEOUT_S = 2.0
MAX_RESULT_BYTES = 1024 * 1024


def cni_result(data: Any) -> list[CniResult]:
    """The cache entry ``data`` (one JSON object) as records, one per interface plumbed
    into a sandbox; nothing for what is not a cache entry."""
    if not isinstance(data, dict) or not isinstance(data.get("containerId"), str):
        return []
    result: dict[str, Any] = data["result"] if isinstance(data.get("result"), dict) else {}
    listed = result.get("interfaces")
    interfaces: list[Any] = listed if isinstance(listed, list) else []
    ips = [ip for ip in result.get("ips") or [] if isinstance(ip, dict)]
    sandboxes: list[str | None] = [
        str(i["sandbox"]) for i in interfaces if isinstance(i, dict) and i.get("sandbox")
    ]
    v4_gateway = next(
        (str(ip["gateway"]) for ip in ips if ip.get("gateway") and ":" not in str(ip["gateway"])),
        None,
    )
    return [
        CniResult(
            container_id=data["containerId"],
            network=str(data.get("networkName") or "?"),
            ifname=str(data.get("ifName") or "?"),
            sandbox=sandbox,
            ips=tuple(str(ip["address"]) for ip in ips if ip.get("address")),
            gateway=v4_gateway,
        )
        for sandbox in sandboxes or [None]
    ]


def cni_results(directory: str | None = None) -> dict[str, CniResult]:
    """Namespace path -> the CNI result that plumbed it (the first, when several did);
    ``directory`` defaults to ``CNI_RESULTS``."""
    out: dict[str, CniResult] = {}
    try:
        entries = sorted(e.path for e in os.scandir(directory or CNI_RESULTS) if e.is_file())
    except OSError:
        return out
    for path in entries:
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read(MAX_RESULT_BYTES))
        except (OSError, ValueError):
            continue
        for r in cni_result(data):
            if r.sandbox is not None:
                out.setdefault(os.path.realpath(r.sandbox), r)
    return out


def pod_names(timeout: float = CRICTL_TIMEOUT_S) -> dict[str, str]:
    """Sandbox id -> ``namespace/name`` from ``crictl pods``; empty without crictl."""
    crictl = shutil.which("crictl")
    if crictl is None:
        return {}
    try:
        proc = subprocess.run(
            [crictl, "pods", "-o", "json"], capture_output=True, timeout=timeout, check=False
        )
        data = json.loads(proc.stdout) if proc.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}
    names: dict[str, str] = {}
    for item in data.get("items") or [] if isinstance(data, dict) else []:
        meta = item.get("metadata") or {}
        if item.get("id") and meta.get("name"):
            ns = meta.get("namespace")
            names[str(item["id"])] = f"{ns}/{meta['name']}" if ns else str(meta["name"])
    return names
