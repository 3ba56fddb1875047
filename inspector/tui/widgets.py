"""The app's widgets: a pane table that updates in place, and scrolling text panels."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence
from typing import ClassVar, cast

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.styles import RulesMap
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static
from textual.widgets._footer import FooterKey
from textual.widgets.data_table import RowKey

from inspector.model.safe import safe
from inspector.tui.row_patch import patch_row
from inspector.tui.view import (
    GAP,
    Column,
    Line,
    Row,
    Style,
    fit_text,
    fit_widths,
    sort_rows,
    wrap_lines,
)

ROW_STYLES: dict[Style, str] = {"": "", "muted": "dim", "heading": "bold"}
ROW_THEME_STYLES: dict[Style, tuple[str, str]] = {
    "bad": ("bold", "error"),
    "warning": ("bold", "warning"),
    "good": ("", "success"),
}
"""Row styles coloured from the theme (the cells are Rich text, so the colour is looked up)."""
DETAIL_STYLES: dict[Style, str] = {
    "": "",
    "title": "bold $accent",
    "heading": "bold $primary",
    "muted": "$text-muted",
    "path": "bold",
    "warning": "bold $warning",
    "key": "bold reverse",
    "bad": "bold $error",
    "good": "$success",
    "moved": "bold $accent",
}


class Pane(DataTable[Text]):
    """A row-cursor table that replaces its rows without losing the cursor or the scroll.

    ``set_rows`` compares with what is shown: identical rows cost nothing, same keys only
    update the cells that changed, and only a different set of rows rebuilds the table.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="open"),
        Binding("j", "cursor_down", "Down", show=False, id="down"),
        Binding("k", "cursor_up", "Up", show=False, id="up"),
        # DataTable's home/end scroll sideways (and hide the Name column): here they go to
        # the first / last row, as g / G do.
        Binding(
            "home,g", "scroll_top", "First row", show=False, id="first_row", key_display="home g"
        ),
        Binding(
            "end,G", "scroll_bottom", "Last row", show=False, id="last_row", key_display="end G"
        ),
    ]

    def __init__(
        self, columns: Sequence[Column], *, id: str, sorts: Sequence[int | None] = (None,)
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=0)
        self._columns = tuple(columns)
        self._sorts = tuple(sorts)
        self._sort = self._sorts[0]
        self._given: tuple[Row, ...] = ()
        self._measured: tuple[Row, ...] = ()
        self._rows: tuple[Row, ...] = ()
        self._index: dict[str, int] = {}
        self._available = 0
        self._widths: list[int] = [c.width for c in self._columns]
        self._theme_colours: tuple[str, dict[str, str]] = ("", {})
        self._behind: dict[str, frozenset[int]] = {}  # key: cells not drawn yet (out of view)

    def on_mount(self) -> None:
        for col in self._columns:
            self.add_column(col.label, width=col.width + GAP, key=col.key)
        self._label_columns()

    def on_resize(self) -> None:
        self._catch_up()  # a taller pane shows rows that were out of view
        available = self.scrollable_content_region.width
        if available > 0 and available != self._available:
            self._available = available
            if self._fit():
                shown, self._rows = self._rows, ()
                self._show(shown)  # cut again for the new widths

    @property
    def widths(self) -> tuple[int, ...]:
        """The column widths shown (0: hidden), without the gaps."""
        return tuple(self._widths)

    def _fit(self) -> bool:
        """Fit the columns to the pane and to the rows measured (``fit_widths``).  True
        when the widths changed: the caller cuts the cells again."""
        if self._available <= 0:
            return False
        content = [len(c.label) for c in self._columns]
        for r in self._measured:
            for n, cell in enumerate(r.cells):
                shown = len(safe(cell))
                if shown > content[n]:
                    content[n] = shown
        widths = fit_widths(self._columns, content, self._available)
        if widths == self._widths:
            return False
        self._widths = widths
        for col, width in zip(self.columns.values(), widths, strict=True):
            col.width = width + GAP if width else 0
            col.auto_width = False
        self._label_columns()
        self._clear_caches()
        self._require_update_dimensions = True
        self.refresh()
        return True

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Textual measures every cell of every row added, for columns that fit their
        content; a pane's widths are its own (``_fit``: no column is auto-width) and each
        row is one line, so the measuring is skipped: at 1,000 rows it was half of the UI's
        time in the first pass.  The scrollable size is still worked out."""
        del new_rows
        super()._update_dimensions(())

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: RichStyle,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        # A hidden column (width 0) renders as one empty segment without a style, which
        # NO_COLOR's monochrome filter cannot take: give it an empty style instead.
        if width <= 0:
            return [[Segment("", RichStyle())]]
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)

    @property
    def rows_shown(self) -> tuple[Row, ...]:
        return self._rows

    @property
    def current_key(self) -> str | None:
        """Key of the row under the cursor."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row].key
        return None

    def keys_on_screen(self, also: str | None = None) -> set[str]:
        """The keys of the rows in view, and ``also`` (the selected row): what the rates
        sampler reads namespaces for (``RatesFeed.watch``)."""
        view = self._in_view()
        keys = {r.key for r in self._rows[view.start : view.stop]}
        if also is not None:
            keys.add(also)
        return keys

    def key_at(self, index: int) -> str | None:
        return self._rows[index].key if 0 <= index < len(self._rows) else None

    def _rich_style(self, style: Style) -> str:
        themed = ROW_THEME_STYLES.get(style)
        if themed is None:
            return ROW_STYLES.get(style, "")
        weight, variable = themed
        theme = self.app.theme
        if self._theme_colours[0] != theme:
            self._theme_colours = (theme, self.app.get_css_variables())
        colour = self._theme_colours[1].get(variable, "")
        return f"{weight} {colour}".strip()

    def _cell(self, n: int, value: str, style: Style) -> Text:
        width = self._widths[n]
        if not width:
            return Text("")
        value = fit_text(safe(value), width, self._columns[n].middle)
        text = Text(" " * GAP)
        text.append(value, style=self._rich_style(style))
        text.no_wrap = True
        return text

    # -- sorting ------------------------------------------------------------------------

    @property
    def sort_column(self) -> int | None:
        """The column the rows are sorted by (None: as the host lists them)."""
        return self._sort

    def cycle_sort(self) -> str:
        """``s``: sort by the next column, keeping the cursor on its row; says how."""
        at = self._sorts.index(self._sort)
        self._sort = self._sorts[(at + 1) % len(self._sorts)]
        self._show(sort_rows(self._given, self._columns, self._sort))
        self._label_columns()
        self.scroll_to_cell_if_hidden()
        if self._sort is None:
            return "as the host lists them"
        col = self._columns[self._sort]
        return f"by {col.name}" + (", largest first" if col.descending else "")

    def _label_columns(self) -> None:
        """Labels cut to their column; the sorted one ends with ▲ (▼: largest first)."""
        for n, (col, shown) in enumerate(zip(self._columns, self.columns.values(), strict=True)):
            width = self._widths[n]
            label = fit_text(col.label, width, False)
            if n == self._sort and width:
                arrow = "▼" if col.descending else "▲"
                label = (
                    f"{label} {arrow}" if len(label) + 2 <= width else label[: width - 1] + arrow
                )
            label = " " * GAP + label if width else ""
            if shown.label.plain != label:
                shown.label = Text(label)
                self._clear_caches()
                self.refresh()

    # -- rows ---------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Row], *, measure: Sequence[Row] | None = None) -> None:
        """Show ``rows`` (in the pane's sort order); the columns fit ``measure`` (default:
        ``rows``), so a filter narrowing the rows does not make the columns jump."""
        given = tuple(rows)
        measured = given if measure is None else tuple(measure)
        if given == self._given and measured == self._measured:
            return
        self._given = given
        self._measured = measured
        new = sort_rows(given, self._columns, self._sort)
        if self._fit():
            self._rows = ()  # cut for the old widths: build again
        self._show(new)

    def patch_rows(self, rows: Sequence[Row], cells: Collection[int]) -> bool:
        """Put in ``rows`` (shown keys) that differ from the shown ones only in the cells
        ``cells`` (the rates): when the pane is not sorted by one of those and its columns
        are fitted to rows of their own (``set_rows``' ``measure``), the order and the
        widths hold, so only the cells that changed are drawn again; nothing is sorted
        (at 1,000 rows a rate tick sorted them all, once a second).  False when it cannot
        (the caller gives every row to ``set_rows``)."""
        if self._sort in cells or self._measured is self._given:
            return False
        by_key = {r.key: r for r in rows if r.key in self._index}
        if not by_key:
            return True
        self._given = tuple(by_key.get(r.key, r) for r in self._given)
        shown = list(self._rows)
        view = self._in_view()
        for key, after in by_key.items():
            index = self._index[key]
            self._redraw(index, shown[index], after, cells, view)
            shown[index] = after
        self._rows = tuple(shown)
        return True

    def _in_view(self) -> range:
        """The row indexes on screen (the header's line counted: one row more, never less)."""
        top = int(self.scroll_y)
        return range(top, top + max(1, self.size.height))

    def _redraw(
        self, index: int, before: Row, after: Row, cells: Iterable[int], view: range
    ) -> None:
        """Draw the cells of ``cells`` in which ``after`` differs from ``before``, if the row
        is in ``view``; else note them, to be drawn when it scrolls in (``_catch_up``):
        at 1,000 rows, drawing every second for rows nobody saw was most of the idle UI's
        cost."""
        moved = frozenset(
            n
            for n in cells
            if before.cells[n] != after.cells[n] or before.style_of(n) != after.style_of(n)
        )
        if index in view:
            self._draw_cells(after, moved | self._behind.pop(after.key, frozenset()))
        elif moved:
            self._behind[after.key] = self._behind.get(after.key, frozenset()) | moved

    def _draw_cells(self, row: Row, cells: Collection[int]) -> None:
        """Put in ``cells`` of ``row`` and repaint that row's line alone (``patch_row``)."""
        if not cells:
            return
        values = {self._columns[n].key: self._cell(n, row.cells[n], row.style_of(n)) for n in cells}
        if patch_row(self, row.key, self._index[row.key], values):
            return
        for column, value in values.items():  # a DataTable this does not know: all of it
            self.update_cell(row.key, column, value)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._catch_up()

    def _catch_up(self) -> None:
        """Draw the cells noted while their rows were out of view, for the rows now in it."""
        if not self._behind:
            return
        view = self._in_view()
        for row in self._rows[view.start : view.stop]:
            cells = self._behind.pop(row.key, None)
            if cells:
                self._draw_cells(row, cells)

    def _show(self, rows: Sequence[Row]) -> None:
        new = tuple(rows)
        if new == self._rows:
            return
        old = self._rows
        if [r.key for r in new] == [r.key for r in old]:
            view, every = self._in_view(), range(len(self._columns))
            for index, (before, after) in enumerate(zip(old, new, strict=True)):
                if before != after:
                    self._redraw(index, before, after, every, view)
            self._rows = new
            return
        self._behind.clear()  # every row is added again, as it is now
        keep = self.current_key
        scroll_y = self.scroll_y
        with self.app.batch_update():
            self.clear()
            for r in new:
                self.add_row(
                    *(self._cell(n, c, r.style_of(n)) for n, c in enumerate(r.cells)), key=r.key
                )
            self._rows = new
            self._index = {r.key: n for n, r in enumerate(new)}
            if keep in self._index:
                self.move_cursor(row=self._index[keep], animate=False, scroll=False)
                self.call_after_refresh(self._restore_scroll, scroll_y)

    def _restore_scroll(self, y: float) -> None:
        self.scroll_to(y=y, animate=False, immediate=True)
        self.scroll_to_cell_if_hidden()

    def scroll_to_cell_if_hidden(self) -> None:
        top, height = self.scroll_y, self.scrollable_content_region.height - 1
        if not top <= self.cursor_row < top + height:
            self.move_cursor(row=self.cursor_row, animate=False)

    def select_key(self, key: str) -> bool:
        """Put the cursor on the row with ``key``; False when it is not shown."""
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(row=index, animate=False)
        return True


def plain(text: str) -> Content:
    """Host text for a title or a label: never parsed as markup (a process named ``[/]``
    crashed the TUI), its control characters escaped (``safe``)."""
    return Content(safe(text))


def set_titles(widget: Widget, title: str, subtitle: str | None = None) -> None:
    """A frame's titles (plain text, see ``plain``), assigned only when they change:
    Textual repaints the whole widget on every assignment, even of the same text (the
    detail panel was repainted once a second for the rates that left it as it was)."""
    shown = plain(title)
    if widget.border_title != shown.markup:
        widget.border_title = shown
    if subtitle is not None:
        sub = plain(subtitle)
        if widget.border_subtitle != sub.markup:
            widget.border_subtitle = sub


def lines_content(lines: Sequence[Line]) -> Content:
    """Styled lines as one Content (theme variables, so themes and NO_COLOR work)."""
    parts: list[Content] = []
    for n, line in enumerate(lines):
        if n:
            parts.append(Content("\n"))
        for text, style in line:
            parts.append(Content.styled(text, DETAIL_STYLES.get(style, "")))
    return Content.assemble(*parts)


class LinesView(VerticalScroll):
    """Styled lines in a scrolling panel; they wrap, so a veth name or a rule is never cut.

    ``follow``: ``append`` keeps the end in view while the user has not scrolled up (a
    streaming log); it keeps the last ``limit`` lines.
    """

    DEFAULT_CSS = """
    LinesView { scrollbar-gutter: stable; }
    LinesView > Static { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [  # besides the arrows, pgup/pgdn, home/end
        Binding("j", "scroll_down", "Scroll down", show=False, id="lines_down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="lines_up"),
        Binding("g", "scroll_home", "Top", show=False, id="lines_top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="lines_bottom"),
    ]

    def __init__(self, *, id: str | None = None, follow: bool = False, limit: int = 2000) -> None:
        super().__init__(id=id)
        self._body = Static("", markup=False)
        self._lines: list[Line] = []
        self._height = -1
        self._follow = follow
        self._limit = limit
        self._subject: Hashable = None
        self._wrapped: list[Line] = []
        self._wrapped_to = -1

    def compose(self) -> ComposeResult:
        yield self._body

    @property
    def lines(self) -> list[Line]:
        return self._lines

    def show(self, lines: list[Line], *, subject: Hashable = None) -> None:
        """Show ``lines``; a new ``subject`` (another selection) starts at the top, the same
        one (a refresh) keeps the scroll."""
        if subject != self._subject:
            self._subject = subject
            self.scroll_home(animate=False, immediate=True)
        lines = [_safe_line(line) for line in lines]
        if lines == self._lines:
            return
        self._lines = lines
        self._render_lines()

    @property
    def wrapped(self) -> list[Line]:
        """The lines as drawn: wrapped to the panel, continuations indented."""
        return self._wrapped

    def on_resize(self) -> None:
        if self._body.content_region.width != self._wrapped_to:
            self._render_lines()

    def _render_lines(self) -> None:
        width = self._body.content_region.width
        self._wrapped_to = width
        self._wrapped = wrap_lines(self._lines, width)
        content = lines_content(self._wrapped)
        # A layout pass repaints the whole screen; skip it when the height stays the same
        # (the common case when moving between similar containers).
        height = content.get_height(cast(RulesMap, self._body.styles), width) if width > 0 else -1
        self._body.update(content, layout=height != self._height or height < 0)
        self._height = height

    def append(self, lines: Sequence[Line]) -> None:
        at_end = self.scroll_y >= self.max_scroll_y
        self.show([*self._lines, *lines][-self._limit :])
        if self._follow and at_end:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)


def _safe_line(line: Line) -> Line:
    """A line's text with the host's control characters shown escaped: a name with
    ``ESC [2J`` or a newline is drawn, never obeyed (Content would pass ESC through)."""
    return tuple((safe(text), style) for text, style in line)


class Detail(LinesView):
    """The detail of the selection (or the doctor's checks of a container)."""


FOOTER_GAP = 2
"""Blank cells between two keys of the footer (one sits between a key and its label)."""


def footer_drops(
    keys: Sequence[tuple[str, int]], available: int, drop_first: Sequence[str]
) -> set[str]:
    """Which footer keys to leave out so the rest fit ``available`` cells: those of
    ``drop_first`` in its order, as few as needed (``keys``: each key and its width)."""
    total = sum(width + FOOTER_GAP for _, width in keys)
    dropped: set[str] = set()
    widths = dict(keys)
    for key in drop_first:
        if total <= available:
            break
        if key in widths:
            dropped.add(key)
            total -= widths[key] + FOOTER_GAP
    return dropped


class FittedFooter(Footer):
    """The footer with every key readable: two cells between keys, and when the line is too
    short the keys of ``drop_first`` (in that order) are left out rather than cut (every
    key stays in ? help and the command palette).  The palette hint shows only when all
    the keys fit beside it."""

    DEFAULT_CSS = """
    FittedFooter.-compact FooterKey { margin-right: 2; }
    FittedFooter.-compact FooterKey.-command-palette { margin-right: 0; }
    """

    def __init__(
        self, *, drop_first: Sequence[str] = (), show_command_palette: bool = True
    ) -> None:
        super().__init__(compact=True, show_command_palette=show_command_palette)
        self._drop_first = tuple(drop_first)
        self._fitted_to = -1

    @staticmethod
    def _width(key: FooterKey) -> int:
        described = 1 + cell_len(key.description) if key.description else 0
        return cell_len(key.key_display) + described

    def compose(self) -> ComposeResult:
        items: list[Widget] = list(super().compose())
        available = self.size.width or self.app.size.width
        self._fitted_to = available
        palette = [k for k in items if isinstance(k, FooterKey) and k.has_class("-command-palette")]
        keys = [k for k in items if isinstance(k, FooterKey) and k not in palette]
        sized = [(k.key, self._width(k)) for k in keys]
        dropped = footer_drops(sized, available, self._drop_first)
        room = available - sum(w + FOOTER_GAP for key, w in sized if key not in dropped)
        for item in items:
            if isinstance(item, FooterKey) and item.key in dropped:
                continue
            if item in palette and (dropped or room < self._width(item) + 1):
                continue
            yield item

    def on_resize(self) -> None:
        if self.size.width != self._fitted_to:
            self.call_after_refresh(self.recompose)
