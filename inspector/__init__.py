"""cnet: the container network inspector.

The package is split so that collection never pulls in the UI:
``model`` (frozen dataclasses), ``join`` (pure), ``collect`` (docker, netlink, procfs),
``render`` (JSON, Markdown, HTML) and ``tui`` (Textual).  Heavy imports are deferred
so that ``import inspector`` stays cheap.
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
    from inspector.live.runner import collect_snapshot as _collect

    return _collect()


def load_snapshot(path: str | Path) -> Snapshot:
    """Read and validate a saved JSON snapshot."""
    from inspector.render.snapshot_json import load_snapshot as _load

    return _load(path)
