"""The host's network state as iproute2 and iptables-save print it, to prove cnet changed nothing.

Counters and per-packet statistics are dropped: they move with any traffic.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

_COUNTERS = re.compile(r"^\[\d+:\d+\]\s*|\s\[\d+:\d+\]$")


def _run(*args: str) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    return proc.stdout if proc.returncode == 0 else f"<{args[0]} failed: {proc.returncode}>"


def _ruleset(binary: str) -> list[str]:
    if shutil.which(binary) is None:
        return []
    lines = []
    for line in _run(binary).splitlines():
        if line.startswith("#"):
            continue  # generated-at comments
        if line.startswith(":"):
            line = re.sub(r"\s\[\d+:\d+\]$", "", line)  # chain policy counters
        lines.append(_COUNTERS.sub("", line))
    return lines


def host_state() -> dict[str, Any]:
    """Links, addresses, routes, rules and sysctls that cnet must not touch."""
    return {
        "links": _run("ip", "-o", "link", "show").splitlines(),
        "addresses": _run("ip", "-o", "addr", "show").splitlines(),
        "routes": _run("ip", "route", "show", "table", "all").splitlines(),
        "rules": _run("ip", "rule", "show").splitlines(),
        "iptables": _ruleset("iptables-save"),
        "ip6tables": _ruleset("ip6tables-save"),
        "ip_forward": _run("sysctl", "-n", "net.ipv4.ip_forward").strip(),
    }
