"""cnet: the container network inspector.

The package is split into floors, each importing only those below it (the layers
contract in pyproject.toml; README "Architecture"): ``model``, ``inventory``, ``collect``,
``live`` and ``actions``, ``rules``, ``doctor``, ``render``, then the front ends ``tui``,
``exporter`` and ``remote``, and ``commands`` with ``cli`` on top.  Heavy imports are
deferred so that ``import inspector`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from inspector.model.snapshot import Snapshot

__all__ = ["__version__", "collect_snapshot", "load_snapshot"]


def collect_snapshot() -> Snapshot:
    """Collect the live host's container networking (see ``inspector.collect``)."""
    from inspector.live.runner import collect_snapshot as _collect  # why: stays cheap

    return _collect()


def load_snapshot(path: str | Path) -> Snapshot:
    """Read and validate a saved JSON snapshot."""
    from inspector.render.snapshot_json import load_snapshot as _load  # why: stays cheap

    return _load(path)
