"""An item named against a saved ruleset alone (``cnet rules ITEM --ruleset FILE``).

A ruleset from another host (an operator's sosreport) comes without that host's
containers, so ITEM is what rules themselves can name: an address, a subnet, or an
interface such as a bridge.  A bridge's subnets are read from the engine's own MASQUERADE
rules for it (``-s SUBNET ! -o BRIDGE``), so its containers' rules are found too.  Pure.
"""

from __future__ import annotations

import ipaddress

from inspector.rules.match import ItemSpec
from inspector.rules.model import Rulesets, UnknownItem, interface_matches

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _subnets_masqueraded_for(rulesets: Rulesets, name: str) -> list[IPNetwork]:
    found: list[IPNetwork] = []
    for table in rulesets.tables:
        for chain in table.chains:
            for rule in chain.rules:
                if rule.verdict != "MASQUERADE" or not rule.understood:
                    continue
                out, src = rule.selector("-o"), rule.selector("-s")
                if out is None or not out.negated or out.value != name or src is None:
                    continue
                try:
                    net = ipaddress.ip_network(src.value, strict=False)
                except ValueError:
                    continue
                if net not in found:
                    found.append(net)
    return found


def _named_anywhere(rulesets: Rulesets, name: str) -> bool:
    for table in rulesets.tables:
        for chain in table.chains:
            for rule in chain.rules:
                if any(k == name for k, _ in rule.jumps):
                    return True
                if not rule.understood:
                    if f'"{name}"' in rule.text:
                        return True
                    continue
                for opt in ("-i", "-o"):
                    o = rule.selector(opt)
                    values = (o.values or (o.value,)) if o is not None else ()
                    if any(interface_matches(v, name) for v in values):
                        return True
    return False


def spec_from_ruleset(rulesets: Rulesets, item: str) -> ItemSpec:
    """ITEM (an address, a subnet or an interface name) as an ``ItemSpec``.

    Raises ``UnknownItem`` for a name no rule mentions.
    """
    try:
        addr = ipaddress.ip_address(item)
    except ValueError:
        pass
    else:
        return ItemSpec(item=item, kind="address", description=f"address {addr}", addresses=(addr,))
    if "/" in item:
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise UnknownItem(f"{item!r} is not an address, a subnet or an interface") from None
        return ItemSpec(item=item, kind="subnet", description=f"subnet {net}", subnets=(net,))
    subnets = _subnets_masqueraded_for(rulesets, item)
    if not subnets and not _named_anywhere(rulesets, item):
        raise UnknownItem(
            f"no rule of the saved ruleset names {item!r}; name its subnet or an address "
            "instead (netavark's iptables rules name subnets, not bridges)"
        )
    shown = ", ".join(str(s) for s in subnets) or "subnet unknown"
    notes = () if subnets else (f"no MASQUERADE rule names {item}: its subnet is not known",)
    return ItemSpec(
        item=item,
        kind="interface",
        description=f"interface {item} ({shown}; from the saved ruleset)",
        subnets=tuple(subnets),
        interfaces=((item, "the interface"),),
        notes=notes,
    )
