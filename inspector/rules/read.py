"""Read the host's firewall rules, read-only: ``iptables-save -c``, ``ip6tables-save -c``,
the legacy tables when the kernel holds any, and native ``nft`` tables.

Every tool runs with an argument list (never a shell), a timeout, and ``LC_ALL=C``.
Nothing here writes: ``-save`` and ``nft list`` only dump.  The legacy tools run only
when ``/proc/net/ip_tables_names`` already lists tables, so reading never makes the
kernel load a module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.rules.model import Rulesets, RulesUnavailable, Table
from inspector.rules.parse import (
    ParseError,
    nft_owned_tables,
    parse_iptables_save,
    parse_nft_ruleset,
)

DEFAULT_TIMEOUT_S = 10.0
XT_TABLE_NAMES = frozenset({"filter", "nat", "mangle", "raw", "security", "broute"})
XT_BUILTIN_CHAINS = frozenset(
    {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING", "BROUTING"}
)


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], float], RunResult]
Which = Callable[[str], "str | None"]


def run_command(argv: Sequence[str], timeout: float) -> RunResult:
    """Run a tool without a shell; a timeout or a missing binary becomes a failed result."""
    env = {**os.environ, "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return RunResult(124, "", f"timed out after {timeout:g} s")
    except OSError as exc:
        return RunResult(127, "", exc.strerror or str(exc))
    return RunResult(proc.returncode, proc.stdout, proc.stderr)


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def _proc_has_tables(proc_net: str, names_file: str) -> bool:
    try:
        with open(os.path.join(proc_net, names_file), encoding="ascii") as f:
            return bool(f.read().strip())
    except OSError:
        return False


def _is_iptables_own(table: Table, owned: set[tuple[str, str]]) -> bool:
    """A table iptables-nft (or ebtables/arptables-nft) made: skip it in nft's listing."""
    if (table.family, table.name) in owned:
        return True
    return table.name in XT_TABLE_NAMES and any(c.name in XT_BUILTIN_CHAINS for c in table.chains)


def read_rulesets(
    runner: Runner | None = None,
    *,
    which: Which | None = None,
    ipv6: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    proc_net: str = "/proc/net",
) -> Rulesets:
    """Read and parse every ruleset this host has; IPv6 only when ``ipv6``.

    Raises ``RulesUnavailable`` (one line) when neither the iptables tools nor nft are
    installed, or when every installed one failed (not root, for instance).
    """
    run = runner or run_command
    find = which or shutil.which
    tables: list[Table] = []
    sources: list[str] = []
    warnings: list[str] = []
    errors: list[str] = []
    found = False

    def dump(binary: str, args: Sequence[str]) -> RunResult | None:
        nonlocal found
        path = find(binary)
        if path is None:
            return None
        found = True
        command = " ".join((binary, *args))
        result = run([path, *args], timeout)
        if result.returncode != 0:
            errors.append(
                f"{command} failed: {_first_line(result.stderr) or f'exit {result.returncode}'}"
            )
            return None
        sources.append(command)
        return result

    families = [("ip", "iptables", "ip_tables_names")]
    if ipv6:
        families.append(("ip6", "ip6tables", "ip6_tables_names"))
    for family, tool, names_file in families:
        result = dump(f"{tool}-save", ["-c"])
        main: tuple[Table, ...] = ()
        if result is not None:
            try:
                main = parse_iptables_save(result.stdout, family)
            except ParseError as exc:
                warnings.append(f"{tool}-save output not understood: {exc}")
            tables.extend(main)
        main_is_legacy = bool(main) and all(t.source == "iptables-legacy" for t in main)
        if main_is_legacy:
            other, source = f"{tool}-nft-save", "iptables-nft"
        elif _proc_has_tables(proc_net, names_file):
            other, source = f"{tool}-legacy-save", "iptables-legacy"
        else:
            continue
        result = dump(other, ["-c"])
        if result is not None:
            try:
                tables.extend(parse_iptables_save(result.stdout, family, source))
            except ParseError as exc:
                warnings.append(f"{other} output not understood: {exc}")

    result = dump("nft", ["list", "ruleset"])
    if result is not None:
        owned = nft_owned_tables(result.stdout + "\n" + result.stderr) | {
            (t.family, t.name) for t in tables if t.source == "iptables-nft"
        }
        for t in parse_nft_ruleset(result.stdout):
            if _is_iptables_own(t, owned) or (t.family == "ip6" and not ipv6):
                continue
            tables.append(t)

    if not found:
        raise RulesUnavailable(
            "neither the iptables tools (iptables-save) nor nft are installed; "
            "install iptables or nftables to see firewall rules"
        )
    if not sources:
        hint = "; run cnet as root" if os.geteuid() != 0 else ""
        raise RulesUnavailable(f"{errors[0]}{hint}")
    warnings.extend(errors)
    return Rulesets(tables=tuple(tables), sources=tuple(sources), warnings=tuple(warnings))
