"""Put new values in some cells of a DataTable row and repaint that row alone.

``DataTable.update_cell`` bumps the table's update count, which is part of the key of
every cache the table renders from (its cells, rows and lines), and refreshes the whole
widget: one changed cell repaints every row in view.  At 1,000 moving rows that was the
idle UI's largest cost (a rates tick changes a few cells of a few rows each second).

Here the values go into the table's data directly, only the changed rows' entries leave
its caches, and only their lines are refreshed.  This reads DataTable's private
attributes as Textual 8 names them; when one is missing (another Textual), ``patch_row``
says so and the caller falls back to ``update_cell``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

_CACHES = (
    ("_cell_render_cache", 0, "key"),
    ("_row_render_cache", 0, "key"),
    ("_row_renderable_cache", 1, "index"),
    ("_line_cache", 0, "y"),
)
"""DataTable's render caches, and where in their keys the row is named: by its key, its
index, or its line's y (the header's lines counted)."""


def patch_row(table: DataTable[Text], key: str, index: int, values: Mapping[str, Text]) -> bool:
    """Put ``values`` (by column key) in the row ``key`` at ``index`` of ``table`` (every
    row one line high) and repaint its line; False when the table's internals are not the
    ones this knows (nothing was changed then)."""
    internals: Any = table
    data = getattr(internals, "_data", None)
    caches: list[Any] = [getattr(internals, name, None) for name, _, _ in _CACHES]
    if not isinstance(data, dict) or any(
        not (hasattr(c, "keys") and hasattr(c, "discard")) for c in caches
    ):
        return False
    row_key = RowKey(key)
    cells = data.get(row_key)
    if cells is None:
        return False
    for column, value in values.items():
        cells[ColumnKey(column)] = value
    y = index + (table.header_height if table.show_header else 0)
    row = {"key": row_key, "index": index, "y": y}
    for cache, (_, at, by) in zip(caches, _CACHES, strict=True):
        keys = cache.keys()  # an LRUCache: not iterable itself
        for stale in [k for k in keys if k[at] == row[by]]:
            cache.discard(stale)
    width = max(table.size.width, table.virtual_size.width)
    table.refresh(Region(0, y, width, 1).translate(-table.scroll_offset))  # as on screen
    return True
