"""The firewall model: frozen dataclasses for parsed rulesets and for what concerns an item.

Nothing here does I/O.  ``parse`` builds ``Table``/``Chain``/``Rule`` from the text of
``iptables-save -c`` and ``nft list ruleset``; ``match`` builds a ``RulesReport``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Targets that end a packet's journey for good.
BLOCKING_TARGETS = frozenset({"DROP", "REJECT"})


def interface_matches(pattern: str, name: str) -> bool:
    """iptables' ``-i``/``-o`` match: the exact name, or a prefix when ending with ``+``."""
    return name.startswith(pattern[:-1]) if pattern.endswith("+") else name == pattern


class RulesUnavailable(Exception):
    """No firewall tool could be run (none installed, or every one failed): one line."""


class UnknownItem(Exception):
    """The item names no container, bridge, host interface or network: one line."""


@dataclass(frozen=True, slots=True)
class Counters:
    packets: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a match or target, e.g. ``! -o docker0`` or ``--dport 80``."""

    name: str
    values: tuple[str, ...] = ()
    negated: bool = False

    @property
    def value(self) -> str:
        return " ".join(self.values)

    def __str__(self) -> str:
        text = f"{self.name} {self.value}".strip()
        return f"! {text}" if self.negated else text


@dataclass(frozen=True, slots=True)
class Match:
    """A match module (``-m conntrack ...``); module ``""`` holds the basic selectors."""

    module: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """``-j NAME`` (or ``-g NAME`` when ``goto``) and its options; nft verdicts map here too."""

    name: str
    options: tuple[Option, ...] = ()
    goto: bool = False

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule.  ``text`` is the rule as the tool printed it, counters removed.

    ``syntax`` is ``"iptables"`` (``text`` is ``-A CHAIN ...``, ``matches`` parsed) or
    ``"nft"`` (``text`` is the nft statement line).  An nft rule read from ``nft -j`` is
    ``structured``: its conditions are in ``matches`` under iptables' names (``-i``, ``-s``,
    ``--dport``...), so one matcher and one walk serve both.  ``jumps``: a verdict map's
    elements, ``(key, chain)`` pairs (``("docker0", "filter-forward-in__docker0")``).
    """

    chain: str
    position: int  # 1-based, within the chain
    text: str
    counters: Counters | None = None
    matches: tuple[Match, ...] = ()
    target: Target | None = None
    syntax: str = "iptables"
    structured: bool = False
    jumps: tuple[tuple[str, str], ...] = ()
    comment: str | None = None

    @property
    def understood(self) -> bool:
        """Its conditions are parsed (iptables, or nft read as JSON)."""
        return self.syntax == "iptables" or self.structured

    def options(self, name: str) -> tuple[Option, ...]:
        """Every option called ``name``, in any match module."""
        return tuple(o for m in self.matches for o in m.options if o.name == name)

    def selector(self, *names: str) -> Option | None:
        """A basic selector (``-s``/``-d``/``-i``/``-o``/``-p``) by any of its names."""
        for m in self.matches:
            if m.module == "":
                for o in m.options:
                    if o.name in names:
                        return o
        return None

    @property
    def spec(self) -> str:
        """The rule without ``-A CHAIN`` (iptables) or as printed (nft)."""
        prefix = f"-A {self.chain} "
        return self.text[len(prefix) :] if self.text.startswith(prefix) else self.text

    @property
    def verdict(self) -> str | None:
        return self.target.name if self.target else None


@dataclass(frozen=True)
class Chain:
    name: str
    policy: str | None  # None for user-defined chains (``-`` in iptables-save)
    counters: Counters | None = None
    rules: tuple[Rule, ...] = ()
    hook: str | None = None  # nft base chains: "type filter hook forward priority filter"

    @property
    def builtin(self) -> bool:
        return self.policy is not None


@dataclass(frozen=True)
class Table:
    """One table.  ``family``: ip, ip6, inet, arp, bridge, netdev.

    ``source``: ``iptables-nft``, ``iptables-legacy`` or ``nft`` (a native nft table).
    """

    family: str
    name: str
    source: str
    chains: tuple[Chain, ...] = ()

    @property
    def label(self) -> str:
        """Unique among a host's tables, e.g. ``ip filter``, ``ip filter (legacy)``, ``inet fw (nft)``."""
        suffix = {"iptables-legacy": " (legacy)", "nft": " (nft)"}.get(self.source, "")
        return f"{self.family} {self.name}{suffix}"

    def chain(self, name: str) -> Chain | None:
        return next((c for c in self.chains if c.name == name), None)


@dataclass(frozen=True)
class Rulesets:
    """Every table read from the host at one moment, and what could not be read."""

    tables: tuple[Table, ...] = ()
    sources: tuple[str, ...] = ()  # the commands that answered, e.g. "iptables-save -c"
    warnings: tuple[str, ...] = ()

    def table(self, label: str) -> Table | None:
        return next((t for t in self.tables if t.label == label), None)


@dataclass(frozen=True)
class RuleMatch:
    """A rule that concerns the item, and why in a few words.

    ``direct``: the rule names the item (an address, interface, DNAT...); False for the rules
    shown as context (in a Docker chain that a shown rule jumps to, or the jump into it).
    ``blocking``: a DROP or REJECT that would hit the item's packets and that is not the
    engine's own design.  ``design``: for a DROP the engine writes on purpose (network
    isolation, ICC off, direct access blocked), what it is for; such a rule is never
    ``blocking``.  ``explanation``: the rule in words.
    """

    table: str  # Table.label
    chain: str
    rule: Rule
    reason: str
    blocking: bool = False
    direct: bool = True
    design: str = ""
    explanation: str = ""


@dataclass(frozen=True)
class ChainReport:
    name: str
    policy: str | None
    counters: Counters | None
    matches: tuple[RuleMatch, ...] = ()
    hook: str | None = None
    rule_count: int = 0  # rules in the chain, shown or not


@dataclass(frozen=True)
class TableReport:
    table: str  # Table.label
    family: str
    source: str
    chains: tuple[ChainReport, ...] = ()


@dataclass(frozen=True)
class RulesReport:
    """The rules that concern one item, grouped by table and chain in ruleset order."""

    item: str
    kind: str  # container, bridge, interface, network
    description: str
    tables: tuple[TableReport, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def matches(self) -> tuple[RuleMatch, ...]:
        return tuple(m for t in self.tables for c in t.chains for m in c.matches)

    @property
    def blocking(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.blocking)

    @property
    def by_design(self) -> tuple[RuleMatch, ...]:
        """The engine's own DROPs (isolation, ICC off, direct access): not faults."""
        return tuple(m for m in self.matches if m.design)


@dataclass(frozen=True)
class CounterChange:
    """A shown rule (or, when ``rule`` is None, a chain's policy) whose counters moved."""

    table: str
    chain: str
    rule: Rule | None
    packets: int
    bytes: int
    match: RuleMatch | None = field(default=None, compare=False)
