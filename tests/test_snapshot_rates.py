"""Rates recorded with a snapshot, on recorded data: the conversion, the JSON and its
schema, the reports (in the TUI's words), ``cnet diff`` and the measuring step."""

from __future__ import annotations

import json
from dataclasses import replace
from html import escape

import pytest

from inspector.live.rates import Rates, Sample, human_rate, recorded_rates
from inspector.live.sampler import measure
from inspector.model.snapshot import ContainerRate, LinkRate, Rate, RecordedRates, Snapshot
from inspector.render import render
from inspector.render.diff import diff
from inspector.render.snapshot_json import SnapshotFormatError, dumps, from_dict, load_snapshot
from inspector.tui.view import SnapshotView, with_rates
from tests.conftest import RECORDED
from tests.test_render import _md_rows
from tests.tui_fakes import scripted_rates


def measured(snapshot: Snapshot) -> Rates:
    """A step of scripted counters: each running container moves a different amount."""
    running = [c.name for c in snapshot.containers if c.running]
    base = {name: 1500 * (n + 1) for n, name in enumerate(running)}
    return scripted_rates(snapshot, 2, lambda t, name: base[name])[-1]


@pytest.fixture
def with_rates_recorded(recorded: Snapshot) -> Snapshot:
    return replace(recorded, rates=recorded_rates(measured(recorded)))


def test_recorded_rates_are_this_steps_in_natural_order() -> None:
    r = Rate(rx_bytes=1.0)
    rates = Rates(
        at=5.0,
        interval=1.25,
        interfaces={("hx-10", "eth0"): r, ("hx-2", "eth1"): r, ("hx-2", "eth0"): r},
        containers={"hx-10": r, "hx-2": r},
        host={"veth10": r, "veth9": r},
    )
    got = recorded_rates(rates)
    assert got.interval == 1.25
    assert [c.container for c in got.containers] == ["hx-2", "hx-10"]
    assert [(i.container, i.interface) for i in got.interfaces] == [
        ("hx-2", "eth0"),
        ("hx-2", "eth1"),
        ("hx-10", "eth0"),
    ]
    assert [h.name for h in got.host] == ["veth9", "veth10"]
    assert all(x.rate == r for x in (*got.containers, *got.interfaces, *got.host))


def test_a_snapshot_with_rates_round_trips(with_rates_recorded: Snapshot) -> None:
    text = dumps(with_rates_recorded)
    assert from_dict(json.loads(text)) == with_rates_recorded
    data = json.loads(text)
    assert list(data)[-1] == "rates" and data["rates"]["interval"] == 1.0
    names = [c["container"] for c in data["rates"]["containers"]]
    assert len(names) >= 3 and set(names) <= {c.name for c in with_rates_recorded.containers}
    # each record on its line, as for the rest of the file
    assert any(line.strip().startswith('{"name": "veth') for line in text.splitlines())


def test_an_older_snapshot_without_rates_loads_with_none() -> None:
    assert "rates" not in json.loads(RECORDED.read_text())
    assert load_snapshot(RECORDED).rates is None


def test_a_rate_written_as_a_whole_number_is_a_float(with_rates_recorded: Snapshot) -> None:
    data = json.loads(dumps(with_rates_recorded))
    data["rates"]["host"][0]["rate"] = {"rx_bytes": 5}
    data["rates"]["interval"] = 2
    got = from_dict(data).rates
    assert got is not None and got.interval == 2.0 and type(got.interval) is float
    assert got.host[0].rate == Rate(rx_bytes=5.0) and type(got.host[0].rate.rx_bytes) is float


@pytest.mark.parametrize(
    ("where", "value", "fragment"),
    [
        ("interval", 0, "snapshot.rates.interval"),
        ("interval", "1", "snapshot.rates.interval: expected a number"),
        ("rate", -1.0, "snapshot.rates.host[0].rate.rx_bytes"),
    ],
)
def test_bad_rates_are_refused_in_one_line(
    with_rates_recorded: Snapshot, where: str, value: object, fragment: str
) -> None:
    data = json.loads(dumps(with_rates_recorded))
    if where == "interval":
        data["rates"]["interval"] = value
    else:
        data["rates"]["host"][0]["rate"]["rx_bytes"] = value
    with pytest.raises(SnapshotFormatError) as err:
        from_dict(data)
    assert fragment in str(err.value) and "\n" not in str(err.value)


# -- the reports ------------------------------------------------------------------------


def test_markdown_shows_the_rates_as_the_tui_does(with_rates_recorded: Snapshot) -> None:
    s = with_rates_recorded
    assert s.rates is not None
    md = render(s, "markdown")
    assert "- Rates over 1.0 s in bytes a second (K = 1024): no drops or errors" in md
    assert "| Doctor | Name | State | Rx/s | Tx/s | Runtime |" in md
    view = SnapshotView(s)
    by = {r.container: r.rate for r in s.rates.containers}
    rows = {row[1]: row[2:] for row in _md_rows(md, "Containers")}
    shown = 0
    for name, row in view.container_rows.items():
        want = with_rates(row, by.get(name)).cells[2:]  # what the TUI's pane says
        if name in by:
            assert rows[name] == list(want), name
            shown += 1
        else:  # no rate (stopped, the host's stack): a dash where the TUI leaves it blank
            assert rows[name][1:3] == ["-", "-"], name
    assert shown >= 3
    host = {row[0]: row for row in _md_rows(md, "Host interfaces")}
    assert host[s.rates.host[0].name][3:5] == [
        human_rate(s.rates.host[0].rate.rx_bytes),
        human_rate(s.rates.host[0].rate.tx_bytes),
    ]
    assert "| Name | Kind | State | Rx/s | Tx/s | MTU |" in md
    assert "## Drops and errors" not in md


def test_html_shows_the_rates(with_rates_recorded: Snapshot) -> None:
    s = with_rates_recorded
    assert s.rates is not None
    html = render(s, "html")
    assert "Rates over 1.0 s in bytes a second (K = 1024): no drops or errors" in html
    assert "<th>State</th><th>Rx/s</th><th>Tx/s</th><th>Runtime</th>" in html
    busy = s.rates.containers[-1]
    cells = "".join(
        f"<td>{escape(human_rate(v))}</td>" for v in (busy.rate.rx_bytes, busy.rate.tx_bytes)
    )
    assert f"{busy.container}</a></td><td>running</td>{cells}" in html
    link = s.rates.host[0]
    cells = "".join(
        f"<td>{escape(human_rate(v))}</td>" for v in (link.rate.rx_bytes, link.rate.tx_bytes)
    )
    assert f"<td>{escape(link.name)}</td>" in html and cells in html
    assert "<script" not in html and "src=" not in html


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_drops_and_errors_are_listed_where_counted(recorded: Snapshot, fmt: str) -> None:
    rates = recorded_rates(measured(recorded))
    busy = rates.containers[0]
    troubled = replace(busy, rate=replace(busy.rate, rx_dropped=3.0, tx_errors=0.5))
    link = LinkRate("eth0", Rate(rx_bytes=10.0, tx_dropped=12.0))
    s = replace(
        recorded,
        rates=replace(rates, containers=(troubled, *rates.containers[1:]), host=(link,)),
    )
    text = render(s, fmt)
    assert "drops or errors on 2 (see Drops and errors)" in text
    words = {
        busy.container: "drops 3/s (in 3, out 0), errors 0.5/s (in 0, out 0.5)",
        "eth0": "drops 12/s (in 0, out 12), errors 0/s",
    }
    if fmt == "markdown":
        assert _md_rows(text, "Drops and errors") == [
            ["container", busy.container, words[busy.container]],
            ["host link", "eth0", words["eth0"]],
        ]
    else:
        assert "<h2>Drops and errors</h2>" in text
        for name, said in words.items():
            assert f"<td>{escape(name)}</td><td>{escape(said)}</td>" in text


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_without_rates_the_reports_say_they_were_not_measured(recorded: Snapshot, fmt: str) -> None:
    text = render(recorded, fmt)
    assert (
        "Rates not measured: run cnet snapshot --rates 1, or export (e) from the live TUI" in text
    )
    assert "Rx/s" not in text and "Drops and errors" not in text


def test_rates_are_never_a_change(recorded: Snapshot, with_rates_recorded: Snapshot) -> None:
    assert with_rates_recorded != recorded
    assert diff(recorded, with_rates_recorded).equal
    other = replace(with_rates_recorded, rates=RecordedRates(3.0, (ContainerRate("x", Rate()),)))
    assert diff(with_rates_recorded, other).equal


def test_measure_reads_twice_that_far_apart(recorded: Snapshot) -> None:
    """``cnet snapshot --rates``'s step: a sample, the wait, a sample, their rates."""
    now = [100.0]
    slept: list[float] = []
    host = [{"veth1": 0}, {"veth1": 3000}]

    def read(snapshot: Snapshot, at: float) -> Sample:
        from inspector.collect.counters import Counters

        n = host.pop(0)["veth1"]
        return Sample(at, {}, {"veth1": Counters(n, 2 * n, 1, 1)})

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds + 0.5  # the wait ran long: the rates are over what passed

    rates = measure(recorded, 2.0, read=read, clock=lambda: now[0], sleep=sleep)
    assert slept == [2.0]
    assert rates.interval == 2.5
    assert rates.host["veth1"] == Rate(1200.0, 2400.0)
