"""``cnet capture``: packets on a workload's interfaces, as lines or as pcapng."""

from __future__ import annotations

import argparse
import os
import select
import signal
import stat
import sys
import threading
import time
from typing import IO, Any

from inspector.actions.capture import Capture, Packet, check_filter, check_snaplen
from inspector.actions.capture_plan import CaptureError, plan_capture
from inspector.commands.shared import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, print_warnings
from inspector.render.atomic import open_growing
from inspector.render.packet import packet_line, shown
from inspector.render.pcapng import PcapngWriter

READ_SLICE_S = 0.1
"""How late a stop (Ctrl-C, the end of --duration, a closed pipe) may be noticed."""
MAX_COUNT = 100_000_000


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_COUNT}: {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 10**9:  # also refuses NaN and infinity
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0: {text!r}")
    return value


def _bytes(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "capture",
        help="capture packets on a workload's interfaces (lines, or pcapng for Wireshark)",
        description=(
            "Capture packets inside ITEM's network namespace: a workload (every interface, "
            "lo included, unless -i picks), a host interface, veth or bridge, or an engine "
            "network (its bridge). Without -w, one line a packet as tcpdump -n prints it; "
            "with -w, pcapng with one interface named WORKLOAD/IFACE each (-w - to stdout: "
            "| tshark -r - or | wireshark -k -i -). Ends at COUNT packets, after SECONDS, or "
            "at Ctrl-C, with the kernel's counts. Interfaces are never put in promiscuous "
            "mode unless --promisc says so. Exit 1 when an interface went away."
        ),
    )
    p.add_argument("item", metavar="ITEM", help="workload, host interface or engine network")
    p.add_argument(
        "-i",
        dest="interfaces",
        action="append",
        default=[],
        metavar="IFACE",
        help="an interface of the workload (repeat for more; default: all of them)",
    )
    p.add_argument("-f", dest="filter", default="", metavar="FILTER", help="pcap-filter expression")
    p.add_argument("-w", dest="output", metavar="FILE", help="write pcapng to FILE (- for stdout)")
    p.add_argument("-c", dest="count", type=_count, metavar="COUNT", help="stop after COUNT")
    p.add_argument("--duration", type=_seconds, metavar="SECONDS", help="stop after SECONDS")
    p.add_argument(
        "--snaplen",
        type=_bytes,
        default=262_144,
        metavar="BYTES",
        help="bytes kept of each packet (default 262144: all)",
    )
    p.add_argument("--promisc", action="store_true", help="put the interfaces in promiscuous mode")


def run(args: argparse.Namespace) -> int:
    try:
        check_snaplen(args.snaplen)
        check_filter(args.filter, args.snaplen)
    except CaptureError as exc:
        raise CliError(str(exc), exc.code) from None
    if args.output == "-" and sys.stdout.isatty():
        raise CliError("-w - writes pcapng: pipe it (| tshark -r -) or redirect it", EXIT_USAGE)
    capture = _open(args)
    try:
        return _run(capture, args)
    finally:
        capture.close()


def _open(args: argparse.Namespace) -> Capture:
    from inspector.live.runner import collect_snapshot  # why: start-up (pyroute2, docker)

    snapshot = collect_snapshot()
    networks: list[dict[str, Any]] = []
    if snapshot.container(args.item) is None and snapshot.host_interface(args.item) is None:
        from inspector.collect.engine import read_networks  # why: start-up (docker)

        networks = read_networks()
    try:
        plan = plan_capture(snapshot, args.item, args.interfaces, networks)
        return Capture(plan, args.filter, args.snaplen, args.promisc)
    except CaptureError as exc:
        if snapshot.container(args.item) is None:
            print_warnings(snapshot)  # e.g. Docker unreachable: say why ITEM is unknown
        raise CliError(str(exc), exc.code) from None


def _run(capture: Capture, args: argparse.Namespace) -> int:
    writer: PcapngWriter | None = None
    stream: IO[bytes] | None = None
    if args.output is not None:
        stream, writer = _writer(capture, args.output)
    stop = threading.Event()
    handlers = {s: signal.signal(s, lambda *_: stop.set()) for s in _STOP_SIGNALS}
    labels = [shown(t.label) for t in capture.plan.taps]
    print(f"cnet: capturing on {', '.join(labels)}; Ctrl-C stops", file=sys.stderr, flush=True)
    captured = 0
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while not stop.is_set() and not _reader_gone(stream):
            wait = READ_SLICE_S
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            captured += _emit(capture, writer, capture.read(wait), args.count, captured)
            if capture.problem is not None or (args.count is not None and captured >= args.count):
                break
        captured += _emit(capture, writer, capture.drain(), args.count, captured)
    except BrokenPipeError:
        _quiet_stdout()  # the reader left (tshark -c, head): end as tcpdump does
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    finally:
        for s, previous in handlers.items():
            signal.signal(s, previous)
        if stream is not None and stream is not sys.stdout.buffer:
            stream.close()
    counts = capture.counts()
    if capture.problem is not None:
        print(f"cnet: {capture.problem}", file=sys.stderr)
    print(
        f"{captured} packets captured, {counts.received} received by filter, "
        f"{counts.dropped} dropped by kernel",
        file=sys.stderr,
    )
    return EXIT_FAILED if capture.problem is not None else EXIT_OK


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Each ends the capture with the counts and a complete file."""


def _emit(
    capture: Capture,
    writer: PcapngWriter | None,
    batch: list[Packet],
    count: int | None,
    captured: int,
) -> int:
    """Write ``batch`` (cut to what ``count`` still allows) as pcapng or lines: how many."""
    if count is not None:
        batch = batch[: max(0, count - captured)]
    if writer is not None:
        writer.write(batch)
    elif batch:
        _print_lines(capture, batch)
    return len(batch)


def _writer(capture: Capture, output: str) -> tuple[IO[bytes], PcapngWriter]:
    try:
        stream: IO[bytes] = sys.stdout.buffer if output == "-" else open_growing(output)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
    names = [t.label for t in capture.plan.taps]
    try:
        return stream, PcapngWriter(stream, names, capture.linktypes, capture.snaplen)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None


def _print_lines(capture: Capture, batch: list[Packet]) -> None:
    taps, linktypes = capture.plan.taps, capture.linktypes
    lines = [
        packet_line(p.ts_us, taps[p.tap].label, p.outbound, p.data, p.length, linktypes[p.tap])
        for p in batch
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _reader_gone(stream: IO[bytes] | None) -> bool:
    """Whether whoever reads stdout has gone (the ssh session of ``cnet --host`` ended,
    the pipe's reader exited): a pipe or socket whose other end closed polls as an error
    or a hang-up, before any write fails."""
    if stream is not None and stream is not sys.stdout.buffer:
        return False
    try:
        fd = sys.stdout.fileno()
        if not (stat.S_ISFIFO(_mode(fd)) or stat.S_ISSOCK(_mode(fd))):
            return False
    except (OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, 0)  # errors and hang-ups are always reported
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))


def _mode(fd: int) -> int:
    return os.fstat(fd).st_mode


def _quiet_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's last flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
