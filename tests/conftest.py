"""Shared fixtures: the recorded snapshot, and the real-engine lab (session scoped)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.model.snapshot import Snapshot
from inspector.render.snapshot_json import load_snapshot
from tests.lab import Lab, engine_problem

DATA = Path(__file__).parent / "data"
RECORDED = DATA / "lab-snapshot.json"


@pytest.fixture(scope="session")
def recorded() -> Snapshot:
    """A snapshot recorded from the real lab (regenerate with scripts/record-lab)."""
    return load_snapshot(RECORDED)


@pytest.fixture(scope="session")
def engine() -> None:
    """Skip, saying why, when there is no root/engine/namespaces here."""
    problem = engine_problem()
    if problem is not None:
        pytest.skip(f"engine tests skipped: {problem}")


@pytest.fixture(scope="session")
def lab(engine: None) -> Iterator[Lab]:
    """Prefixed containers in every network mode, removed at the end of the session."""
    lab = Lab.start()
    try:
        yield lab
    finally:
        lab.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()) or "engine" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.engine)
