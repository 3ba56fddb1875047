"""Can a chain accept a new connection?  A walk over parsed rules (iptables, or nft read as
JSON), jumps and verdict maps followed.

The doctor asks it when a FORWARD policy is DROP: Docker then relies on its own ACCEPT
rules for traffic leaving a bridge, and a firewall reload that flushes them cuts every
container off.  A rule is passed over only when its selectors exclude the packet for
certain (other interfaces, another source, replies only); any selector it cannot judge,
such as a destination or a port, counts as "may match".  So "no rule may accept" can be
trusted, while a rule found is only a candidate: what a diagnosis that must not cry wolf
needs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from inspector.rules.model import Option, Rule, Table, interface_matches

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class NewConnection:
    """The first packet of a connection: the interfaces it comes in and goes out by, and
    its source (its destination is left open: somewhere beyond ``out_interface``)."""

    in_interface: str
    source: IPAddress
    out_interface: str


def _source_excludes(option: Option, source: IPAddress) -> bool:
    try:
        network = ipaddress.ip_network(option.value, strict=False)
    except ValueError:
        return False  # cannot judge: may match
    inside = source.version == network.version and source in network
    return inside if option.negated else not inside


def _states_exclude(option: Option) -> bool:
    """``--ctstate``/``--state`` that a new connection cannot have (e.g. replies only)."""
    states = {s.strip().upper() for s in option.value.split(",")}
    return ("NEW" in states) if option.negated else ("NEW" not in states)


def excludes(rule: Rule, packet: NewConnection) -> bool:
    """True when the rule's selectors rule the packet out for certain (as iptables-save
    prints them: short names)."""
    for option in rule.options("-i"):
        if interface_matches(option.value, packet.in_interface) == option.negated:
            return True
    for option in rule.options("-o"):
        if interface_matches(option.value, packet.out_interface) == option.negated:
            return True
    for option in rule.options("-s"):
        if _source_excludes(option, packet.source):
            return True
    return any(_states_exclude(o) for o in rule.options("--ctstate") + rule.options("--state"))


def first_accept(
    table: Table, chain: str, packet: NewConnection, _seen: frozenset[str] = frozenset()
) -> Rule | None:
    """The first ACCEPT, on the chain or in a user chain it jumps to, that may take the packet.

    None means every path through the chain ends in its policy (or a RETURN to it).
    """
    current = table.chain(chain)
    if current is None or chain in _seen:
        return None
    for rule in current.rules:
        if not rule.understood or rule.target is None or excludes(rule, packet):
            continue
        if rule.target.name == "ACCEPT":
            return rule
        for name in _called(rule, packet):
            called = table.chain(name)
            if called is not None and not called.builtin:
                found = first_accept(table, called.name, packet, _seen | {chain})
                if found is not None:
                    return found
    return None


def _called(rule: Rule, packet: NewConnection) -> list[str]:
    """The chains a rule sends the packet to: its jump, or the verdict map's element for
    the packet's interface (nft: ``oifname vmap @filter-forward-in-jumps``)."""
    target = rule.target
    if target is None:
        return []
    if not rule.jumps:
        return [target.name]
    key = target.option("key")
    name = packet.out_interface if key is not None and "oif" in key.value else packet.in_interface
    return [chain for element, chain in rule.jumps if interface_matches(element, name)]


def sources_named(table: Table) -> tuple[str, ...]:
    """Every ``-s`` value of the table's rules, once each."""
    return tuple(
        dict.fromkeys(o.value for c in table.chains for r in c.rules for o in r.options("-s"))
    )


def source_class(sources: tuple[str, ...], source: IPAddress) -> tuple[bool | None, ...]:
    """Which of ``sources`` (``sources_named``) hold ``source`` (None: cannot judge).

    Two sources of one class are excluded by the same rules, so ``first_accept`` gives
    them the same answer: the doctor walks once per bridge, not once per container.
    """
    out: list[bool | None] = []
    for value in sources:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            out.append(None)
            continue
        out.append(source.version == network.version and source in network)
    return tuple(out)
