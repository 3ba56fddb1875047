"""The split the architecture promises, floor by floor: each imports nothing above it.

Collectors (``inspector.collect``) -> the pure inventory (``records``, ``events``,
``inventory``, ``join``, ``model``) -> renderers, the doctor, the rules -> the TUI and the
commands.  Each check runs in a fresh interpreter, so what another test imported does not
count.
"""

from __future__ import annotations

import json
import subprocess
import sys


def imported_by(modules: str, forbidden: tuple[str, ...]) -> list[str]:
    """The modules under ``forbidden`` that importing ``modules`` pulls in."""
    code = (
        f"import json, sys, {modules}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({forbidden!r}))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def test_nothing_below_the_tui_imports_textual() -> None:
    below = (
        "inspector, inspector.model, inspector.join, inspector.paths, inspector.snapshot_json, "
        "inspector.collect.netlink, inspector.collect.engine, inspector.collect.reader, "
        "inspector.collect.counters, inspector.records, inspector.events, inspector.inventory, "
        "inspector.live, inspector.render, inspector.render.markdown, inspector.render.html, "
        "inspector.render.difftext, inspector.diff, inspector.doctor, inspector.rules, "
        "inspector.cli"
    )
    assert imported_by(below, ("textual",)) == []


def test_the_inventory_is_pure() -> None:
    """Events in, snapshot out: the inventory imports no collector, SDK or UI."""
    assert (
        imported_by(
            "inspector.inventory, inspector.events",
            ("pyroute2", "docker", "textual", "inspector.collect", "inspector.live"),
        )
        == []
    )


def test_collectors_import_nothing_above_them() -> None:
    """Collectors never reach the inventory, the runner, renderers, the doctor or the UI."""
    above = (
        "inspector.inventory",
        "inspector.live",
        "inspector.render",
        "inspector.tui",
        "inspector.doctor",
        "textual",
    )
    collectors = (
        "inspector.collect.reader, inspector.collect.engine, inspector.collect.cgroups, "
        "inspector.collect.counters"
    )
    assert imported_by(collectors, above) == []
