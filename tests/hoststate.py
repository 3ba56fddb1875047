"""The host's network state as iproute2 and iptables-save print it, to prove cnet changed nothing.

Counters and per-packet statistics are dropped: they move with any traffic.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from tests.lab import PREFIX, Lab, host_links, sh

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


_LINK_NAME = re.compile(r"^\d+:\s+([^:@\s]+)", re.M)
_HOST_ADDRESS = re.compile(r"(?:-[sd] |--to-destination )(\d+\.\d+\.\d+\.\d+)(?:/32|:\d+|\s|$)")


@dataclass(frozen=True)
class Mine:
    """What this lab owns, plus the host's own links: the only things compared."""

    links: frozenset[str]
    addresses: frozenset[str]


def mine(lab: Lab) -> Mine:
    """This lab's links and addresses, read from docker and iproute2 (not from cnet)."""
    links = {
        link["ifname"]
        for link in host_links()
        if link.get("linkinfo", {}).get("info_kind") not in ("veth", "bridge")
        or link["ifname"] == "docker0"
        or link["ifname"].startswith(PREFIX)
    }
    addresses: set[str] = set()
    for net in lab.networks:
        info = json.loads(sh("docker", "network", "inspect", net))[0]
        options = info.get("Options") or {}
        if info.get("Driver") == "bridge":
            links.add(options.get("com.docker.network.bridge.name") or "br-" + info["Id"][:12])
    host_index = {link["ifindex"]: link["ifname"] for link in host_links()}
    for name in lab.containers:
        try:
            detail = lab.inspect(name)
        except RuntimeError:
            continue  # removed by the test that made it
        networks = detail["NetworkSettings"]["Networks"] or {}
        addresses.update(ep["IPAddress"] for ep in networks.values() if ep.get("IPAddress"))
        mode = detail["HostConfig"]["NetworkMode"]
        if not detail["State"]["Running"] or mode in ("host", "none") or ":" in mode:
            continue
        for link in lab.ip_links_in(name):
            if link.get("link_index") in host_index and "link_netnsid" in link:
                links.add(host_index[link["link_index"]])
    return Mine(frozenset(links), frozenset(addresses))


def settled_host_state(timeout: float = 5.0) -> dict[str, Any]:
    """``host_state()`` once no address is tentative any more (IPv6 DAD on new links adds
    flags and local routes a second or two after a link appears, with no help from cnet)."""
    deadline = time.monotonic() + timeout
    while True:
        state = host_state()
        if time.monotonic() > deadline or not any("tentative" in a for a in state["addresses"]):
            return state
        time.sleep(0.1)


def host_changes(before: dict[str, Any], after: dict[str, Any], owned: Mine) -> list[str]:
    """What changed in the host's state, leaving out the churn of other people's labs.

    Other engineers' test runs create and remove links, networks and per-container rules
    at the same time.  A line is theirs when it names a link this lab does not own and
    that is not the host's own, or a per-container rule for an address not this lab's.
    Everything else (ip_forward, the rules of Docker's chains, these links) must match.
    """
    every: set[str] = set()
    for state in (before, after):
        every.update(_LINK_NAME.findall("\n".join(state["links"])))
    others = every - owned.links
    words = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, sorted(others))) + r")(?![\w.-])")

    def foreign(line: str) -> bool:
        if others and words.search(line):
            return True
        return any(a not in owned.addresses for a in _HOST_ADDRESS.findall(line))

    changes = []
    for key in before:
        old, new = before[key], after[key]
        if isinstance(old, str):
            if old != new:
                changes.append(f"{key}: {old!r} -> {new!r}")
            continue
        gone = [f"{key} - {line}" for line in old if line not in new and not foreign(line)]
        came = [f"{key} + {line}" for line in new if line not in old and not foreign(line)]
        changes.extend(gone + came)
    return changes
