"""The walk that asks whether FORWARD may accept a container's new outgoing connection."""

from __future__ import annotations

import ipaddress

import pytest

from inspector.rules import Table, parse_iptables_save
from inspector.rules.walk import NewConnection, first_accept

FROM_DOCKER0 = NewConnection("docker0", ipaddress.ip_address("172.17.0.2"), out_interface="eth0")


def filter_table(*lines: str, policy: str = "DROP", chains: tuple[str, ...] = ()) -> Table:
    text = "\n".join(
        [
            "*filter",
            f":FORWARD {policy} [0:0]",
            *(f":{c} - [0:0]" for c in chains),
            *lines,
            "COMMIT",
            "",
        ]
    )
    (table,) = parse_iptables_save(text, "ip")
    return table


# Docker 20.10, as `iptables-save` prints it on this project's machines.
DOCKER_20 = filter_table(
    "-A FORWARD -j DOCKER-USER",
    "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
    "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -o docker0 -j DOCKER",
    "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
    "-A FORWARD -i docker0 -o docker0 -j ACCEPT",
    "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
    "-A DOCKER-ISOLATION-STAGE-1 -j RETURN",
    "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
    "-A DOCKER-ISOLATION-STAGE-2 -j RETURN",
    "-A DOCKER-USER -j RETURN",
    chains=("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-USER"),
)


def test_docker_20_accepts_through_its_bridge_rule() -> None:
    rule = first_accept(DOCKER_20, "FORWARD", FROM_DOCKER0)
    assert rule is not None and rule.text == "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT"


def test_docker_28_accepts_inside_the_chain_forward_jumps_to() -> None:
    table = filter_table(
        "-A FORWARD -j DOCKER-USER",
        "-A FORWARD -j DOCKER-FORWARD",
        "-A DOCKER-FORWARD -j DOCKER-CT",
        "-A DOCKER-FORWARD -j DOCKER-BRIDGE",
        "-A DOCKER-FORWARD -i docker0 -j ACCEPT",
        "-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A DOCKER-BRIDGE -o docker0 -j DOCKER",
        chains=("DOCKER", "DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-FORWARD", "DOCKER-USER"),
    )
    rule = first_accept(table, "FORWARD", FROM_DOCKER0)
    assert rule is not None and rule.text == "-A DOCKER-FORWARD -i docker0 -j ACCEPT"


def test_flushed_forward_leaves_only_replies_and_inbound_accepted() -> None:
    """What a firewall reload leaves: the policy, and rules that never take a new outbound."""
    table = filter_table(
        "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A FORWARD -m state --state ESTABLISHED -j ACCEPT",
        "-A FORWARD -i docker0 -o docker0 -j ACCEPT",
        "-A FORWARD -o eth1 -j ACCEPT",
        "-A FORWARD -o br-+ -j ACCEPT",
        "-A FORWARD ! -o eth0 -j ACCEPT",
        "-A FORWARD -i eth0 -j ACCEPT",
        "-A FORWARD ! -i docker0 -j ACCEPT",
        "-A FORWARD -s 10.9.0.0/16 -j ACCEPT",
        "-A FORWARD ! -s 172.17.0.0/16 -j ACCEPT",
        "-A FORWARD -m conntrack ! --ctstate NEW -j ACCEPT",
    )
    assert first_accept(table, "FORWARD", FROM_DOCKER0) is None


@pytest.mark.parametrize(
    "rule",
    [
        "-A FORWARD -j ACCEPT",
        "-A FORWARD -i docker+ -j ACCEPT",
        "-A FORWARD -i docker0 -o eth0 -j ACCEPT",
        "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
        "-A FORWARD -d 192.0.2.0/24 -j ACCEPT",  # a destination beyond eth0: may match
        "-A FORWARD -s 172.17.0.0/16 -j ACCEPT",
        "-A FORWARD -i docker0 -p tcp --dport 443 -j ACCEPT",  # cannot judge: may match
        "-A FORWARD -m set --match-set trusted src -j ACCEPT",
        "-A FORWARD -m conntrack --ctstate NEW,RELATED -j ACCEPT",
    ],
)
def test_a_rule_that_may_accept_is_found(rule: str) -> None:
    found = first_accept(filter_table(rule), "FORWARD", FROM_DOCKER0)
    assert found is not None and found.text == rule


def test_jumps_that_loop_or_lead_nowhere_end() -> None:
    table = filter_table(
        "-A FORWARD -j A",
        "-A A -j B",
        "-A B -j A",
        "-A B -j LOG",
        chains=("A", "B"),
    )
    assert first_accept(table, "FORWARD", FROM_DOCKER0) is None
    assert first_accept(table, "NO-SUCH-CHAIN", FROM_DOCKER0) is None


def test_an_excluded_jump_is_not_followed() -> None:
    table = filter_table("-A FORWARD -i eth0 -j OPEN", "-A OPEN -j ACCEPT", chains=("OPEN",))
    assert first_accept(table, "FORWARD", FROM_DOCKER0) is None
