"""The capture screen: packets on the selection's interfaces, streaming live.

The filter comes first (empty: everything); Enter starts.  One thread worker a run
opens the handles, reads, keeps the last packets in a ring, and a tenth of a second at a
time posts one immutable ``CaptureTick``: the new lines, packets/s and the kernel's
drops.  It decodes only the packets it shows: at a high rate a sample ("12,000 pkt/s,
showing 1 in 24"), so the screen never falls behind and the UI thread only appends
lines.  Nothing is posted while nothing changes.  Esc (or closing the screen, or
quitting) sets the run's stop Event: the worker notices within a read slice and closes
every handle.  Space pauses the view (the capture goes on); ``w`` writes the ring as
pcapng, asking for a path as export does.
"""

from __future__ import annotations

import io
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Log, Static

from inspector.actions.capture import RING_PACKETS, PacketRing
from inspector.actions.capture_plan import CaptureError
from inspector.model.snapshot import Snapshot
from inspector.render.atomic import write_bytes_atomic
from inspector.render.packet import packet_line, shown
from inspector.render.pcapng import PcapngWriter
from inspector.tui.backends import Backends
from inspector.tui.widgets import FittedFooter

if TYPE_CHECKING:
    from inspector.actions.capture import Packet
    from inspector.tui.backends import CaptureSource

READ_SLICE_S = 0.1
"""One read, one tick: the longest a stop or a new line waits."""
LINES_PER_SECOND = 500
"""Shown at most; above it, one packet in N is shown."""
LOG_LINES = 2_000
COUNTS_EVERY_S = 1.0
"""How often an idle capture asks the kernel for its drops."""


class CaptureStarted(Message):
    def __init__(self, run: int, labels: tuple[str, ...], linktypes: tuple[int, ...]) -> None:
        super().__init__()
        self.run = run
        self.labels = labels
        self.linktypes = linktypes


@dataclass(frozen=True)
class TickData:
    lines: tuple[str, ...]
    total: int
    rate: float
    step: int
    dropped: int


class CaptureTick(Message):
    def __init__(self, run: int, data: TickData) -> None:
        super().__init__()
        self.run = run
        self.data = data


class CaptureEnded(Message):
    def __init__(self, run: int, error: str | None, summary: str) -> None:
        super().__init__()
        self.run = run
        self.error = error
        self.summary = summary


class Meter:
    """Packets/s over the last second, and which packets to show: every ``step``-th,
    ``step`` chosen so that at most ``LINES_PER_SECOND`` lines a second are shown."""

    def __init__(self) -> None:
        self._window: deque[tuple[float, int]] = deque()
        self.total = 0

    def add(self, count: int, now: float) -> tuple[float, int]:
        self.total += count
        self._window.append((now, count))
        while self._window and now - self._window[0][0] >= 1.0:
            self._window.popleft()
        rate = float(sum(n for _, n in self._window))
        return rate, max(1, math.ceil(rate / LINES_PER_SECOND))


def status_text(total: int, rate: float, step: int, dropped: int, state: str) -> str:
    """``1,234 packets · 12,000 pkt/s, showing 1 in 24 · 0 dropped by the kernel`` (no
    rate once stopped)."""
    sampled = f", showing 1 in {step}" if step > 1 else ""
    rate_text = "" if state == "stopped" else f" · {rate:,.0f} pkt/s{sampled}"
    return f"{state}  {total:,} packets{rate_text} · {dropped:,} dropped by the kernel"


class CaptureScreen(ModalScreen[None]):
    """Capture on ``item`` (a workload: all its interfaces; or a host interface)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", id="capture_stop"),
        Binding("escape", "close", "Close", id="capture_close"),
        Binding("space", "pause", "Pause", id="capture_pause"),
        Binding("w", "save", "Save pcapng", id="capture_save"),
        Binding("f", "edit_filter", "Filter", id="capture_filter"),
        Binding("q", "close_now", "Close", show=False),
    ]

    def __init__(self, snapshot: Snapshot, item: str, backends: Backends) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.item = item
        self.backends = backends
        self.ring = PacketRing(RING_PACKETS)
        self.running = False
        self.paused = False
        self.run_number = 0
        self.labels: tuple[str, ...] = ()
        self.linktypes: tuple[int, ...] = ()
        self._stop = threading.Event()
        self._tick = TickData((), 0, 0.0, 1, 0)
        self._state = "ready"

    def compose(self) -> ComposeResult:
        with Vertical(id="capture-box") as box:
            box.border_title = Content(f"Capture on {shown(self.item)}")  # never markup
            with Horizontal(id="capture-filter-row"):
                yield Label("Filter ", id="capture-filter-label")
                yield Input(
                    placeholder="pcap-filter, e.g. icmp or tcp port 80 (empty: every packet)",
                    id="capture-filter",
                    compact=True,
                )
            yield Log(id="capture-log", max_lines=LOG_LINES, auto_scroll=True)
            yield Static("", id="capture-status", markup=False)
        yield FittedFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.filter_field.focus()
        self._show_status("type a filter (or nothing) and press Enter")

    def on_unmount(self) -> None:
        self._stop.set()

    @property
    def filter_field(self) -> Input:
        return self.query_one("#capture-filter", Input)

    @property
    def log_view(self) -> Log:
        return self.query_one("#capture-log", Log)

    # -- running ------------------------------------------------------------------------

    @on(Input.Submitted, "#capture-filter")
    def _filter_submitted(self) -> None:
        self.start(self.filter_field.value.strip())

    def start(self, expression: str) -> None:
        """(Re)start with ``expression``: a previous run is told to stop first."""
        self._stop.set()
        self._stop = threading.Event()
        self.run_number += 1
        self.running = True
        self.paused = False
        self.ring = PacketRing(RING_PACKETS)
        self._tick = TickData((), 0, 0.0, 1, 0)
        self.log_view.clear()
        self.log_view.focus()
        self._show_status("opening the interfaces")
        self.refresh_bindings()
        self._capture(self.run_number, expression, self._stop, self.ring)

    @work(thread=True, exclusive=True, group="capture", description="capture")
    def _capture(self, run: int, expression: str, stop: threading.Event, ring: PacketRing) -> None:
        capturer = self.backends.capture
        try:
            if capturer is None:
                raise CaptureError("capture needs the live host (this is a saved snapshot)")
            source = capturer(self.snapshot, self.item, expression)
        except CaptureError as exc:
            self.post_message(CaptureEnded(run, str(exc), ""))
            return
        except Exception as exc:  # a surprise must end up on the screen, not kill the app
            self.post_message(CaptureEnded(run, f"{type(exc).__name__}: {exc}", ""))
            return
        try:
            ended = self._read(run, source, stop, ring)
        finally:
            source.close()
        self.post_message(ended)  # "stopped" once the interfaces are closed, not before

    def _read(
        self, run: int, source: CaptureSource, stop: threading.Event, ring: PacketRing
    ) -> CaptureEnded:
        labels = tuple(t.label for t in source.plan.taps)
        linktypes = tuple(source.linktypes)
        self.post_message(CaptureStarted(run, labels, linktypes))
        meter = Meter()
        last = TickData((), 0, 0.0, 1, 0)
        counted_at = 0.0
        dropped = 0
        while True:
            stopping = stop.is_set() or source.problem is not None
            batch = source.drain() if stopping else source.read(READ_SLICE_S)
            ring.extend(batch)
            now = time.monotonic()
            rate, step = meter.add(len(batch), now)
            if batch or now - counted_at >= COUNTS_EVERY_S or stopping:
                dropped, counted_at = source.counts().dropped, now
            lines = tuple(
                packet_line(p.ts_us, labels[p.tap], p.outbound, p.data, p.length, linktypes[p.tap])
                for n, p in enumerate(batch, meter.total - len(batch))
                if n % step == 0
            )
            tick = TickData(lines, meter.total, rate, step, dropped)
            if lines or (tick.total, tick.rate, tick.step, tick.dropped) != (
                last.total,
                last.rate,
                last.step,
                last.dropped,
            ):
                self.post_message(CaptureTick(run, tick))
                last = tick
            if stopping:
                break
        counts = source.counts()
        summary = (
            f"{meter.total:,} packets captured, {counts.received:,} received by filter, "
            f"{counts.dropped:,} dropped by the kernel"
        )
        return CaptureEnded(run, source.problem, summary)

    @on(CaptureStarted)
    def _started(self, message: CaptureStarted) -> None:
        if message.run != self.run_number:
            return
        self.labels = message.labels
        self.linktypes = message.linktypes
        self._state = "capturing"
        self.log_view.write_line(f"capturing on {', '.join(shown(x) for x in message.labels)}")
        self._show_tick()

    @on(CaptureTick)
    def _ticked(self, message: CaptureTick) -> None:
        if message.run != self.run_number:
            return
        self._tick = message.data
        if message.data.lines and not self.paused:
            self.log_view.write_lines(message.data.lines)
        self._show_tick()

    @on(CaptureEnded)
    def _ended(self, message: CaptureEnded) -> None:
        if message.run != self.run_number:
            return
        self.running = False
        self._state = "stopped"
        if message.error:
            self.log_view.write_line(f"capture: {message.error}")
        if message.summary:
            self.log_view.write_line(message.summary)
        self._show_tick()
        self.refresh_bindings()

    def _show_tick(self) -> None:
        t = self._tick
        state = "paused (still capturing)" if self.paused and self.running else self._state
        self._show_status(status_text(t.total, t.rate, t.step, t.dropped, state))

    def _show_status(self, text: str) -> None:
        self.query_one("#capture-status", Static).update(text)

    # -- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        editing = self.filter_field.has_focus
        if action == "stop":
            return self.running
        if action == "close":
            return not self.running
        if action == "pause":
            return self.running and not editing
        if action == "save":
            return not editing and (self.running or len(self.ring) > 0)
        if action == "edit_filter":
            return not editing
        if action == "close_now":
            return not editing
        return True

    def action_stop(self) -> None:
        self._stop.set()
        self._state = "stopping"
        self._show_tick()

    def action_close(self) -> None:
        self._stop.set()
        self.dismiss(None)

    def action_close_now(self) -> None:
        self.action_close()

    def action_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.log_view.write_line("(resumed: lines while paused are in the ring, w saves them)")
        self._show_tick()

    def action_edit_filter(self) -> None:
        self.filter_field.focus()
        self.refresh_bindings()

    def action_save(self) -> None:
        packets = self.ring.packets()
        if not packets or not self.labels:
            self.notify("nothing captured yet", severity="warning")
            return
        labels, linktypes = self.labels, self.linktypes

        def chosen(path: str | None) -> None:
            if path:
                self._save(path, packets, labels, linktypes)

        self.app.push_screen(SaveCaptureAsk(default_capture_name(self.item)), chosen)

    @work(thread=True, group="capture-save", description="capture save")
    def _save(
        self,
        path: str,
        packets: tuple[Packet, ...],
        labels: tuple[str, ...],
        linktypes: tuple[int, ...],
    ) -> None:
        buffer = io.BytesIO()
        PcapngWriter(buffer, labels, linktypes, 262_144).write(packets)
        try:
            written = write_bytes_atomic(path, buffer.getvalue()).resolve()
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"cannot write {path}: {exc.strerror or exc}", severity="error"
            )
            return
        self.app.call_from_thread(
            self.notify, f"wrote {len(packets):,} packets to {written}", title="Saved"
        )


def default_capture_name(item: str) -> str:
    """``cnet-<item>-<UTC timestamp>.pcapng``, the item's name made safe for a path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", item) or "capture"
    return f"cnet-{safe}-{stamp}.pcapng"


class SaveCaptureAsk(ModalScreen[str | None]):
    """The path to write the captured packets to."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="capture_save_cancel"),
    ]

    def __init__(self, default: str) -> None:
        super().__init__()
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="capture-save-box") as box:
            box.border_title = "Save the captured packets"
            yield Label("Path of the pcapng file (relative to the current directory)")
            yield Input(self._default, id="capture-save-path")

    def on_mount(self) -> None:
        self.query_one("#capture-save-path", Input).focus()

    @on(Input.Submitted, "#capture-save-path")
    def _chosen(self) -> None:
        path = self.query_one("#capture-save-path", Input).value.strip()
        if not path:
            self.notify("give a path to write to", severity="warning")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
