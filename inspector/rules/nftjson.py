"""Pure parser: ``nft -j list ruleset`` (libnftables' JSON) into ``Table``s.

The JSON is the one form of a native nft ruleset whose structure is stable: every rule is
a list of statements (``match``, ``counter``, verdicts, ``vmap``, ``dnat``...).  Each rule
keeps a text rendering in nft's own syntax for people, its counters, its verdict (``jump``,
``goto``, a verdict map's elements resolved from the named map) and its conditions under
iptables' option names (``-i``, ``-o``, ``-s``, ``-d``, ``-p``, ``--dport``, ``--ctstate``),
so the matcher and the walk read Docker 29's ``docker-bridges``, netavark's ``netavark``,
firewalld's and kube-proxy's tables the same way as ``iptables-save`` text.

What is not understood is kept, rendered as nft would print it, and treated as a condition
that "may match": nothing is dropped silently.
"""

from __future__ import annotations

import json
from typing import Any

from inspector.model import bounded_json
from inspector.rules.model import Chain, Counters, Match, Option, Rule, Table, Target
from inspector.rules.parse import ParseError

_VERDICTS = {
    "accept": "ACCEPT",
    "drop": "DROP",
    "reject": "REJECT",
    "return": "RETURN",
    "queue": "QUEUE",
    "continue": "CONTINUE",
}
_IFNAME_KEYS = {"iifname": "-i", "oifname": "-o", "iif": "-i", "oif": "-o"}
_NAT = {"dnat": "DNAT", "snat": "SNAT", "masquerade": "MASQUERADE", "redirect": "REDIRECT"}


def _value(expr: Any) -> str:
    """A right-hand side as nft prints it (sets, prefixes, ranges, concatenations)."""
    if isinstance(expr, bool):
        return str(expr).lower()
    if isinstance(expr, (int, float)):
        return str(expr)
    if isinstance(expr, str):
        return expr
    if isinstance(expr, list):
        return ",".join(_value(e) for e in expr)
    if isinstance(expr, dict):
        if "prefix" in expr:
            return f"{_value(expr['prefix']['addr'])}/{expr['prefix']['len']}"
        if "range" in expr:
            low, high = expr["range"]
            return f"{_value(low)}-{_value(high)}"
        if "set" in expr:
            items = expr["set"] if isinstance(expr["set"], list) else [expr["set"]]
            return "{ " + ", ".join(_element(e) for e in items) + " }"
        if "concat" in expr:
            return " . ".join(_value(e) for e in expr["concat"])
        if "elem" in expr and isinstance(expr["elem"], dict):
            return _value(expr["elem"].get("val"))
        return _expr(expr)
    return json.dumps(expr)


def _element(item: Any) -> str:
    if isinstance(item, list) and len(item) == 2:  # a map element: key : value
        return f"{_value(item[0])} : {_verdict_text(item[1])}"
    if isinstance(item, dict) and "elem" in item:
        return _value(item["elem"].get("val"))
    return _value(item)


def _expr(expr: Any) -> str:
    """A left-hand side (what is matched) as nft prints it."""
    if not isinstance(expr, dict):
        return _value(expr)
    if "meta" in expr:
        key = str(expr["meta"].get("key", "?"))
        return key if key in _IFNAME_KEYS else f"meta {key}"
    if "payload" in expr:
        p = expr["payload"]
        if "protocol" in p:
            return f"{p['protocol']} {p.get('field', '?')}"
        return f"@{p.get('base', '?')},{p.get('offset', '?')},{p.get('len', '?')}"
    if "ct" in expr:
        c = expr["ct"]
        return " ".join(x for x in ("ct", c.get("dir", ""), c.get("family", ""), c["key"]) if x)
    if "fib" in expr:
        f = expr["fib"]
        return f"fib {' . '.join(f.get('flags', []))} {f.get('result', '?')}"
    for op in ("&", "|", "^", "<<", ">>"):
        if op in expr:
            a, b = expr[op]
            return f"{_expr(a)} {op} {_value(b)}"
    if "socket" in expr:
        return f"socket {expr['socket'].get('key', '?')}"
    if "concat" in expr:
        return " . ".join(_expr(e) for e in expr["concat"])
    if "numgen" in expr:
        n = expr["numgen"]
        return f"numgen {n.get('mode', '?')} mod {n.get('mod', '?')}"
    if "jhash" in expr or "symhash" in expr:
        return "jhash" if "jhash" in expr else "symhash"
    return json.dumps(expr, separators=(",", ":"))


def _verdict_text(v: Any) -> str:
    if isinstance(v, dict):
        for word in ("jump", "goto"):
            if word in v:
                return f"{word} {v[word]['target']}"
        for word in _VERDICTS:
            if word in v:
                return word
    return _value(v)


def _nat_text(kind: str, spec: Any) -> str:
    if not isinstance(spec, dict):
        return kind
    family = f" {spec['family']}" if spec.get("family") else ""
    to = ""
    if "addr" in spec:
        to = _value(spec["addr"])
        if ":" in to and "port" in spec:
            to = f"[{to}]"
    if "port" in spec:
        to += f":{_value(spec['port'])}"
    return f"{kind}{family} to {to}" if to else kind


def _statement_text(stmt: dict[str, Any]) -> str:
    (kind, body), *_ = stmt.items()
    if kind == "match":
        op = body.get("op", "==")
        left = body["left"]
        right = body["right"]
        lhs = _expr(left)
        rhs = _value(right)
        ifname = isinstance(left, dict) and left.get("meta", {}).get("key") in _IFNAME_KEYS
        if isinstance(right, str) and ifname:
            rhs = f'"{right}"'
        elif ifname and isinstance(right, dict) and "set" in right:
            rhs = "{ " + ", ".join(f'"{v}"' for v in _strings(right)) + " }"
        binop = isinstance(left, dict) and any(k in left for k in ("&", "|", "^"))
        if op == "in" or (op == "==" and not binop):
            return f"{lhs} {rhs}"
        return f"{lhs} {op} {rhs}"
    if kind == "counter":
        return "counter" if isinstance(body, dict) or body is None else f"counter name {body}"
    if kind == "reject" and isinstance(body, dict) and body.get("type"):
        return f"reject with {body['type']} {_value(body.get('expr', ''))}".rstrip()
    if kind in _VERDICTS:
        return kind
    if kind in ("jump", "goto"):
        return f"{kind} {body['target']}"
    if kind == "vmap":
        return f"{_expr(body['key'])} vmap {_value(body['data'])}"
    if kind in _NAT:
        return _nat_text(kind, body)
    if kind == "mangle":
        return f"{_expr(body['key'])} set {_value(body['value'])}"
    if kind == "log":
        prefix = body.get("prefix") if isinstance(body, dict) else None
        return f'log prefix "{prefix}"' if prefix else "log"
    if kind == "xt":
        return f"xt {body.get('type', '?')} {body.get('name', '?')}"
    if kind == "limit" and isinstance(body, dict):
        return f"limit rate {body.get('rate', '?')}/{body.get('per', '?')}"
    return json.dumps(stmt, separators=(",", ":"))


def _strings(right: Any) -> tuple[str, ...]:
    if isinstance(right, dict) and "set" in right:
        items = right["set"] if isinstance(right["set"], list) else [right["set"]]
        return tuple(_value(i) for i in items)
    return (_value(right),)


def _conditions(stmt: dict[str, Any]) -> tuple[str, Option] | None:
    """A ``match`` as an iptables-named option ``(module, option)``; None: not understood."""
    body = stmt["match"]
    op = body.get("op", "==")
    if op not in ("==", "!=", "in"):
        return None
    negated = op == "!="
    left, right = body["left"], body["right"]
    if not isinstance(left, dict):
        return None
    if "meta" in left:
        key = left["meta"].get("key")
        if key in _IFNAME_KEYS:
            return "", Option(_IFNAME_KEYS[key], _strings(right), negated)
        if key == "l4proto":
            return "", Option("-p", _strings(right), negated)
        return None
    if "payload" in left and "protocol" in left["payload"]:
        proto, field = left["payload"]["protocol"], left["payload"].get("field")
        if proto in ("ip", "ip6") and field in ("saddr", "daddr"):
            name = "-s" if field == "saddr" else "-d"
            return "", Option(name, _strings(right), negated)
        if field in ("dport", "sport"):
            return proto, Option(f"--{field}", _strings(right), negated)
        return None
    if "ct" in left and left["ct"].get("key") == "state" and "dir" not in left["ct"]:
        states = right if isinstance(right, list) else [right]
        if isinstance(right, dict) and "set" in right:
            states = right["set"]
        value = ",".join(str(s).upper() for s in states)
        return "conntrack", Option("--ctstate", (value,), negated)
    fib = left.get("fib")
    daddr_type = fib and fib.get("result") == "type" and fib.get("flags") == ["daddr"]
    if daddr_type and isinstance(right, str):
        return "addrtype", Option("--dst-type", (right.upper(),), negated)
    return None


class _MapIndex:
    """The table's named verdict maps, to resolve ``vmap @name``."""

    def __init__(self) -> None:
        self.maps: dict[tuple[str, str, str], list[Any]] = {}

    def add(self, m: dict[str, Any]) -> None:
        self.maps[(m["family"], m["table"], m["name"])] = list(m.get("elem") or [])

    def elements(self, family: str, table: str, data: Any) -> list[Any]:
        if isinstance(data, str) and data.startswith("@"):
            return self.maps.get((family, table, data[1:]), [])
        if isinstance(data, dict) and "set" in data:
            items = data["set"]
            return list(items) if isinstance(items, list) else [items]
        return []


def _vmap_jumps(elements: list[Any]) -> tuple[tuple[str, str], ...]:
    jumps: list[tuple[str, str]] = []
    for item in elements:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict)):
            continue
        key, verdict = item
        for word in ("jump", "goto"):
            if word in verdict:
                jumps.append((_value(key), str(verdict[word]["target"])))
    return tuple(jumps)


def _rule(r: dict[str, Any], position: int, maps: _MapIndex) -> Rule:
    texts: list[str] = []
    modules: dict[str, list[Option]] = {"": []}
    counters: Counters | None = None
    target: Target | None = None
    jumps: tuple[tuple[str, str], ...] = ()
    for stmt in r.get("expr") or []:
        if not isinstance(stmt, dict) or not stmt:
            continue
        texts.append(_statement_text(stmt))
        kind, body = next(iter(stmt.items()))
        if kind == "match":
            cond = _conditions(stmt)
            if cond is None:
                modules.setdefault("nft", []).append(Option("nft", (texts[-1],)))
            else:
                modules.setdefault(cond[0], []).append(cond[1])
        elif kind == "counter" and isinstance(body, dict):
            counters = Counters(int(body.get("packets", 0)), int(body.get("bytes", 0)))
        elif target is not None:
            continue  # a statement after the verdict (none in practice): kept as text only
        elif kind == "mangle":
            target = Target("SET", (Option("set", (texts[-1],)),))
        elif kind in _VERDICTS:
            target = Target(_VERDICTS[kind])
        elif kind in ("jump", "goto"):
            target = Target(str(body["target"]), goto=kind == "goto")
        elif kind == "vmap":
            elements = maps.elements(r["family"], r["table"], body.get("data"))
            jumps = _vmap_jumps(elements)
            key = _expr(body.get("key"))
            target = Target("VMAP", (Option("key", (key,)), Option("map", (_value(body["data"]),))))
        elif kind in _NAT:
            options: tuple[Option, ...] = ()
            if isinstance(body, dict) and "addr" in body:
                to = _nat_text(kind, body).rsplit(" to ", 1)[1]
                name = "--to-destination" if kind == "dnat" else "--to-source"
                options = (Option(name, (to,)),)
            elif isinstance(body, dict) and "port" in body:
                options = (Option("--to-ports", (_value(body["port"]),)),)
            target = Target(_NAT[kind], options)
    comment = r.get("comment")
    if comment:
        texts.append(f'comment "{comment}"')
        modules.setdefault("comment", []).append(Option("--comment", (str(comment),)))
    protocols = [m for m in modules if m in ("tcp", "udp", "sctp", "udplite")]
    if protocols and not any(o.name == "-p" for o in modules[""]):
        modules[""].append(Option("-p", (protocols[0],)))  # "tcp dport 80" implies TCP
    matches = tuple(Match(mod, tuple(opts)) for mod, opts in modules.items() if opts)
    return Rule(
        chain=str(r["chain"]),
        position=position,
        text=" ".join(texts),
        counters=counters,
        matches=matches,
        target=target,
        syntax="nft",
        structured=True,
        jumps=jumps,
        comment=str(comment) if comment else None,
    )


def _hook(c: dict[str, Any]) -> str | None:
    if "hook" not in c:
        return None
    return f"type {c.get('type', 'filter')} hook {c['hook']} priority {c.get('prio', 0)}"


def parse_nft_json(text: str) -> tuple[Table, ...]:
    """Parse ``nft -j list ruleset``: tables, chains (hook, policy), rules (see module doc).

    Raises ``ParseError`` when the text is not nft's JSON.
    """
    try:
        doc = bounded_json.loads(text)
        items = doc["nftables"]
    except bounded_json.JSONLimitError as exc:
        raise ParseError(f"nft JSON not read: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise ParseError(f"not the JSON of `nft -j list ruleset` ({exc})") from None
    if not isinstance(items, list):
        raise ParseError("not the JSON of `nft -j list ruleset` (no list of objects)")
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    chains: dict[tuple[str, str, str], dict[str, Any]] = {}
    rules: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    maps = _MapIndex()
    for obj in items:
        if not isinstance(obj, dict) or not obj:
            continue
        kind, body = next(iter(obj.items()))
        if not isinstance(body, dict):
            continue
        try:
            if kind == "table":
                tables[(body["family"], body["name"])] = body
            elif kind == "chain":
                chains[(body["family"], body["table"], body["name"])] = body
            elif kind == "map" and body.get("map") == "verdict":
                maps.add(body)
            elif kind == "rule":
                key = (body["family"], body["table"], body["chain"])
                rules.setdefault(key, []).append(body)
        except KeyError as exc:
            raise ParseError(f"nft JSON {kind} without {exc}") from None
    out: list[Table] = []
    for family, name in tables:
        table_chains: list[Chain] = []
        for (cf, ct, cn), c in chains.items():
            if (cf, ct) != (family, name):
                continue
            parsed = tuple(_rule(r, i, maps) for i, r in enumerate(rules.get((cf, ct, cn), []), 1))
            policy = str(c.get("policy", "accept")).upper() if "hook" in c else None
            table_chains.append(Chain(cn, policy, None, parsed, _hook(c)))
        out.append(Table(family=family, name=name, source="nft", chains=tuple(table_chains)))
    return tuple(out)
