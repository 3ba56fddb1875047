"""The floors the layout promises: each imports nothing above it.

``lint-imports`` checks the layers contract in pyproject.toml over the whole import graph
(imports inside functions and under TYPE_CHECKING count).  The checks below it run in a
fresh interpreter and look at what importing a floor really loads, third-party modules
included, so what another test imported does not count.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package found first from ``cwd`` (it puts cwd on sys.path)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_the_layers_contract_is_kept() -> None:
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 kept, 0 broken" in proc.stdout


def test_the_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    """A copy of the package where the ground floor imports the TUI breaks the contract."""
    shutil.copytree(
        ROOT / "inspector", tmp_path / "inspector", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    natural = tmp_path / "inspector" / "model" / "natural.py"
    natural.write_text(
        natural.read_text() + "\n\ndef _up() -> None:\n    import inspector.tui.app\n"
    )
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "inspector.model.natural -> inspector.tui.app" in proc.stdout


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
        "inspector, inspector.model.snapshot, inspector.model.queries, inspector.model.paths, "
        "inspector.inventory.join, inspector.render.snapshot_json, "
        "inspector.collect.netlink, inspector.collect.engine, inspector.collect.reader, "
        "inspector.collect.counters, inspector.model.records, inspector.inventory.events, "
        "inspector.inventory.state, inspector.live.runner, inspector.live.feed, "
        "inspector.actions.ping, inspector.render, inspector.render.markdown, "
        "inspector.render.html, inspector.render.difftext, inspector.render.diff, "
        "inspector.doctor, inspector.rules, inspector.exporter.metrics, inspector.cli"
    )
    assert imported_by(below, ("textual",)) == []


def test_the_inventory_is_pure() -> None:
    """Events in, snapshot out: the inventory imports no collector, SDK or UI."""
    assert (
        imported_by(
            "inspector.inventory.state, inspector.inventory.events, inspector.model.queries",
            ("pyroute2", "docker", "textual", "inspector.collect", "inspector.live"),
        )
        == []
    )


def test_collectors_import_no_sdk_they_do_not_read() -> None:
    """The readers that need neither the docker SDK nor the UI load neither."""
    collectors = "inspector.collect.reader, inspector.collect.cgroups, inspector.collect.counters"
    assert imported_by(collectors, ("textual", "prometheus_client")) == []
