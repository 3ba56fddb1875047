"""What the panes and the detail panel show, as plain data: no Textual here.

Kept pure so the linking rules are tested without a terminal, and so the per-snapshot
work (rows, lookups, filter text) is done once per snapshot in ``SnapshotView`` and a
cursor move only costs what the selected item itself needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from inspector.live.rates import Rate, rate_cells
from inspector.model.natural import NaturalKey, natural_key, natural_sorted
from inspector.model.paths import container_summary, interface_path, is_loopback, primary_address
from inspector.model.snapshot import Bridge, BridgePort, Container, Interface, Route, Snapshot
from inspector.model.words import network_label, ports_label

Style = Literal["", "title", "heading", "muted", "path", "warning", "key", "bad", "good", "moved"]
"""Semantic styles; the widgets map them to theme colours (``bad``: a DROP, a failing
check; ``good``: a passing one; ``moved``: counters that moved during a ping)."""

Segment = tuple[str, Style]
Line = tuple[Segment, ...]
Copyable = tuple[str, str]
"""What ``y`` can copy: a label for the notice (``address``) and the value."""


@dataclass(frozen=True)
class Row:
    """One table row: a stable key (kept across refreshes) and its cells."""

    key: str
    cells: tuple[str, ...]
    style: Style = ""
    cell_styles: tuple[Style, ...] = ()
    """Per-cell styles, overriding ``style`` where not empty (the doctor mark)."""
    sort_values: tuple[float | None, ...] = ()
    """Per-cell numbers to sort by where the text is not the order (the doctor mark; a
    rate); a cell without one sorts by its text in natural order."""
    child: bool = False
    """Belongs under the row above that is not a child (a bridge's ports): sorting keeps
    it there."""

    def style_of(self, n: int) -> Style:
        return (self.cell_styles[n] if n < len(self.cell_styles) else "") or self.style

    def sort_key(self, n: int, descending: bool = False) -> tuple[int, float, NaturalKey]:
        """Numbers first (the largest first when ``descending``), then text."""
        number = self.sort_values[n] if n < len(self.sort_values) else None
        if number is not None:
            return (0, -number if descending else number, ((), ""))
        return (1, 0.0, natural_key(self.cells[n].strip()))


@dataclass(frozen=True)
class Column:
    """A pane column: preferred width, and how far it may shrink in a narrow terminal."""

    label: str
    width: int
    minimum: int
    middle: bool = False
    """Cut in the middle (names: ``cnetl…multi`` keeps what tells them apart)."""
    sortable: bool = True
    descending: bool = False
    """``s`` puts the largest first (a rate), not the smallest."""
    title: str = ""
    """What the column is called when it has no label (the sort notice)."""
    priority: int = 0
    """Who gives way first in a narrow pane: the highest number shrinks first (and, when
    ``optional``, is the first hidden); 0 is what says what the row is."""
    optional: bool = False
    """May be hidden when even the minimum widths do not fit (the detail shows it)."""

    @property
    def key(self) -> str:
        return self.label or "mark"

    @property
    def name(self) -> str:
        return self.title or self.label.lower()


def rate_columns(rx_priority: int, tx_priority: int) -> tuple[Column, Column]:
    """Receive and transmit rates: fixed (a rate is at most 4 cells, ``human_rate``, plus
    the sort mark); hidden rather than cut in a narrow pane, transmit first (the detail
    has both)."""
    return (
        Column(
            "Rx/s", 5, 5, priority=rx_priority, optional=True, descending=True,
            title="bytes received per second",
        ),
        Column(
            "Tx/s", 5, 5, priority=tx_priority, optional=True, descending=True,
            title="bytes sent per second",
        ),
    )  # fmt: skip


RATES_AT = 3
"""Where the rate cells go in the Containers and Interfaces rows (after State): the
snapshot's rows have none, ``with_rates`` puts them in."""
CONTAINER_COLUMNS = (
    Column("", 1, 1, title="doctor mark"),  # the doctor's mark
    Column("Name", 24, 14, middle=True),
    Column("State", 7, 7, priority=1),
    *rate_columns(1, 2),  # after Ports (4), Network and IPs at their minimum
    Column("Runtime", 7, 6, priority=5, optional=True),
    Column("Network", 20, 8, priority=3),
    Column("IPs", 24, 11, priority=2),
    Column("Ports", 28, 6, priority=4, optional=True),
)
HOST_COLUMN = Column("Host", 14, 6, middle=True, priority=2)
HOSTED_CONTAINER_COLUMNS = (*CONTAINER_COLUMNS[:2], HOST_COLUMN, *CONTAINER_COLUMNS[2:])
"""With several ``--host``: which host each container is on (inspector/remote/hosts.py)."""
INTERFACE_COLUMNS = (
    Column("Name", 15, 11, middle=True, priority=1),
    Column("Container", 22, 10, middle=True, priority=1),
    Column("State", 7, 4, priority=2),
    *rate_columns(1, 2),  # after Address (4) and Bridge (3) go
    Column("Bridge", 15, 7, middle=True, priority=3, optional=True),
    Column("Address", 25, 9, priority=4, optional=True),
)
ROUTE_COLUMNS = (  # the gateway and the device tell routes apart: they give way last
    Column("Destination", 18, 9, priority=2),
    Column("Via", 15, 10),
    Column("Dev", 15, 8, middle=True, priority=1),
    Column("Proto", 6, 6, priority=3, optional=True),
)
PORT_COLUMNS = (
    Column("Bridge / port", 17, 11, middle=True, priority=1),
    Column("Container", 22, 14, middle=True, priority=2, optional=True),
    Column("State", 10, 10),  # forwarding, blocking, disabled...: never cut
)
GAP = 1
"""Blank cells before every column (its margin and the space between columns)."""


def fit_widths(columns: Sequence[Column], content: Sequence[int], available: int) -> list[int]:
    """Column widths (0: hidden) for a pane ``available`` cells wide, ``GAP`` before each.

    Each column wants what its widest cell needs, up to its preferred ``width`` (a blank
    column takes its label's width; one whose ``minimum`` is its width is fixed).  When
    that does not fit, the optional columns go first (shrunk, then hidden, the highest
    ``priority`` first): a column that is there is worth more than one cut short.  An
    optional column as important as some required ones (a rate) waits for those to
    shrink to their minimum before it is hidden.  Then the others shrink to their
    ``minimum`` in the same order, and only then below it.  Room left over goes to the columns that were cut,
    most important first; none is made wider than its content (a blank column stays narrow).
    """
    want = [
        c.width if c.minimum >= c.width else min(c.width, max(len(c.label), n))
        for c, n in zip(columns, content, strict=True)
    ]
    widths = list(want)
    floors = [min(c.minimum, w) for c, w in zip(columns, want, strict=True)]
    order = sorted(range(len(columns)), key=lambda n: -columns[n].priority)
    required = [n for n in order if not columns[n].optional]
    top = max((columns[n].priority for n in required), default=0)
    optional = [n for n in order if columns[n].optional and columns[n].priority >= top]
    late = [n for n in order if columns[n].optional and columns[n].priority < top]

    def excess() -> int:
        return sum(w + GAP for w in widths if w) - available

    def shrink(n: int) -> None:
        widths[n] -= max(0, min(widths[n] - floors[n], excess()))

    for n in optional:
        shrink(n)
    for n in optional:
        if excess() > 0:
            widths[n] = 0
    for n in late:  # worth as much as some required: those go to their minimum first
        for m in required:
            if columns[m].priority >= columns[n].priority:
                shrink(m)
        shrink(n)
        if excess() > 0:
            widths[n] = 0
    for n in required:
        widths[n] -= max(0, min(widths[n] - floors[n], excess()))
    for n in required:  # still too wide: the least important go below their minimum
        if excess() > 0:
            widths[n] = max(1, widths[n] - excess())
    spare = -excess()
    for n in reversed(order):
        if spare > 0 and widths[n]:
            grow = max(0, min(spare, content[n] - widths[n]))
            widths[n] += grow
            spare -= grow
    return widths


def sort_cycle(columns: Sequence[Column], default: int | None) -> tuple[int | None, ...]:
    """What ``s`` steps through: the default order first (None: as the host lists them),
    then every other sortable column, left to right from the default."""
    sortable = [n for n, c in enumerate(columns) if c.sortable]
    if default is None:
        return (None, *sortable)
    start = sortable.index(default)
    return tuple(sortable[start:] + sortable[:start])


CONTAINER_SORTS = sort_cycle(CONTAINER_COLUMNS, 1)
HOSTED_CONTAINER_SORTS = sort_cycle(HOSTED_CONTAINER_COLUMNS, 1)
"""Containers by name (natural order); the host panes as the kernel lists them (links by
index, routes in table order) until ``s``."""
INTERFACE_SORTS = sort_cycle(INTERFACE_COLUMNS, None)
ROUTE_SORTS = sort_cycle(ROUTE_COLUMNS, None)
PORT_SORTS = sort_cycle(PORT_COLUMNS, None)


def sort_rows(rows: Sequence[Row], columns: Sequence[Column], by: int | None) -> tuple[Row, ...]:
    """``rows`` ordered by column ``by`` (None: as given), children kept under their row
    and sorted among themselves; ties in natural order of their keys (names), also in a
    descending column (the busiest first, equal ones by name)."""
    if by is None:
        return tuple(rows)
    descending = columns[by].descending

    def key(r: Row) -> tuple[tuple[int, float, NaturalKey], NaturalKey]:
        return (r.sort_key(by, descending), natural_key(r.key))

    groups: list[list[Row]] = []
    for r in rows:
        if r.child and groups:
            groups[-1].append(r)
        else:
            groups.append([r])
    groups.sort(key=lambda g: key(g[0]))
    out: list[Row] = []
    for head, *children in groups:
        out.append(head)
        out.extend(sorted(children, key=key))
    return tuple(out)


EMPTY_KEY = "-"
"""Key of the placeholder row a narrowed pane shows when nothing concerns the container."""

DoctorStatus = Literal["pass", "warn", "fail", "skip"]
MARKS: dict[str, tuple[str, Style]] = {
    "fail": ("✗", "bad"),
    "warn": ("!", "warning"),
    "pass": ("✓", "good"),
    "skip": ("·", "muted"),
}
"""The doctor's worst status as a one-cell mark: a symbol each, so it reads without colour."""
MARK_ORDER = {"fail": 0.0, "warn": 1.0, "pass": 2.0, "skip": 3.0}
"""Sorting by the mark puts the worst first; not known yet sorts last."""


def changed(row: Row, since: bool) -> Row:
    """A container row marked (``Δ`` before its name) when it changed since the snapshot
    compared with ``D``."""
    if not since:
        return row
    cells = (row.cells[0], f"Δ {row.cells[1]}", *row.cells[2:])
    return dataclasses.replace(row, cells=cells)


def marked(row: Row, status: str | None) -> Row:
    """A container row with the doctor's mark in its first cell (blank: not known yet)."""
    symbol, style = MARKS.get(status or "", ("", ""))
    if row.cells[0] == symbol and row.cell_styles[:1] == (style,):
        return row
    order = MARK_ORDER.get(status or "", 4.0)
    return Row(row.key, (symbol, *row.cells[1:]), row.style, (style,), (order,))


def with_rates(row: Row, rate: Rate | None, at: int = RATES_AT) -> Row:
    """``row`` with its receive and transmit rates put in at ``at`` (blank: none known)."""
    cells = row.cells[:at] + (rate_cells(rate) if rate is not None else ("", ""))
    cells += row.cells[at:]
    values = row.sort_values + (None,) * (at - len(row.sort_values))
    numbers = (rate.rx_bytes, rate.tx_bytes) if rate is not None else (None, None)
    blank: tuple[Style, ...] = tuple("" for _ in range(at - len(row.cell_styles)))
    styles = row.cell_styles + blank
    return Row(
        row.key,
        cells,
        row.style,
        (*styles[:at], "", "", *styles[at:]),
        values[:at] + numbers + values[at:],
        row.child,
    )


@dataclass(frozen=True)
class Selection:
    """What the actions work on: the item under the cursor and the container it belongs to.

    ``item`` is what the rules view is asked about (a container, bridge or host interface
    name; a bridge port gives its bridge); ``note`` says so when it is not the row itself.
    """

    kind: Literal["container", "interface", "bridge", "port", "route"]
    item: str
    container: str | None
    note: str = ""


def fit_text(text: str, width: int, middle: bool) -> str:
    """``text`` in ``width`` cells, with one ellipsis where it was cut."""
    if len(text) <= width or width < 1:
        return text
    if width == 1:
        return "…"
    if not middle:
        return text[: width - 1] + "…"
    name, sep, last = text.rpartition(" ")
    if sep and len(last) + 4 <= width:  # ``container eth1``: keep the interface whole
        return fit_text(name, width - len(last) - 1, True) + " " + last
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


def route_key(r: Route) -> str:
    return f"{r.dst}|{r.gateway}|{r.dev}|{r.metric}"


def route_row(r: Route, key: str) -> Row:
    via = r.gateway if r.gateway is not None else "direct"
    return Row(key, (r.dst, via, r.dev or "", r.protocol))


def _unique(keys: list[str]) -> list[str]:
    """Stable, unique keys: the second ``k`` becomes ``k#2``."""
    seen: dict[str, int] = {}
    out = []
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
        out.append(k if seen[k] == 1 else f"{k}#{seen[k]}")
    return out


def route_rows(routes: tuple[Route, ...]) -> tuple[Row, ...]:
    keys = _unique([route_key(r) for r in routes])
    return tuple(route_row(r, k) for r, k in zip(routes, keys, strict=True))


class SnapshotView:
    """One snapshot, indexed once for the panes: rows and who-belongs-to-whom lookups."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.containers = {c.name: c for c in snapshot.containers}
        self.host_interfaces = {i.name: i for i in snapshot.host.interfaces}
        self.bridges = {b.name: b for b in snapshot.bridges}
        self.ports: dict[str, tuple[Bridge, BridgePort]] = {
            p.name: (b, p) for b in snapshot.bridges for p in b.ports
        }
        self.container_rows = {c.name: self._container_row(c) for c in snapshot.containers}
        self.container_measure = tuple(with_rates(r, None) for r in self.container_rows.values())
        """What the Containers columns are fitted to: every row, with its rate cells."""
        self.interface_rows = tuple(self._interface_row(i) for i in snapshot.host.interfaces)
        self._interface_measure = tuple(with_rates(r, None) for r in self.interface_rows)
        self.host_route_rows = route_rows(snapshot.host.routes)
        self.routes_by_key = dict(
            zip((r.key for r in self.host_route_rows), snapshot.host.routes, strict=True)
        )
        self.port_rows = self._port_rows(snapshot.bridges)
        # Lookups so that narrowing to one container costs what that container has, not N.
        self._iface_row = {r.key: (n, r) for n, r in enumerate(self.interface_rows)}
        self._port_row = {r.key: (n, r) for n, r in enumerate(self.port_rows)}
        self._haystack = {c.name: self._haystack_of(c) for c in snapshot.containers}

    # -- rows ---------------------------------------------------------------------------

    @staticmethod
    def _container_row(c: Container) -> Row:
        cells: tuple[str, ...] = (
            "",
            c.name,
            c.state,
            c.runtime,
            network_label(c),
            ", ".join(c.ips),
            ports_label(c),
        )
        host = getattr(c, "host", None)  # a HostedContainer: one host of several
        if host is not None:
            cells = (*cells[:2], host, *cells[2:])
        return Row(c.name, cells, "" if c.running else "muted")

    def _interface_row(self, i: Interface) -> Row:
        owner = f"{i.container} {i.container_interface or ''}".strip() if i.container else ""
        bridge = i.master if i.master else ""
        return Row(
            i.name,
            (i.name, owner, i.state, bridge, primary_address(i.addresses) or ""),
            "" if i.state == "up" or i.kind == "bridge" else "muted",
        )

    @staticmethod
    def _port_rows(bridges: Iterable[Bridge]) -> tuple[Row, ...]:
        rows: list[Row] = []
        for b in bridges:
            addr = primary_address(b.addresses) or ""
            rows.append(Row(f"bridge:{b.name}", (b.name, addr, b.state), "heading"))
            for p in b.ports:
                owner = (
                    f"{p.container} {p.container_interface or ''}".strip() if p.container else ""
                )
                rows.append(Row(f"port:{p.name}", (f"  {p.name}", owner, p.state), child=True))
        return tuple(rows)

    # -- filter -------------------------------------------------------------------------

    def _haystack_of(self, c: Container) -> str:
        words = [c.name, c.image, c.runtime, *c.ips]
        for i in c.interfaces:
            words.append(i.name)
            words.extend(a.split("/", 1)[0] for a in i.addresses)
            if i.peer is not None:
                words.append(i.peer.name)
        return "\n".join(words).lower()

    def container_rows_matching(self, text: str) -> tuple[Row, ...]:
        """Containers whose name, image, runtime, IP or interface name contains ``text``
        (any case)."""
        needle = text.strip().lower()
        return tuple(
            row
            for name, row in self.container_rows.items()
            if not needle or needle in self._haystack[name]
        )

    # -- linking ------------------------------------------------------------------------

    def host_side_names(self, c: Container) -> list[str]:
        """Host links that carry this container's traffic: veth peers and macvlan parents."""
        names: list[str] = []
        for i in c.interfaces:
            for ref in (i.peer, i.parent):
                if ref is not None and ref.name in self.host_interfaces and ref.name not in names:
                    names.append(ref.name)
        return names

    def shares_host_stack(self, c: Container) -> bool:
        return c.running and (c.netns_shared_with == "host" or c.network_mode == "host")

    def interface_row(self, name: str) -> Row | None:
        """The host link ``name``'s row (without rates); None when it is not one."""
        found = self._iface_row.get(name)
        return found[1] if found is not None else None

    def interface_measure_for(self, rows: tuple[Row, ...]) -> tuple[Row, ...]:
        """What the Interfaces columns are fitted to when they show ``rows``: those rows
        with blank rate cells (the rate columns' width is fixed), so that a rates tick
        can patch its cells in (``Pane.patch_rows``); made once for every host link."""
        if rows is self.interface_rows:
            return self._interface_measure
        return tuple(with_rates(r, None) for r in rows)

    def interface_rows_for(self, c: Container) -> tuple[Row, ...]:
        if self.shares_host_stack(c):
            return self.interface_rows
        found = sorted(self._iface_row[n] for n in self.host_side_names(c) if n in self._iface_row)
        rows = tuple(r for _, r in found)
        return rows or (
            Row(EMPTY_KEY, (self._why_nothing(c, "host interface"), "", "", "", ""), "muted"),
        )

    def route_rows_for(self, c: Container) -> tuple[Row, ...]:
        if self.shares_host_stack(c):
            return self.host_route_rows
        return route_rows(c.routes) or (
            Row(EMPTY_KEY, (self._why_nothing(c, "route"), "", "", ""), "muted"),
        )

    def port_rows_for(self, c: Container) -> tuple[Row, ...]:
        if self.shares_host_stack(c):
            return self.port_rows
        keys: set[str] = set()
        for name in self.host_side_names(c):
            if name in self.ports:
                keys.update((f"bridge:{self.ports[name][0].name}", f"port:{name}"))
        rows = tuple(r for _, r in sorted(self._port_row[k] for k in keys if k in self._port_row))
        return rows or (Row(EMPTY_KEY, (self._why_nothing(c, "bridge port"), "", ""), "muted"),)

    @staticmethod
    def _why_nothing(c: Container, what: str) -> str:
        if not c.running:
            return f"(stopped: no {what}s)"
        if c.network_mode == "none":
            return f"(none: no {what}s)"
        return f"(no {what}s)"

    def selection(self, pane: str, key: str | None, scope: Container | None) -> Selection | None:
        """The item under the cursor of ``pane`` (``scope``: the container the host panes
        are narrowed to, for the routes pane)."""
        if pane == "containers":
            c = self.containers.get(key or "")
            return Selection("container", c.name, c.name) if c is not None else None
        if key is None or key == EMPTY_KEY:
            return None
        if pane == "interfaces":
            iface = self.host_interfaces.get(key)
            if iface is None:
                return None
            kind: Literal["interface", "bridge"] = "bridge" if key in self.bridges else "interface"
            return Selection(kind, key, iface.container)
        if pane == "ports":
            if key.startswith("bridge:"):
                name = key.removeprefix("bridge:")
                return Selection("bridge", name, None) if name in self.bridges else None
            found = self.ports.get(key.removeprefix("port:"))
            if found is None:
                return None
            b, p = found
            owner = f" (container {p.container})" if p.container else ""
            note = f"{p.name} is a port of {b.name}{owner}: these are the rules of {b.name}"
            return Selection("port", b.name, p.container, note)
        if scope is not None and not self.shares_host_stack(scope):
            return Selection("route", scope.name, scope.name, f"a route of {scope.name}")
        route = self.routes_by_key.get(key)
        if route is None or route.dev is None or route.dev not in self.host_interfaces:
            return None
        note = f"the route to {route.dst} leaves by {route.dev}"
        kind = "bridge" if route.dev in self.bridges else "interface"
        return Selection(kind, route.dev, None, note)

    def copy_values(self, pane: str, key: str | None, scope: Container | None) -> list[Copyable]:
        """What ``y`` copies from the row under the cursor, in the order repeated presses
        step through: its name first, then addresses, MACs and the veths that carry it."""
        if key is None or key == EMPTY_KEY:
            return []
        out: list[Copyable] = []

        def add(label: str, value: str | None) -> None:
            if value and (label, value) not in out:
                out.append((label, value))

        if pane == "containers":
            c = self.containers.get(key)
            if c is None:
                return []
            add("name", c.name)
            for ip in c.ips:
                add("address", ip)
            for i in c.interfaces:
                if not is_loopback(i):
                    add(f"MAC of {i.name}", i.mac)
            for veth in self.host_side_names(c):
                add("host veth", veth)
            add("id", c.id[:12])
        elif pane == "interfaces" or (pane == "ports" and key.startswith("bridge:")):
            iface = self.host_interfaces.get(key.removeprefix("bridge:"))
            if iface is None:
                return []
            add("name", iface.name)
            for a in iface.addresses:
                add("address", a.split("/", 1)[0])
            add("MAC", iface.mac)
            add("container", iface.container)
        elif pane == "ports":
            found = self.ports.get(key.removeprefix("port:"))
            if found is None:
                return []
            b, p = found
            add("name", p.name)
            host = self.host_interfaces.get(p.name)
            add("MAC", host.mac if host is not None else None)
            add("container", p.container)
            add("bridge", b.name)
        else:
            route = self.route_for(key, scope)
            if route is None:
                return []
            add("destination", route.dst)
            add("gateway", route.gateway)
            add("device", route.dev)
        return out

    def route_for(self, key: str, c: Container | None) -> Route | None:
        if c is not None and not self.shares_host_stack(c):
            return dict(zip((r.key for r in route_rows(c.routes)), c.routes, strict=True)).get(key)
        return self.routes_by_key.get(key)

    # -- detail -------------------------------------------------------------------------

    def path_in_words(self, c: Container, i: Interface) -> str:
        """The shared path text, plus where a veth's traffic ends up: the host, unless its
        other end is in another workload (the host is not on that path)."""
        text = interface_path(self.snapshot, c, i)
        to_host = i.peer is not None and i.peer.workload is None
        return f"{text} -> host" if to_host else text

    def container_detail(self, c: Container) -> list[Line]:
        lines: list[Line] = [
            ((c.name, "title"), (f"  {c.state}  {c.runtime}  {c.id[:12]}", "muted")),
            ((f"image {c.image}", "muted"),),
            ((container_summary(self.snapshot, c), ""),),
        ]
        ifaces = c.interfaces
        if c.netns_shared_with not in (None, "host"):
            end = self.snapshot.namespace_owner(c)
            owner = end if end is not c else None
            holder = owner.name if owner is not None else c.netns_shared_with
            lines.append(((f"Interfaces of {holder} (shared namespace)", "heading"),))
            ifaces = owner.interfaces if owner is not None else c.interfaces
            if owner is None:
                lines.append(((f"{c.netns_shared_with} is not in this snapshot", "warning"),))
        elif self.shares_host_stack(c):
            lines.append(
                (
                    (
                        "Its traffic uses the host's own interfaces and routes (the panes show the host's).",
                        "muted",
                    ),
                )
            )
        elif c.running and ifaces:
            lines.append((("Interfaces", "heading"),))
        owner_c = self.snapshot.namespace_owner(c)
        for i in ifaces:
            lines.extend(self._interface_ends(owner_c, i))
        if c.networks:
            lines.append((("Networks", "heading"),))
            for n in c.networks:
                facts = [n.name]
                if n.ip:
                    facts.append(f"ip {n.ip}")
                if n.gateway:
                    facts.append(f"gw {n.gateway}")
                if n.mac:
                    facts.append(f"mac {n.mac}")
                lines.append(((" " + "  ".join(facts), ""),))
        if c.ports:
            lines.append((("Ports", "heading"),))
            lines.append(((" " + ports_label(c), ""),))
        return lines

    def _interface_ends(self, c: Container, i: Interface) -> list[Line]:
        lines: list[Line] = [((" " + self.path_in_words(c, i), "path"),)]
        if is_loopback(i):
            return lines
        lines.append(((f"   {i.name}: {_link_facts(i)}", "muted"),))
        if i.peer is not None and i.peer.workload is not None:
            other = self.snapshot.container(i.peer.workload)
            ends = other.interfaces if other is not None else ()
            end = next((x for x in ends if x.ifindex == i.peer.ifindex), None)
            facts = _link_facts(end) if end is not None else "not read"
            lines.append(((f"   {i.peer.name} in {i.peer.workload}: {facts}", "muted"),))
        elif i.peer is not None:
            host = self.host_interfaces.get(i.peer.name)
            facts = _link_facts(host) if host is not None else "not found on the host"
            lines.append(((f"   {i.peer.name}: {facts}", "muted"),))
        elif i.parent is not None:
            lines.append(((f"   {i.kind or 'link'} on host device {i.parent.name}", "muted"),))
        return lines

    def interface_detail(self, i: Interface) -> list[Line]:
        lines: list[Line] = [
            ((i.name, "title"), (f"  {i.kind or 'device'}  host interface", "muted")),
            ((_link_facts(i), ""),),
        ]
        if i.addresses:
            lines.append(((" ".join(i.addresses), "muted"),))
        if i.master:
            lines.append(((f"on bridge {i.master}", ""),))
        lines.extend(self._owner_lines(i.container, i.container_interface))
        bridge = self.bridges.get(i.name)
        if bridge is not None:
            lines.extend(self._bridge_lines(bridge))
        users = natural_sorted(
            [c.name for c in self.containers.values() if i.name in self.host_side_names(c)]
        )
        if not i.container and users:
            lines.append(((f"parent of: {', '.join(users)}", ""),))
        return lines

    def _owner_lines(self, container: str | None, inner: str | None) -> list[Line]:
        if not container:
            return []
        lines: list[Line] = [
            (("Container", "heading"),),
            ((f" {container} ({inner or '?'})", "title"),),
        ]
        c = self.containers.get(container)
        if c is not None:
            for ci in c.interfaces:
                if ci.name == inner:
                    lines.append(((" " + self.path_in_words(c, ci), "path"),))
            lines.append(((f" {container_summary(self.snapshot, c)}", "muted"),))
        lines.append((("enter", "key"), (f" goes to {container}", "muted")))
        return lines

    def _bridge_lines(self, b: Bridge) -> list[Line]:
        lines: list[Line] = [((f"Bridge ({'stp on' if b.stp else 'stp off'})", "heading"),)]
        if b.addresses:
            lines.append(((" " + " ".join(b.addresses), ""),))
        for p in b.ports:
            owner = f"  {p.container} {p.container_interface or ''}" if p.container else ""
            lines.append(((f" {p.name} {p.state}{owner}", "muted"),))
        if not b.ports:
            lines.append(((" no ports", "muted"),))
        return lines

    def port_detail(self, key: str) -> list[Line]:
        if key.startswith("bridge:"):
            b = self.bridges.get(key.removeprefix("bridge:"))
            if b is None:
                return []
            lines: list[Line] = [((b.name, "title"), (f"  bridge {b.state}", "muted"))]
            return lines + self._bridge_lines(b)
        found = self.ports.get(key.removeprefix("port:"))
        if found is None:
            return []
        b, p = found
        lines = [
            ((p.name, "title"), (f"  port of {b.name}", "muted")),
            ((f"port state {p.state}", ""),),
        ]
        host = self.host_interfaces.get(p.name)
        if host is not None:
            lines.append(((_link_facts(host), "muted"),))
        return lines + self._owner_lines(p.container, p.container_interface)

    def route_detail(self, r: Route, where: str) -> list[Line]:
        head = f"{r.dst} via {r.gateway}" if r.gateway else f"{r.dst} direct (no gateway)"
        lines: list[Line] = [((head, "title"),), ((f"in the main table of {where}", "muted"),)]
        if r.is_direct:
            lines.append(
                ((f"on the link of {r.dev or '?'}: destinations are reached directly", ""),)
            )
        else:
            lines.append(((f"sent to gateway {r.gateway} through {r.dev or '?'}", ""),))
        extra = [f"scope {r.scope}", f"proto {r.protocol}"]
        if r.metric is not None:
            extra.append(f"metric {r.metric}")
        lines.append(((" ".join(extra), "muted"),))
        return lines


def _link_facts(i: Interface) -> str:
    facts = [i.state]
    if i.mac:
        facts.append(f"mac {i.mac}")
    if i.mtu is not None:
        facts.append(f"mtu {i.mtu}")
    return "  ".join(facts)


HANGING_INDENT = 2
"""Cells a wrapped line's continuation sits right of the line's own indent."""


def wrap_line(line: Line, width: int) -> list[Line]:
    """``line`` cut into lines of at most ``width`` cells at spaces (inside a word only
    when a word is longer than a line); the continuations keep the line's indent plus
    ``HANGING_INDENT``, so a wrapped path or rule still reads as one item."""
    text = "".join(t for t, _ in line)
    if width <= 0 or len(text) <= width:
        return [line]
    indent = min(len(text) - len(text.lstrip(" ")) + HANGING_INDENT, width // 2)
    ranges: list[tuple[int, int]] = []
    pos, room = 0, width
    while len(text) - pos > room:
        cut = text.rfind(" ", pos + 1, pos + room + 1)
        if cut <= pos:
            ranges.append((pos, pos + room))
            pos += room
        else:
            ranges.append((pos, cut))
            pos = cut + 1
        while pos < len(text) and text[pos] == " ":
            pos += 1
        room = width - indent
    if pos < len(text):
        ranges.append((pos, len(text)))
    spans: list[tuple[int, int, Style]] = []
    at = 0
    for t, style in line:
        spans.append((at, at + len(t), style))
        at += len(t)
    out: list[Line] = []
    for n, (start, end) in enumerate(ranges):
        pieces: list[Segment] = [(" " * indent, "")] if n else []
        for a, b, style in spans:
            if a < end and b > start:
                pieces.append((text[max(a, start) : min(b, end)], style))
        out.append(tuple(pieces))
    return out


def wrap_lines(lines: Iterable[Line], width: int) -> list[Line]:
    return [part for line in lines for part in wrap_line(line, width)]


def plain(lines: Iterable[Line]) -> str:
    """The detail as plain text (tests, and copy-paste)."""
    return "\n".join("".join(text for text, _ in line) for line in lines)
