"""The split the architecture promises: collectors, model and renderers never import Textual."""

from __future__ import annotations

import subprocess
import sys


def test_collectors_model_and_renderers_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        "import inspector, inspector.model, inspector.join, inspector.paths, inspector.snapshot_json\n"
        "import inspector.collect.netlink, inspector.collect.engine, inspector.collect.reader\n"
        "import inspector.records, inspector.events, inspector.inventory, inspector.live\n"
        "import inspector.render, inspector.render.markdown, inspector.render.html\n"
        "import inspector.cli\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_inventory_is_pure() -> None:
    """Events in, snapshot out: the inventory imports no collector, SDK or UI."""
    code = (
        "import sys, inspector.inventory, inspector.events\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pyroute2', 'docker', 'textual')"
        " or m.startswith('inspector.collect') or m == 'inspector.live']\n"
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_collectors_import_nothing_above_them() -> None:
    """The floors point down: collectors never reach the inventory, renderers or UI."""
    code = (
        "import sys, inspector.collect.reader, inspector.collect.engine, inspector.collect.cgroups\n"
        "bad = [m for m in sys.modules if m.startswith(('inspector.inventory', 'inspector.live',"
        " 'inspector.render', 'inspector.tui', 'inspector.doctor', 'textual'))]\n"
        "assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
