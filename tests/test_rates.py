"""Rates from recorded counter samples: per interface, per container, resets, history."""

from __future__ import annotations

import threading
from dataclasses import fields

from inspector.collect.counters import Counters, parse_net_dev
from inspector.live.rates import (
    HISTORY_S,
    Rate,
    RateMeter,
    Rates,
    Sample,
    human_rate,
    rate_between,
    rates_between,
    sparkline,
)
from inspector.live.sampler import LiveRates, sample_of
from inspector.model.snapshot import Snapshot
from tests.tui_fakes import multi_container

# Two reads of a container's /proc/PID/net/dev, 2 s apart (recorded on the lab's macvlan one).
NET_DEV_1 = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     560       8    0    0    0     0          0         0      560       8    0    0    0     0       0          0
  eth0:   14230     129    0    2    0     0          0         0     9816      96    0    0    0     0       0          0
"""
NET_DEV_2 = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     560       8    0    0    0     0          0         0      560       8    0    0    0     0       0          0
  eth0:   16270     149    0    4    0     0          0         0    11856     116    1    0    0     0       0          0
"""


def test_rate_has_the_fields_of_counters_in_their_order() -> None:
    assert [f.name for f in fields(Rate)] == [f.name for f in fields(Counters)]


def test_rates_of_a_recorded_namespace_table() -> None:
    before, after = parse_net_dev(NET_DEV_1)["eth0"], parse_net_dev(NET_DEV_2)["eth0"]
    r = rate_between(before, after, 2.0)
    assert r == Rate(1020.0, 1020.0, 10.0, 10.0, 1.0, 0.0, 0.0, 0.5)
    assert (r.total_bytes, r.dropped, r.errors) == (2040.0, 1.0, 0.5)


def test_a_counter_going_down_is_a_reset_not_a_negative_rate() -> None:
    before = Counters(10_000, 5_000, 100, 50)
    assert rate_between(before, Counters(300, 5_100, 3, 51), 1.0) is None
    assert rate_between(before, before, 0.0) is None


def _sample(at: float, eth0: int, ifindex: int = 7, host: int = 0) -> Sample:
    c = Counters(eth0, eth0 // 2, eth0 // 100, eth0 // 200)
    return Sample(
        at,
        {("web", "eth0"): c, ("web", "lo"): Counters(9999 * int(at), 0, 0, 0)},
        {"veth1": c.swapped(), "eth0": Counters(host, host, 0, 0)},
        {("web", "eth0"): ifindex, ("web", "lo"): 1, "veth1": ifindex, "eth0": 2},
    )


def test_the_meter_gives_rates_per_interface_and_per_container_without_loopback() -> None:
    meter = RateMeter()
    assert meter.add(_sample(100.0, 0)) is None  # one sample: no rate yet
    rates = meter.add(_sample(101.0, 20_000, host=4000))
    assert rates is not None
    assert rates.interfaces[("web", "eth0")].rx_bytes == 20_000
    assert rates.interfaces[("web", "lo")].rx_bytes > 0
    assert rates.containers["web"] == rates.interfaces[("web", "eth0")]  # lo left out
    assert rates.host["veth1"].tx_bytes == 20_000  # the host end, swapped
    assert rates.host["eth0"].total_bytes == 8000


def test_a_recreated_interface_has_no_rate_for_one_step_then_counts_again() -> None:
    meter = RateMeter()
    meter.add(_sample(100.0, 50_000))
    # The container restarted: a new veth (another ifindex) whose counters are *higher*.
    after = meter.add(_sample(101.0, 90_000, ifindex=9))
    assert after is not None
    assert ("web", "eth0") not in after.interfaces and "veth1" not in after.host
    assert "web" not in after.containers
    # Counters going down (recreated with the same ifindex) are a reset too.
    down = meter.add(_sample(102.0, 1_000, ifindex=9))
    assert down is not None and ("web", "eth0") not in down.interfaces
    again = meter.add(_sample(103.0, 3_000, ifindex=9))
    assert again is not None and again.containers["web"].rx_bytes == 2_000
    every = [r for rates in (after, down, again) for r in rates.interfaces.values()]
    assert all(v >= 0 for r in every for v in vars(r).values())


def test_samples_too_close_together_are_skipped() -> None:
    meter = RateMeter()
    meter.add(_sample(100.0, 0))
    assert meter.add(_sample(100.05, 10)) is None
    rates = meter.add(_sample(101.0, 1000))
    assert rates is not None and rates.containers["web"].rx_bytes == 1000


def test_the_history_keeps_the_last_minute() -> None:
    meter = RateMeter()
    rates: Rates | None = None
    for t in range(200):
        rates = meter.add(_sample(float(t), 1000 * t * t))
    assert rates is not None
    assert len(rates.history) == int(HISTORY_S)
    assert rates.history[0].at > rates.at - HISTORY_S
    values = rates.container_history("web")
    assert values == sorted(values) and values[-1] == rates.containers["web"].total_bytes
    assert rates.container_history("gone") == [0.0] * len(values)


def test_sparkline_scales_to_the_peak_and_fits_its_cells() -> None:
    assert sparkline([0.0, 0.0], 30) == "▁▁"
    assert sparkline([], 30) == ""
    line = sparkline([float(v) for v in range(60)], 30, 2)
    assert len(line) == 30 and line[0] == "▁" and line[-1] == "█"
    assert sparkline([0.0, 10.0, 5.0], 3) == "▁█▅"
    assert sparkline([1.0, 0.0, 8.0, 0.0, 4.0], 2, 2) == "█▅"  # the last 4, in 2s: [0,8] [0,4]
    assert sparkline([2.0, 1.0, 8.0, 0.0, 4.0], 5, 2) == "▃█▅"  # the oldest group partial: [2]


def test_a_full_history_keeps_the_sparkline_one_width() -> None:
    """A minute's history holds 60 or 61 steps as the sampler's clock drifts: the line
    (and so the detail) stays the same while nothing moves."""
    assert sparkline([0.0] * 60, 30, 2) == sparkline([0.0] * 61, 30, 2) == "▁" * 30


def test_human_rate_fits_four_cells() -> None:
    assert [human_rate(v) for v in (0, 0.4, 512, 1536, 10 * 1024, 1000, 5e6, 3.5e9)] == [
        "0",
        "0",
        "512",
        "1.5K",
        "10K",
        "1.0K",
        "4.8M",
        "3.3G",
    ]
    assert all(len(human_rate(10.0**e)) <= 4 for e in range(15))


def test_a_snapshots_sample_takes_a_veths_container_side_from_its_host_end(
    recorded: Snapshot,
) -> None:
    c = multi_container(recorded)
    veths = [i for i in c.interfaces if i.peer is not None]
    host = {i.peer.name: Counters(100, 900, 1, 9) for i in veths if i.peer is not None}
    s = sample_of(recorded, 5.0, host, {})
    for i in veths:
        assert s.interfaces[(c.name, i.name)] == Counters(900, 100, 9, 1)
        assert i.peer is not None and s.identity[(c.name, i.name)] == i.peer.ifindex


def test_a_recreated_interface_is_told_apart_in_the_next_snapshot(recorded: Snapshot) -> None:
    """The identities are made once per snapshot: a new snapshot (a veth recreated with
    another ifindex) gets its own, and the step between the two gives that interface no
    rate, while a quiet one's is zero."""
    from dataclasses import replace

    c = multi_container(recorded)
    veth = next(i for i in c.interfaces if i.peer is not None)
    assert veth.peer is not None
    moved = replace(veth, peer=replace(veth.peer, ifindex=veth.peer.ifindex + 1000))
    again = replace(c, interfaces=tuple(moved if i is veth else i for i in c.interfaces))
    later = replace(recorded, containers=tuple(again if x is c else x for x in recorded.containers))
    host = {i.peer.name: Counters(100, 900, 1, 9) for i in c.interfaces if i.peer is not None}
    first = sample_of(recorded, 1.0, host, {})
    assert sample_of(recorded, 1.5, host, {}).identity is first.identity  # made once
    second = sample_of(later, 2.0, host, {})
    assert second.identity[(c.name, veth.name)] == veth.peer.ifindex + 1000
    step = rates_between(first, second)
    assert (c.name, veth.name) not in step.interfaces
    quiet = [k for k in step.interfaces if k[0] == c.name]
    assert quiet and all(step.interfaces[k] == Rate() for k in quiet)


def test_the_sampler_thread_publishes_rates_from_its_reads(recorded: Snapshot) -> None:
    """LiveRates on a scripted read and clock: two reads give one Rates, then stop."""
    reads: list[float] = []
    got: list[Rates] = []
    done = threading.Event()

    def read(snapshot: Snapshot, at: float) -> Sample:
        reads.append(at)
        return _sample(at, 1000 * len(reads))

    ticks = iter(range(0, 10_000))

    def clock() -> float:
        return float(next(ticks))

    def publish(rates: Rates) -> None:
        got.append(rates)
        done.set()

    sampler = LiveRates(interval=0.0, read=read, clock=clock)
    sampler.follow(recorded)
    sampler.start(publish)
    assert done.wait(10)
    sampler.stop()
    assert got[0].containers["web"].rx_bytes > 0


def test_steps_that_say_the_same_are_told_apart_from_those_that_do_not() -> None:
    """An idle host's successive steps read alike (the TUI then redraws only the detail);
    a rate that moves enough to show differently does not."""
    from inspector.live.rates import Rate, Rates, shown_rates

    quiet = Rates(
        at=1.0, interval=1.0, interfaces={}, containers={"a": Rate()}, host={"eth0": Rate()}
    )
    again = Rates(
        at=2.0, interval=1.0, interfaces={}, containers={"a": Rate()}, host={"eth0": Rate()}
    )
    busy = Rates(
        at=3.0,
        interval=1.0,
        interfaces={},
        containers={"a": Rate(rx_bytes=5e6)},
        host={"eth0": Rate()},
    )
    assert shown_rates(quiet) == shown_rates(again)
    assert shown_rates(busy) != shown_rates(again)
