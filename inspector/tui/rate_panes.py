"""The rate cells of the Containers and Interfaces panes: put in with the rows, then patched.

A rates tick (once a second) changes the cells of the rows that moved, nothing else; these
put only those cells in (``Pane.patch_rows``), and give every row to ``set_rows`` only
when the order or the widths may change (a pane sorted by a rate).  At 1,000 rows the
panes had been given every row on every tick.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from inspector.live.rates import Rate, Rates
from inspector.tui.view import RATES_AT, Row, SnapshotView, with_rates
from inspector.tui.widgets import Pane


def show_container_rates(
    table: Pane,
    view: SnapshotView,
    marked: tuple[Row, ...],
    rates: Rates | None,
    at: int,
    moved: Collection[str] | None = None,
) -> tuple[Row, ...]:
    """Show ``marked`` (the Containers rows, without rates) with their rate cells at ``at``;
    ``moved``: a tick moved only these rows' cells, patched in (the rows given back are
    then none).  The rows shown, otherwise."""
    by = rates.containers if rates is not None else {}
    if moved is not None and table.patch_rows(
        [with_rates(r, by.get(r.key), at) for r in marked if r.key in moved], (at, at + 1)
    ):
        return ()
    rows = tuple(with_rates(r, by.get(r.key), at) for r in marked)
    table.set_rows(rows, measure=view.container_measure)
    return rows


def show_interface_rows(
    table: Pane, view: SnapshotView, rows: tuple[Row, ...], rates: Rates | None
) -> None:
    """Show ``rows`` (host links, without rates) in the Interfaces pane with their rate
    cells, the columns fitted as if the rate cells were blank (they are of fixed width),
    so that ``patch_interface_rates`` can put a tick's in."""
    by: Mapping[str, Rate] = rates.host if rates is not None else {}
    measure = view.interface_measure_for(rows)
    table.set_rows(tuple(with_rates(r, by.get(r.key)) for r in rows), measure=measure)


def patch_interface_rates(
    table: Pane, view: SnapshotView, rates: Rates | None, moved: Collection[str]
) -> bool:
    """Patch the rate cells of the ``moved`` host links into the Interfaces pane; False
    when it cannot (sorted by a rate): the caller shows the pane again."""
    by = rates.host if rates is not None else {}
    rows = [with_rates(r, by.get(k)) for k in moved if (r := view.interface_row(k)) is not None]
    return table.patch_rows(rows, (RATES_AT, RATES_AT + 1))
