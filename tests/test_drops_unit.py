"""The drop-reason probe's pure parts, and its honest lines where the kernel cannot help.

The format texts are the kernel's own: 6.18's read from this machine's tracefs when it is
mounted, and 5.15's (before drop reasons carried names in the format) and 6.1's
(NOT_SPECIFIED is 1 there) as those kernels print them.
"""

from __future__ import annotations

import os
import site
import subprocess
from pathlib import Path

import pytest

from inspector.collect import tracefs
from inspector.collect.tracefs import (
    DropCount,
    DropProbe,
    DropReport,
    DropsUnavailable,
    Symbols,
    drop_filter,
    reason_table,
    remove_stale,
)
from inspector.doctor.drops import DropContext, DroppingRule, drop_line, gateway_words, probe_lines
from inspector.rules.model import Chain, Counters, Rule, Rulesets, Table, Target
from tests.cli import ROOT, _interpreter_for_nobody

FORMAT_6_1 = """name: kfree_skb
ID: 1457
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:void * location;\toffset:16;\tsize:8;\tsigned:0;
\tfield:unsigned short protocol;\toffset:24;\tsize:2;\tsigned:0;
\tfield:enum skb_drop_reason reason;\toffset:28;\tsize:4;\tsigned:0;

print fmt: "skbaddr=%p protocol=%u location=%p reason: %s", REC->skbaddr, REC->protocol, \
REC->location, __print_symbolic(REC->reason, { 1, "NOT_SPECIFIED" }, { 2, "NO_SOCKET" }, \
{ 6, "NETFILTER_DROP" }, { 7, "OTHERHOST" }, { 10, "IP_RPFILTER" }, { 68, "MAX" })
"""

FORMAT_5_15 = """name: kfree_skb
ID: 1340
format:
\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:void * location;\toffset:16;\tsize:8;\tsigned:0;
\tfield:unsigned short protocol;\toffset:24;\tsize:2;\tsigned:0;

print fmt: "skbaddr=%p protocol=%u location=%p", REC->skbaddr, REC->protocol, REC->location
"""


def test_reason_names_and_numbers_come_from_the_format_file() -> None:
    table = reason_table(FORMAT_6_1)
    assert table[1] == "NOT_SPECIFIED" and table[6] == "NETFILTER_DROP"
    # The filter leaves out normal consumption by this kernel's numbers.
    assert drop_filter(table) == "reason != 1 && reason != 2"


@pytest.mark.skipif(
    not os.path.exists(f"{tracefs.TRACEFS}/{tracefs.EVENT}/format"), reason="tracefs not mounted"
)
def test_this_kernels_format_file() -> None:
    text = Path(f"{tracefs.TRACEFS}/{tracefs.EVENT}/format").read_text()
    table = reason_table(text)
    names = set(table.values())
    assert {"NETFILTER_DROP", "IP_RPFILTER", "PKT_TOO_BIG", "NOT_SPECIFIED"} <= names
    numbers = {name: n for n, name in table.items()}
    assert f"reason != {numbers['NOT_SPECIFIED']}" in drop_filter(table)
    assert f"reason != {numbers['NETFILTER_DROP']}" not in drop_filter(table)


def test_a_kernel_without_drop_reasons_says_so() -> None:
    with pytest.raises(DropsUnavailable, match=r"no drop reason .*5\.17"):
        reason_table(FORMAT_5_15)


def fake_tracefs(tmp_path: Path, fmt: str) -> Path:
    event = tmp_path / tracefs.EVENT
    event.mkdir(parents=True)
    (event / "format").write_text(fmt)
    (tmp_path / "instances").mkdir()
    return tmp_path


@pytest.mark.skipif(os.geteuid() != 0, reason="the root case")
def test_availability_lines(tmp_path: Path) -> None:
    assert tracefs.availability(str(tmp_path / "absent")) == (
        f"tracefs is not mounted at {tmp_path / 'absent'} (cnet --mount-tracefs mounts it):"
        " no drop reasons"
    )
    old = fake_tracefs(tmp_path / "old", FORMAT_5_15)
    assert "no drop reason" in (tracefs.availability(str(old)) or "")
    new = fake_tracefs(tmp_path / "new", FORMAT_6_1)
    assert tracefs.availability(str(new)) is None
    with pytest.raises(DropsUnavailable, match="no drop reason"):
        DropProbe.open(str(old))


def test_not_root_is_one_line() -> None:
    """As nobody (a child that drops root): the line names root, nothing is traced."""
    if os.geteuid() != 0:
        assert tracefs.availability() == "drop reasons need root (tracefs): not read"
        return
    python = _interpreter_for_nobody()
    if python is None:
        pytest.skip("no Python interpreter here that an unprivileged user may execute")
    code = "from inspector.collect import tracefs; print(tracefs.availability())"
    proc = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()])},
        preexec_fn=lambda: os.setuid(65534),
    )
    assert proc.stdout.strip() == "drop reasons need root (tracefs): not read", proc.stderr


def test_stale_instances_of_dead_processes_go_live_ones_stay(tmp_path: Path) -> None:
    instances = tmp_path / "instances"
    instances.mkdir()
    proc = subprocess.Popen(["true"])
    proc.wait()
    gone = proc.pid  # reaped: no such process any more
    for name in (f"cnet-probe-{gone}-1", f"cnet-probe-{os.getpid()}-1", "someone-else"):
        (instances / name).mkdir()
    assert remove_stale(str(tmp_path)) == [f"cnet-probe-{gone}-1"]
    assert sorted(os.listdir(instances)) == sorted([f"cnet-probe-{os.getpid()}-1", "someone-else"])


def test_rose_is_beyond_the_baselines_pace() -> None:
    report = DropReport(
        baseline_s=0.05,
        probe_s=0.5,
        baseline=(DropCount("QDISC_DROP", "dev_queue", 1),),
        probe=(
            DropCount("QDISC_DROP", "dev_queue", 9),  # 1 per 50 ms: 10 expected
            DropCount("NETFILTER_DROP", "nft_do_chain", 2, thread=42),
            DropCount("NETFILTER_DROP", "nft_do_chain", 1),
        ),
    )
    assert report.rose == (DropCount("NETFILTER_DROP", "nft_do_chain", 3),)
    assert report.in_thread(42) == (DropCount("NETFILTER_DROP", "nft_do_chain", 2, thread=42),)


def test_kallsyms_resolves_raw_addresses(tmp_path: Path) -> None:
    kallsyms = tmp_path / "kallsyms"
    kallsyms.write_text(
        "ffffffff81000000 T _stext\n"
        "ffffffff81200000 t ip_rcv_finish_core\n"
        "ffffffff81200400 T ip_rcv_finish\n"
        "ffffffff81300000 d some_data\n"
    )
    symbols = Symbols(str(kallsyms))
    assert symbols.name("0xffffffff81200410") == "ip_rcv_finish"
    assert symbols.name("0xffffffff812000ff") == "ip_rcv_finish_core"
    assert symbols.name("nft_do_chain+0x46f/0x690") == "nft_do_chain"
    hidden = tmp_path / "hidden"
    hidden.write_text("0000000000000000 T _stext\n")
    assert Symbols(str(hidden)).name("0xffffffff81200410") == "0xffffffff81200410"


def test_words_beside_the_rule_or_with_the_cause() -> None:
    rule = Rule("inp", 1, "iifname br0 icmp type echo-request drop", Counters(2, 168),
                target=Target("DROP"), syntax="nft")  # fmt: skip
    nft = DropCount("NETFILTER_DROP", "nft_do_chain", 2)
    line = drop_line(nft, DropContext("br0"), [DroppingRule("inet t (nft)", "inp", rule, 2)])
    assert line == (
        "NETFILTER_DROP x2 in nft_do_chain — rule inet t (nft) inp: "
        "iifname br0 icmp type echo-request drop (+2 packets)"
    )
    rp = DropCount("IP_RPFILTER", "ip_rcv_finish", 3)
    assert drop_line(rp, DropContext("br0", 1)).startswith(
        "IP_RPFILTER x3 in ip_rcv_finish: reverse-path filter on br0 (rp_filter=1)"
    )
    counted, tail, fix = gateway_words([rp], DropContext("br0", 1))
    assert counted == "IP_RPFILTER x3 in ip_rcv_finish"
    assert "see the route check" in tail and fix is not None and "rp_filter=2" in fix
    assert probe_lines(None, DropContext(), problem="tracefs is not mounted") == [
        "drop reasons: tracefs is not mounted"
    ]


def test_dropping_rules_are_drop_verdicts_whose_counters_rose() -> None:
    def rulesets(drop: int, accept: int, policy: int) -> Rulesets:
        rules = (
            Rule("INPUT", 1, "-A INPUT -j ACCEPT", Counters(accept, 0), target=Target("ACCEPT")),
            Rule("INPUT", 2, "-A INPUT -j DROP", Counters(drop, 0), target=Target("DROP")),
        )
        chain = Chain("INPUT", "DROP", Counters(policy, 0), rules)
        return Rulesets(tables=(Table("ip", "filter", "iptables-nft", (chain,)),))

    from inspector.doctor.drops import dropping_rules

    moved = dropping_rules(rulesets(1, 1, 5), rulesets(3, 9, 6))
    assert [(m.rule.text if m.rule else "policy", m.packets) for m in moved] == [
        ("-A INPUT -j DROP", 2),
        ("policy", 1),
    ]


def test_interface_drop_counters_by_reason_from_stats64() -> None:
    import struct

    from inspector.collect.linkdrops import CounterRise, decode_stats64, risen

    values = list(range(100, 125))  # 25 fields, as 6.x sends them
    counters = decode_stats64(struct.pack("=25Q", *values))
    assert counters == {
        "rx_dropped": 106,
        "tx_dropped": 107,
        "rx_nohandler": 123,
        "rx_otherhost_dropped": 124,
    }
    older = decode_stats64(struct.pack("=23Q", *values[:23]))  # before 4.6: no such fields
    assert set(older) == {"rx_dropped", "tx_dropped"}
    before = {"q": counters, "gone": counters}
    after = {"q": {**counters, "rx_otherhost_dropped": 127}, "new": counters}
    assert risen(before, after) == [CounterRise("q", "rx_otherhost_dropped", 3)]


@pytest.mark.skipif(os.geteuid() != 0, reason="the line is given to root's snapshots")
def test_the_line_is_in_the_snapshots_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real collection (no Docker): the probe's line is among the snapshot's warnings."""
    from inspector.live.runner import Collector

    line = "tracefs is not mounted at /nowhere (cnet --mount-tracefs mounts it): no drop reasons"
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/cnetdr.sock")
    collector = Collector()
    try:
        monkeypatch.setattr(tracefs, "availability", lambda: line)
        assert line in collector.collect().warnings
        monkeypatch.setattr(tracefs, "availability", lambda: None)
        assert not [w for w in collector.collect().warnings if "drop reasons" in w]
    finally:
        collector.close()
