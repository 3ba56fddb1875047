"""The kernel's drop reasons in words: beside the rules that dropped, or with their cause.

Pure: the counts come from ``collect.tracefs`` and the rules from two reads of the
rulesets; nothing here reads the host.  A reason with a well-known cause names the doctor
check it belongs to and the fix, so a failing gateway ping says why, not just that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from inspector.rules.counters import RuleKey, keyed_rules
from inspector.rules.model import Rule, Rulesets

if TYPE_CHECKING:  # the TUI starts without the collectors (tests/test_tui.py)
    from inspector.collect.linkdrops import CounterRise
    from inspector.collect.tracefs import DropCount, DropReport


@dataclass(frozen=True)
class Cause:
    """What a drop reason means here, the check it belongs to, and what to do about it."""

    check: str
    words: str
    fix: str


@dataclass(frozen=True)
class DropContext:
    """What the words name: the bridge the namespace sits behind, and the effective
    ``rp_filter`` there (the higher of ``all`` and the device's, as the kernel takes it)."""

    bridge: str | None = None
    rp_filter: int | None = None
    in_namespace: str = ""  # the doctor's command prefix that enters the namespace


@dataclass(frozen=True)
class DroppingRule:
    """A rule (or a chain's policy, ``rule`` None) with a drop verdict whose counters rose."""

    table: str
    chain: str
    rule: Rule | None
    packets: int

    @property
    def text(self) -> str:
        what = f"policy {self.rule_target}" if self.rule is None else self.rule.text
        return f"{self.table} {self.chain}: {what}"

    @property
    def rule_target(self) -> str:
        return "DROP" if self.rule is None else (self.rule.target.name if self.rule.target else "")


_DROP_VERDICTS = frozenset({"drop", "reject"})


def cause_of(reason: str, ctx: DropContext) -> Cause | None:
    """The well-known cause of ``reason``, in this namespace's words; None when it has none."""
    on = f" on {ctx.bridge}" if ctx.bridge else ""
    dev = ctx.bridge or "DEV"
    if reason == "IP_RPFILTER":
        value = f" (rp_filter={ctx.rp_filter})" if ctx.rp_filter is not None else ""
        return Cause(
            "route",
            f"reverse-path filter{on}{value}: the route back to the source leaves by another link",
            f"route the source back through {dev}, or sysctl -w net.ipv4.conf.{dev}.rp_filter=2"
            " (loose)",
        )
    if reason in ("IP_INNOROUTES", "IP_OUTNOROUTES"):
        return Cause(
            "route",
            "no route to the destination",
            f"{ctx.in_namespace}ip route add DEST via GATEWAY",
        )
    if reason == "NEIGH_FAILED":
        return Cause(
            "bridge",
            "the neighbour never answered ARP/ND: nothing holds the next hop's address",
            f"put the gateway's address on {dev} (ip addr add GATEWAY/PREFIX dev {dev})",
        )
    if reason == "PKT_TOO_BIG":
        return Cause(
            "mtu",
            "a packet marked DF was bigger than the next link's MTU",
            "give every link of the path the same MTU (ip link set DEV mtu N)",
        )
    if reason == "OTHERHOST":
        return Cause(
            "bridge",
            f"a packet for another host's MAC address arrived{on}",
            "check the neighbour entry for the gateway (ip neigh) and the bridge's MAC",
        )
    if reason == "BRIDGE_INGRESS_STP_STATE":
        return Cause(
            "bridge",
            f"a bridge port{on} is not forwarding (STP state)",
            "ip link set dev PORT type bridge_slave state 3 (forwarding), or check STP",
        )
    if reason == "NETFILTER_DROP":
        return Cause(
            "forward-drop",
            "a firewall rule dropped it",
            f"cnet rules {ctx.bridge}" if ctx.bridge else "cnet ping --rules",
        )
    return None


def dropping_rules(before: Rulesets, after: Rulesets) -> list[DroppingRule]:
    """Every rule with a drop or reject verdict (and every DROP policy) whose packet
    counter rose between the two reads, in ruleset order.  A rule is the same rule in
    both reads when its table, chain and text are equal."""
    old: dict[RuleKey, int] = {}
    for key, packets, _ in _indexed(before):
        old[key] = packets
    found: list[DroppingRule] = []
    for key, packets, rule in _indexed(after):
        rose = packets - old.get(key, packets)
        if rose <= 0:
            continue
        table, chain, _, _ = key
        found.append(DroppingRule(table, chain, rule, rose))
    return found


def _indexed(rulesets: Rulesets) -> list[tuple[RuleKey, int, Rule | None]]:
    """The drop and reject rules and the DROP policies that count, with their packets."""
    out: list[tuple[RuleKey, int, Rule | None]] = []
    for key, c, r in keyed_rules(rulesets):
        if r is None:
            if c.counters is not None and (c.policy or "").lower() == "drop":
                out.append((key, c.counters.packets, None))
        elif (
            r.counters is not None
            and r.target is not None
            and r.target.name.lower() in _DROP_VERDICTS
        ):
            out.append((key, r.counters.packets, r))
    return out


def probe_drops(report: DropReport, thread: int = 0) -> tuple[DropCount, ...]:
    """What a probe reports: the reasons that rose beyond the baseline, and those that
    happened in the probe's own sending ``thread`` even when the host's noise hides them."""
    found: dict[tuple[str, str], DropCount] = {}
    for d in (*report.rose, *report.in_thread(thread)):
        key = (d.reason, d.location)
        if key not in found or d.count > found[key].count:
            found[key] = replace(d, thread=0)
    return tuple(sorted(found.values(), key=lambda d: (-d.count, d.reason, d.location)))


def drop_line(drop: DropCount, ctx: DropContext, rules: Sequence[DroppingRule] = ()) -> str:
    """``NETFILTER_DROP x2 in nft_do_chain — rule ... (+2 packets)``, or with its cause."""
    where = f" in {drop.location}" if drop.location else ""
    head = f"{drop.reason} x{drop.count}{where}"
    if drop.reason == "NETFILTER_DROP" and rules:
        named = "; ".join(f"rule {r.text} (+{r.packets} packets)" for r in rules)
        return f"{head} — {named}"
    cause = cause_of(drop.reason, ctx)
    return f"{head}: {cause.words}" if cause is not None else head


def probe_lines(
    drops: Sequence[DropCount] | None,
    ctx: DropContext,
    *,
    problem: str | None = None,
    rules: Sequence[DroppingRule] | None = None,
    counters: Sequence[CounterRise] = (),
    lost: int = 0,
) -> list[str]:
    """What ``cnet ping`` and the TUI print after a probe.  ``drops`` None: the reasons
    could not be read (``problem`` says why); ``rules`` None: the rules were not read;
    ``counters``: the interfaces' drop counters that rose meanwhile."""
    if drops is None:
        lines = [f"drop reasons: {problem or 'not read'}"]
    elif not drops:
        lines = [
            "during the probe the kernel dropped nothing beyond its baseline (host-wide count)"
        ]
    else:
        lines = ["during the probe the kernel dropped (host-wide count):"]
    for d in drops or ():
        lines.append(f"  {drop_line(d, ctx, rules or ())}")
        if d.reason == "NETFILTER_DROP" and rules is None:
            lines.append("    (cnet ping --rules names the rule whose counter moved)")
    if lost:
        lines.append(f"  (the kernel's trace ring lost {lost} events: the counts are low)")
    if counters:
        rose = ", ".join(f"{c.link} {c.counter} +{c.delta}" for c in counters)
        lines.append(f"interface drop counters that rose during the probe: {rose}")
    return lines


def gateway_words(
    drops: Sequence[DropCount], ctx: DropContext, check_id: str = "gateway"
) -> tuple[str, str, str | None]:
    """For a failing gateway check: the reasons counted, the summary's tail, and the fix.
    The first reason with a known cause decides the words and the fix."""
    counted = ", ".join(
        f"{d.reason} x{d.count}" + (f" in {d.location}" if d.location else "") for d in drops
    )
    tail, fix = f"the kernel dropped {counted}", None
    for d in drops:
        cause = cause_of(d.reason, ctx)
        if cause is not None:
            see = f"; see the {cause.check} check" if cause.check != check_id else ""
            tail = f"the kernel dropped them: {d.reason} ({cause.words}{see})"
            fix = cause.fix
            break
    return counted, tail, fix
