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


def test_import_inspector_is_cheap() -> None:
    """``import inspector`` alone pulls in neither pyroute2 nor docker (they cost ~0.4 s)."""
    code = "import sys, inspector\nassert 'pyroute2' not in sys.modules and 'docker' not in sys.modules"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
