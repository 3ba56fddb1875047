"""The host's firewall rules that concern a container, bridge, interface or network.

Read-only: ``read_rulesets`` dumps ``iptables-save -c`` (``ip6tables-save -c`` with
``ipv6=True``), the legacy tables when the kernel has any, and native nft tables
(``nft -j list ruleset``); the text is parsed into frozen dataclasses.  ``capture`` returns
the raw texts and ``parse_saved`` reads one back (snapshots, ``--ruleset FILE``).  ``rules_for`` is pure: it says which rules
concern an item and why, ``counter_delta`` which of them counted packets between two
reads.  No heavy imports: the TUI and the doctor call this directly.
"""

from __future__ import annotations

from inspector.rules.counters import counter_delta
from inspector.rules.design import engine_design
from inspector.rules.explain import explain
from inspector.rules.match import (
    ItemSpec,
    NetworkRef,
    blocking_rules_for_address,
    masquerade_rules_for_subnet,
    resolve_item,
    rules_for,
)
from inspector.rules.model import (
    Chain,
    ChainReport,
    CounterChange,
    Counters,
    Match,
    Option,
    Rule,
    RuleMatch,
    Rulesets,
    RulesReport,
    RulesUnavailable,
    Table,
    TableReport,
    Target,
    UnknownItem,
)
from inspector.rules.nftjson import parse_nft_json
from inspector.rules.offline import spec_from_ruleset
from inspector.rules.parse import ParseError, parse_iptables_save, parse_nft_ruleset
from inspector.rules.path import path_order
from inspector.rules.read import (
    RunResult,
    capture,
    detect_source,
    parse_captured,
    parse_saved,
    read_rulesets,
    run_command,
)
from inspector.rules.text import format_report, report_to_dict

__all__ = [
    "Chain",
    "ChainReport",
    "CounterChange",
    "Counters",
    "ItemSpec",
    "Match",
    "NetworkRef",
    "Option",
    "ParseError",
    "Rule",
    "RuleMatch",
    "RulesReport",
    "RulesUnavailable",
    "Rulesets",
    "RunResult",
    "Table",
    "TableReport",
    "Target",
    "UnknownItem",
    "blocking_rules_for_address",
    "capture",
    "counter_delta",
    "detect_source",
    "engine_design",
    "explain",
    "format_report",
    "masquerade_rules_for_subnet",
    "parse_captured",
    "parse_iptables_save",
    "parse_nft_json",
    "parse_nft_ruleset",
    "parse_saved",
    "path_order",
    "read_rulesets",
    "report_to_dict",
    "resolve_item",
    "rules_for",
    "run_command",
    "spec_from_ruleset",
]
