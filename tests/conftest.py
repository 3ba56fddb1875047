"""Shared fixtures: the recorded snapshot, and the real-engine lab (session scoped)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.model.snapshot import Snapshot
from inspector.render.snapshot_json import load_snapshot
from tests.lab import Lab, engine_problem

# A suite started in the background by a non-interactive shell (``sh -c '... &'``) inherits
# SIGINT ignored (POSIX), and so does every cnet a test starts: Python then never raises
# KeyboardInterrupt, and the tests that send SIGINT wait for nothing.  Default here, so the
# children start with it as they would from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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
