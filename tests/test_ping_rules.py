"""``cnet ping --rules``: the rules whose counters the ping's packets moved, checked against iptables-save."""

from __future__ import annotations

import re

from tests.cli import cnet
from tests.lab import Lab, sh


def _counter(rule: str) -> int:
    """Packets of one rule in ``iptables-save -c`` (the independent source)."""
    for line in sh("iptables-save", "-c", "-t", "filter").splitlines():
        m = re.match(r"^\[(\d+):\d+\] (.*)$", line)
        if m and m.group(2) == rule:
            return int(m.group(1))
    raise AssertionError(f"no rule {rule!r}")


def test_a_ping_across_networks_shows_dockers_isolation_drop(lab: Lab) -> None:
    target = lab.container_ip(lab.multi, lab.net1)
    rule = f"-A DOCKER-ISOLATION-STAGE-2 -o {lab.net1_bridge} -j DROP"
    before = _counter(rule)
    proc = cnet("ping", lab.bridge, target, "-c", "3", "-i", "0.05", "-W", "0.3", "--rules")
    after = _counter(rule)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # Docker isolates networks: no reply
    assert after - before == 3
    rules_block = proc.stdout.split("in the order the packets met them:")[1].split("\n\n")[0]
    listed = rules_block.strip().splitlines()  # the drop reasons follow after a blank line
    moved = [line for line in listed if f"-o {lab.net1_bridge} -j DROP" in line]
    assert len(moved) == 1 and "DOCKER-ISOLATION-STAGE-2: +3 packets" in moved[0]
    # In path order: FORWARD first, into stage 1, into stage 2 where the DROP ends it.
    chains = [line.split()[2].rstrip(":") for line in listed]
    assert chains[0] == "FORWARD" and listed[-1] == moved[0]
    assert chains.index("DOCKER-ISOLATION-STAGE-1") < chains.index("DOCKER-ISOLATION-STAGE-2")


def test_a_ping_to_the_gateway_lists_no_filter_drop(lab: Lab) -> None:
    proc = cnet("ping", lab.bridge, "-c", "2", "-i", "0.05", "--rules")
    assert proc.returncode == 0, proc.stderr
    assert "whose counters moved during the ping" in proc.stdout
    assert "DROP" not in proc.stdout.split("whose counters moved")[1]
