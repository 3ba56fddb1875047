"""A rule in words: "drops traffic to 172.17.0.2 that does not come from docker0".

Pure.  Reads the parsed conditions (iptables text, or nft read as JSON, whose conditions
carry the same names), so one sentence builder serves every backend.  What it cannot say
in words it quotes, so a sentence never claims less than the rule does.
"""

from __future__ import annotations

from inspector.rules.model import Option, Rule

_IGNORED_MODULES = frozenset({"comment", "tcp", "udp", "sctp", "conntrack", "state", "addrtype"})


def _addr(value: str) -> str:
    return value.removesuffix("/32").removesuffix("/128")


def _any(o: Option) -> str:
    """An option's values (an nft set has several): "a or b"."""
    return " or ".join(_addr(v) for v in o.values) if len(o.values) > 1 else _addr(o.value)


def _ports(values: tuple[str, ...]) -> str:
    text = ",".join(values).replace(":", "-")
    return f"port {text}" if "," not in text and "{" not in text else f"ports {text}"


def _states(option: Option) -> str:
    states = {s.strip().upper() for s in option.value.replace(" ", ",").split(",") if s.strip()}
    if states <= {"RELATED", "ESTABLISHED"}:
        words = "of connections already established (replies and related traffic)"
    elif states == {"INVALID"}:
        words = "that conntrack cannot place (invalid packets)"
    elif states == {"NEW"}:
        words = "opening new connections"
    else:
        words = f"in conntrack state {', '.join(sorted(states)).lower()}"
    if option.negated:
        return f"not {words}" if not words.startswith("that ") else f"except those {words[5:]}"
    return words


def traffic(rule: Rule) -> str:
    """The packets a rule selects, as a noun phrase ("TCP traffic to port 80 from ...")."""
    proto = rule.selector("-p")
    noun = "traffic"
    if proto is not None and not proto.negated and proto.value not in ("all", "0"):
        noun = f"{proto.value.upper()} traffic"
    elif proto is not None and proto.negated:
        noun = f"non-{proto.value.upper()} traffic"
    parts = [noun]
    ports = {
        "from": [o for o in rule.options("--sport")],
        "to": [o for o in (*rule.options("--dport"), *rule.options("--dports"))],
    }
    for name, word in (("-s", "from"), ("-d", "to")):
        o = rule.selector(name)
        port = ports[word]
        if o is not None:
            text = f"{'not ' if o.negated else ''}{word} {_any(o)}"
            if port:
                neg = "not " if port[0].negated else ""
                text += f" {neg}{_ports(port[0].values)}"
                port = port[1:]
            parts.append(text)
        for p in port:
            parts.append(f"{'not ' if p.negated else ''}{word} {_ports(p.values)}")
    o = rule.selector("-i")
    if o is not None:
        parts.append(
            f"that does not come from {_any(o)}" if o.negated else f"coming in by {_any(o)}"
        )
    o = rule.selector("-o")
    if o is not None:
        parts.append(f"that does not leave by {_any(o)}" if o.negated else f"leaving by {_any(o)}")
    for o in (*rule.options("--ctstate"), *rule.options("--state")):
        parts.append(_states(o))
    for o in rule.options("--dst-type"):
        parts.append(f"{'not ' if o.negated else ''}to an address of this host ({o.value.lower()})")
    for m in rule.matches:
        if m.module in _IGNORED_MODULES or m.module == "":
            continue
        if m.module == "nft":
            parts.extend(f"when {o.value}" for o in m.options)
        elif m.module == "mark":
            parts.extend(f"marked {o.value}" for o in m.options)
        elif m.module == "physdev":
            parts.extend(f"with {o}" for o in m.options)
        else:
            parts.append(f"when -m {m.module} {' '.join(str(o) for o in m.options)}".rstrip())
    return " ".join(parts)


def explain(rule: Rule) -> str:
    """The rule as one sentence (its counters and comment left out)."""
    if rule.position == 0:
        return ""
    target = rule.target
    if target is None:
        if rule.understood:
            return f"counts {traffic(rule)} (no verdict)"
        return "no verdict cnet can read"
    if not rule.understood and target.name not in ("VMAP",):
        return f"{_verb(target.name, rule)} matching traffic (conditions as printed)"
    what = traffic(rule)
    name = target.name
    if name == "VMAP":
        key = target.option("key")
        jumps = ", ".join(f"{k} -> {c}" for k, c in rule.jumps) or "no element yet"
        if key is not None and key.value in ("iifname", "oifname", "iif", "oif"):
            direction = "outgoing" if "oif" in key.value else "incoming"
            return f"sends {what} to the chain of its {direction} interface ({jumps})"
        selector = key.value if key is not None else "key"
        return f"sends {what} to the chain its {selector} selects ({jumps})"
    if name == "SET":
        change = target.option("set")
        lhs, _, rhs = (change.value if change else "?").partition(" set ")
        return f"sets {lhs} to {rhs} on {what}"
    if name == "DNAT":
        to = target.option("--to-destination")
        return f"forwards {what} to {to.value if to else 'another address'} (DNAT)"
    if name == "SNAT":
        to = target.option("--to-source")
        return f"rewrites the source of {what} to {to.value if to else 'another address'}"
    if name == "MASQUERADE":
        return f"masquerades {what}: its source becomes the outgoing interface's address"
    if name == "REDIRECT":
        return f"redirects {what} to a port of this host"
    return f"{_verb(name, rule)} {what}"


def _verb(name: str, rule: Rule) -> str:
    verbs = {
        "ACCEPT": "accepts",
        "DROP": "drops",
        "REJECT": "rejects",
        "RETURN": "returns to the calling chain for",
        "QUEUE": "queues to user space",
        "CONTINUE": "continues past",
        "MARK": "marks",
        "CONNMARK": "marks the connection of",
        "LOG": "logs",
        "MASQUERADE": "masquerades",
        "DNAT": "forwards",
        "SNAT": "rewrites the source of",
    }
    if name in verbs:
        return verbs[name]
    goto = rule.target is not None and rule.target.goto
    return f"{'goes' if goto else 'jumps'} to chain {name} for"
