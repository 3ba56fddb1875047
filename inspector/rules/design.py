"""The DROPs an engine writes on purpose, and what each is for.

Docker and netavark drop traffic by design: between two of their networks (isolation),
between containers of a network created with ``enable_icc=false``, to a container's
address from outside its bridge (Docker 28+ "direct access"), to unpublished ports
(Docker 29 nftables), and invalid packets.  Calling those "blocking" sends people down the
wrong path, and deleting them is never the fix.  Pure: it reads the rule's chain, table,
conditions and (nft) comment, in every layout cnet knows (Docker 20.10 to 27, Docker 28's
DOCKER-FORWARD, Docker 29's ``docker-bridges``, netavark's iptables and nft drivers).
"""

from __future__ import annotations

from inspector.rules.model import BLOCKING_TARGETS, Option, Rule, Table

ISOLATION = "isolates it from other networks"


def _positive(o: Option | None) -> str | None:
    return o.value if o is not None and not o.negated else None


def _negative(o: Option | None) -> str | None:
    return o.value if o is not None and o.negated else None


def _addr(o: Option | None) -> str:
    return o.value.removesuffix("/32").removesuffix("/128") if o is not None else "?"


def engine_design(table: Table, chain: str, rule: Rule) -> str:
    """What an engine-made DROP is for, in words; "" when the rule is not one of those."""
    if rule.verdict not in BLOCKING_TARGETS or not rule.understood:
        return ""
    comment = (rule.comment or "").upper()
    i, o = rule.selector("-i"), rule.selector("-o")
    d = rule.selector("-d")
    states = [x for x in (*rule.options("--ctstate"), *rule.options("--state"))]
    if states and all(x.value.upper() == "INVALID" and not x.negated for x in states):
        return "drops invalid packets (conntrack cannot place them): never a valid connection"
    if chain.startswith(("DOCKER-ISOLATION", "NETAVARK-ISOLATION", "NETAVARK_ISOLATION")):
        bridge = _positive(o)
        into = f" into {bridge}" if bridge else ""
        return (
            f"{ISOLATION}: the engine drops traffic{into} that comes from another of its networks"
        )
    if comment == "ICC" or (
        _positive(i) is not None
        and _positive(i) == _positive(o)
        and chain in ("FORWARD", "DOCKER-FORWARD")
    ):
        bridge = _positive(i) or "?"
        return (
            f"inter-container communication is off on {bridge} (enable_icc=false): "
            "containers of that network do not reach each other, by design"
        )
    if comment == "DROP DIRECT ACCESS" or (
        (table.name == "raw" or chain.startswith("raw-"))
        and d is not None
        and not d.negated
        and _negative(i) is not None
    ):
        return (
            f"blocks direct access: traffic to {_addr(d)} that does not come from "
            f"{_negative(i)} is dropped (published ports reach it through DNAT)"
        )
    if comment == "UNPUBLISHED PORT DROP" or chain.startswith("filter-forward-in__"):
        bridge = chain.removeprefix("filter-forward-in__") if "__" in chain else "its bridge"
        return (
            f"{ISOLATION}: traffic into {bridge} from elsewhere stops here unless it goes "
            "to a published port (accepted above)"
        )
    if chain == "DOCKER" and _negative(i) is not None and _negative(i) == _positive(o):
        return (
            f"{ISOLATION}: traffic into {_positive(o)} from elsewhere stops here unless a "
            "published port was accepted above"
        )
    if chain == "DOCKER-INTERNAL" or comment.startswith("INTERNAL"):
        return "internal network: the engine keeps its traffic from leaving, by design"
    return ""
