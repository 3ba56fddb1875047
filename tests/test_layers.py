"""The split the architecture promises: collectors, model and renderers never import Textual."""

from __future__ import annotations

import subprocess
import sys


def test_collectors_model_and_renderers_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        "import inspector, inspector.model, inspector.join, inspector.paths, inspector.snapshot_json\n"
        "import inspector.collect, inspector.collect.netlink, inspector.collect.docker_source\n"
        "import inspector.render, inspector.render.markdown, inspector.render.html\n"
        "import inspector.cli\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_collection_does_not_import_heavy_libraries() -> None:
    """Collection pulls in neither pyroute2 nor the docker SDK (~0.4 s of imports)."""
    code = (
        "import sys, inspector.collect, inspector.commands.snapshot\n"
        "heavy = [m for m in ('pyroute2', 'docker', 'requests', 'textual') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
