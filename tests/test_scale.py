"""What keeps cnet usable at hundreds of namespaces (issue 23), as behaviour, untimed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rich.text import Text

from inspector.inventory import events as ev
from inspector.live import runner as live_mod
from inspector.live.rates import Rates, human_rate
from inspector.live.runner import CHUNK, Live, LiveUpdate
from inspector.model.records import Attribution, FoundNamespace, LinkRecord, NamespaceDump
from inspector.model.snapshot import Interface, Snapshot
from inspector.tui import widgets
from inspector.tui.app import make_app
from inspector.tui.view import RATES_AT
from inspector.tui.widgets import Pane
from tests.test_tui import SIZE, sync, wait_for
from tests.tui_fakes import ScriptedRates, scripted_rates

OTHERS = 60


class OtherNamespacesReader:
    """A host with no Docker and ``OTHERS`` ``ip netns`` namespaces; records each read."""

    def __init__(self) -> None:
        self.found = tuple(
            FoundNamespace(
                (4, 1000 + n),
                None,
                paths=(f"/run/netns/ns{n:02d}",),
                owner=Attribution("netns", f"netns:ns{n:02d}", f"ns{n:02d}"),
            )
            for n in range(OTHERS)
        )
        self.asked: list[int] = []

    def host(self) -> ev.HostDumped:
        return ev.HostDumped(NamespaceDump(links=(), addresses=(), routes=()))

    def containers(self) -> list[ev.Event]:
        return [ev.EngineLost("no Docker socket")]

    def discover(self) -> list[ev.Event]:
        return [ev.NamespacesFound((4, 1), self.found)]

    def namespaces(self, containers: object) -> list[ev.Event]:
        return []

    def podman(self) -> list[ev.Event]:
        return []

    def read_namespaces(self, identities: list[ev.NamespaceId]) -> list[ev.Event]:
        self.asked.append(len(identities))
        eth0 = LinkRecord(Interface("eth0", 2, kind="veth"))
        return [
            ev.NamespaceDumped(i, NamespaceDump(links=(eth0,), addresses=(), routes=()))
            for i in identities
        ]


def test_the_first_pass_shows_other_namespaces_as_they_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At a thousand ``ip netns`` namespaces the first rows waited for the last one read:
    now they are read a chunk at a time and published as they come (every chunk here)."""
    monkeypatch.setattr(live_mod, "PROGRESS_S", 0.0)
    live = Live(reconcile=0)
    published: list[LiveUpdate] = []
    live._publish = published.append
    reader = OtherNamespacesReader()
    live._full(reader, first=True)  # type: ignore[arg-type]
    assert sum(reader.asked) == OTHERS and max(reader.asked) <= CHUNK
    read = [
        sum(1 for c in u.snapshot.containers if any(i.name == "eth0" for i in c.interfaces))
        for u in published
    ]
    assert read[-1] == OTHERS and not published[-1].status.reading
    partial = [n for n in read if 0 < n < OTHERS]
    assert partial, read  # some rows were shown before the last namespace was read
    assert all(u.status.reading for u in published[:-1])


def one_busy(snapshot: Snapshot, seconds: int) -> tuple[str, list[Rates]]:
    """Every running container steady, but one (whose namespace no other shares) whose
    traffic grows each second."""
    shared = {c.netns_shared_with for c in snapshot.containers}
    busy = next(
        c.name
        for c in snapshot.containers
        if c.running
        and any(i.peer is not None for i in c.interfaces)
        and c.netns_shared_with is None
        and c.name not in shared
    )
    return busy, scripted_rates(
        snapshot, seconds, lambda t, name: 1000 + (5000 * t if name == busy else 0)
    )


@sync
async def test_a_rate_tick_redraws_only_the_cells_that_changed_and_sorts_nothing(
    recorded: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand rows sorted again and compared whole once a second was most of the
    idle TUI's cost: a tick that moved one container's rate redraws that row's rate
    cells only, and the rows are not sorted again."""
    busy, rates = one_busy(recorded, seconds=5)
    feed = ScriptedRates()
    app = make_app(recorded, rates=feed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, feed.started.is_set)
        for step in rates[:2]:
            feed.push(step)
        await wait_for(pilot, lambda: app.rates is rates[1])
        await pilot.pause()
        table = app.pane("containers")
        order = [r.key for r in table.rows_shown]
        drawn: list[tuple[str, str]] = []
        real_patch = widgets.patch_row

        def counted(table: Pane, key: str, index: int, values: dict[str, Text]) -> bool:
            drawn.extend((key, column) for column in values)
            return real_patch(table, key, index, values)

        sorts: list[int] = []
        real_sort = widgets.sort_rows
        monkeypatch.setattr(widgets, "patch_row", counted)
        monkeypatch.setattr(widgets, "sort_rows", lambda *a: sorts.append(1) or real_sort(*a))
        for step in rates[2:]:
            feed.push(step)
            want = human_rate(step.containers[busy].rx_bytes)
            await wait_for(
                pilot,
                lambda want=want: (
                    {r.key: r.cells for r in table.rows_shown}[busy][RATES_AT] == want
                ),
            )
        assert drawn and {row for row, _ in drawn} == {busy}
        assert sorts == []
        assert [r.key for r in table.rows_shown] == order
        # what is shown is what a whole redraw would show
        shown = {r.key: r.cells[RATES_AT] for r in table.rows_shown}
        last = rates[-1]
        assert all(
            shown[name] == human_rate(rate.rx_bytes) for name, rate in last.containers.items()
        )


@pytest.mark.parametrize("cost", [0.0, 1.0])
def test_publishing_takes_at_most_a_fifth_of_the_first_pass(
    monkeypatch: pytest.MonkeyPatch, cost: float
) -> None:
    """Each publication of the first pass joins the whole picture (dear at 1,000): a
    cheap one goes out every ``PROGRESS_S``, a dear one waits ``PROGRESS_COST`` times its
    cost.  On a fake clock: a chunk read takes 0.1 s, a publication ``cost``."""
    clock = [0.0]
    monkeypatch.setattr(live_mod, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    emits: list[float] = []

    def emit() -> None:
        emits.append(clock[0])
        clock[0] += cost

    progress = live_mod._Progress(emit)
    for _ in range(200):
        clock[0] += 0.1
        progress.tick()
    spent = len(emits) * cost
    if cost:
        assert emits and spent <= clock[0] / (1 + live_mod.PROGRESS_COST) + cost
    else:
        assert len(emits) >= 20 / (live_mod.PROGRESS_S + 0.1) - 1  # each half second, a chunk late
