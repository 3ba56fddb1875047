"""``cnet snapshot`` bad input and re-rendering, without Docker or root."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from inspector import __version__
from inspector.doctor import NOT_PINGED, NOT_RECORDED, unchecked
from tests.cli import ROOT, assert_one_line_error, cnet
from tests.conftest import DATA, RECORDED


def test_version() -> None:
    proc = cnet("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"cnet {__version__}"


def test_from_saved_json_rerenders_without_docker(tmp_path) -> None:
    out = tmp_path / "report.md"
    proc = cnet(
        "snapshot",
        "--from",
        str(RECORDED),
        "--format",
        "markdown",
        "-o",
        str(out),
        env={"DOCKER_HOST": "unix:///nonexistent.sock"},
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("# cnet report:")
    assert proc.stdout == ""


def test_from_saved_json_to_stdout_is_the_same_json() -> None:
    proc = cnet("snapshot", "--from", str(RECORDED))
    assert proc.returncode == 0
    # The recorded file predates ``rulesets`` and ``rates``: read as none, written as an
    # empty list and null.
    assert json.loads(proc.stdout) == {
        **json.loads(RECORDED.read_text()),
        "rulesets": [],
        "rates": None,
    }


def test_unknown_format_is_usage_error() -> None:
    line = assert_one_line_error(cnet("snapshot", "--format", "yaml", "--from", str(RECORDED)), 2)
    assert "invalid choice: 'yaml'" in line


def test_unwritable_output_leaves_nothing(tmp_path) -> None:
    target = tmp_path / "missing-dir" / "out.json"
    line = assert_one_line_error(cnet("snapshot", "--from", str(RECORDED), "-o", str(target)), 1)
    assert "cannot write" in line
    assert not target.parent.exists()


def test_output_onto_a_directory_leaves_nothing(tmp_path) -> None:
    line = assert_one_line_error(cnet("snapshot", "--from", str(RECORDED), "-o", str(tmp_path)), 1)
    assert "cannot write" in line
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_whole(tmp_path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old content that is longer than nothing" * 100)
    assert cnet("snapshot", "--from", str(RECORDED), "-o", str(target)).returncode == 0
    assert json.loads(target.read_text())["schema_version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{oops", "not valid JSON"), ('{"schema_version": 7}', "unsupported schema_version 7")],
)
def test_from_bad_file_is_usage_error(tmp_path, content: str, fragment: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    line = assert_one_line_error(cnet("snapshot", "--from", str(bad)), 2)
    assert fragment in line


def test_from_missing_file() -> None:
    assert "no such file" in assert_one_line_error(
        cnet("snapshot", "--from", "/nonexistent/x.json"), 2
    )


def test_unknown_subcommand_and_option() -> None:
    assert_one_line_error(cnet("frobnicate"), 2)
    assert_one_line_error(cnet("snapshot", "--bogus"), 2)


# -- saved snapshots everywhere: --from, and the global --load / --demo ----------------

NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent.sock"}
DEMO = RECORDED.parent.parent.parent / "inspector" / "tui" / "demo-snapshot.json"


def test_demo_snapshot_is_the_demo_not_the_live_host() -> None:
    proc = cnet("--demo", "snapshot", env=NO_DOCKER)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # a live collect would warn that Docker is unreachable
    want = {**json.loads(DEMO.read_text()), "rulesets": [], "rates": None}
    assert json.loads(proc.stdout) == want


def test_load_snapshot_renders_the_loaded_file() -> None:
    proc = cnet("--load", str(RECORDED), "snapshot", "-f", "markdown", env=NO_DOCKER)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("# cnet report: vm")


def test_from_stdin() -> None:
    with RECORDED.open() as stdin:
        proc = cnet("snapshot", "--from", "-", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hostname"] == "vm"


def test_a_snapshot_named_twice_is_refused() -> None:
    line = assert_one_line_error(
        cnet("--load", str(RECORDED), "snapshot", "--from", str(RECORDED)), 2
    )
    assert "name one snapshot" in line
    assert "name one snapshot" in assert_one_line_error(
        cnet("--demo", "doctor", "--from", str(RECORDED)), 2
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("ping", "cnetlab-bridge"), "ping sends packets from the live host"),
        (("rules", "cnetlab-bridge"), "records no firewall rules (taken by an older cnet"),
    ],
)
@pytest.mark.parametrize("source", [("--demo",), ("--load", str(RECORDED))])
def test_live_only_subcommands_and_rules_without_recorded_rules_refuse_a_saved_snapshot(
    source: tuple[str, ...], args: tuple[str, ...], fragment: str
) -> None:
    assert fragment in assert_one_line_error(cnet(*source, *args, env=NO_DOCKER), 2)


@pytest.mark.parametrize(
    "source",
    [("--demo", "snapshot"), ("--load", str(RECORDED), "snapshot"), ("snapshot", "--from", "-")],
)
def test_rates_of_a_saved_snapshot_are_refused(source: tuple[str, ...]) -> None:
    """``--rates`` measures the live host: like ping, it refuses a saved snapshot."""
    proc = cnet(*source, "--rates", "1", env=NO_DOCKER, input=RECORDED.read_text())
    line = assert_one_line_error(proc, 2)
    assert line == "cnet: --rates measures the live host: it cannot use a saved snapshot"
    assert proc.stdout == ""


@pytest.mark.parametrize("value", ["0", "-1", "60.5", "1e9", "nan", "inf", "soon", ""])
def test_rates_seconds_must_be_more_than_0_and_at_most_60(value: str) -> None:
    line = assert_one_line_error(cnet("snapshot", "--rates", value, env=NO_DOCKER), 2)
    assert line.startswith("cnet snapshot: error: argument --rates: "), line
    assert "not a number" in line or "must be more than 0 and at most 60 seconds" in line


@pytest.mark.parametrize(
    "source", [("doctor", "--from", str(RECORDED)), ("--load", str(RECORDED), "doctor")]
)
def test_doctor_on_a_saved_snapshot_says_it_sent_no_ping(source: tuple[str, ...]) -> None:
    proc = cnet(*source, env=NO_DOCKER)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("offline: a snapshot of vm taken at 2026-11-28T00:28:39Z, judged")
    assert f"skip  gateway: {NOT_PINGED}" in proc.stdout
    # an older snapshot records no rules: the checks that need them say so, in those words
    rules = unchecked("the host's firewall rules were not read", NOT_RECORDED)
    assert f"skip  forward-drop, masquerade: {rules}" in proc.stdout
    # The recorded host's uplink has MTU 1400 under containers at 1500: a warning, not ok.
    assert "cnetlab-bridge: WARN" in proc.stdout
    assert proc.stderr == ""


def test_doctor_from_json_marks_it_offline() -> None:
    proc = cnet("doctor", "--from", str(RECORDED), "--json", "cnetlab-multi")
    data = json.loads(proc.stdout)
    skipped = [item["check"] for item in data["offline"]["not_checked"]]
    assert skipped == ["gateway", "ip-forward", "forward-drop", "masquerade", "dns", "tcp"]
    assert all(item["why"].startswith("not checked: ") for item in data["offline"]["not_checked"])
    assert [c["name"] for c in data["containers"]] == ["cnetlab-multi"]
    gateway = next(c for c in data["containers"][0]["checks"] if c["id"] == "gateway")
    assert gateway["status"] == "skip"


def test_doctor_from_an_unknown_container() -> None:
    assert "no such container" in assert_one_line_error(
        cnet("doctor", "--from", str(RECORDED), "nope"), 2
    )


# -- reading is bounded, writing is safe ---------------------------------------------


@pytest.mark.parametrize("command", [("snapshot", "--from"), ("--load",), ("diff",)])
def test_a_device_is_refused(command: tuple[str, ...]) -> None:
    line = assert_one_line_error(cnet(*command, "/dev/zero"), 2)
    assert "/dev/zero: not a regular file or a FIFO" in line


def test_endless_stdin_is_refused_with_bounded_memory() -> None:
    """``--from - < /dev/zero``: refused after 64 MiB + 1 bytes; the process's peak memory
    stays near the limit (it grew to gigabytes before)."""
    code = (
        "import resource, subprocess, sys\n"
        "with open('/dev/zero', 'rb') as zero:\n"
        "    proc = subprocess.run([sys.executable, '-m', 'inspector', 'snapshot', '--from', '-'],"
        " stdin=zero, capture_output=True, text=True)\n"
        "print(proc.returncode)\n"
        "print(proc.stderr.strip())\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.splitlines()
    assert out[0] == "2"
    assert out[1] == "cnet: stdin: larger than 64 MiB, the most cnet reads as a snapshot: not read"
    assert int(out[2]) < 400 * 1024  # KiB: the 64 MiB limit plus the interpreter


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_output_onto_a_device_node_keeps_the_node(tmp_path) -> None:
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    proc = cnet("snapshot", "--from", str(RECORDED), "-o", str(node))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_output_dash_is_stdout() -> None:
    proc = cnet("snapshot", "--from", str(RECORDED), "-o", "-", "-f", "markdown")
    assert proc.returncode == 0 and proc.stdout.startswith("# cnet report:")


def test_the_tui_refuses_to_load_stdin() -> None:
    with RECORDED.open() as stdin:
        line = assert_one_line_error(cnet("--load", "-", stdin=stdin), 2)
    assert "give --load a file" in line


def test_output_to_dev_stdout_is_the_descriptor_itself(tmp_path) -> None:
    """``-o /dev/stdout >> log``: appended to the log, which is neither replaced nor cut."""
    log = tmp_path / "log"
    log.write_text("earlier line\n")
    dev_stdout = "/dev/stdout"
    with log.open("a") as out:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspector",
                "snapshot",
                "--from",
                str(RECORDED),
                "-o",
                dev_stdout,
            ],
            stdout=out,
            cwd=ROOT,
            timeout=60,
        )
    assert proc.returncode == 0
    head, _, rest = log.read_text().partition("\n")
    assert head == "earlier line"
    assert json.loads(rest)["hostname"] == "vm"
    piped = cnet("snapshot", "--from", str(RECORDED), "-o", "/dev/stdout", "-f", "markdown")
    assert piped.returncode == 0 and piped.stdout.startswith("# cnet report:")


def test_rules_from_a_snapshot_read_the_rules_it_recorded(tmp_path) -> None:
    """``cnet rules ITEM --from SAVED`` (and ``--load SAVED rules ITEM``) runs no tool: the
    answer is the recorded iptables-save text's, as the library gives it for that text."""
    from dataclasses import replace

    from inspector.model.snapshot import RulesetText
    from inspector.render.snapshot_json import dumps, load_snapshot
    from inspector.rules import parse_saved, report_to_dict, rules_for

    text = (DATA / "iptables-lab1.txt").read_text()
    snapshot = replace(load_snapshot(RECORDED), rulesets=(RulesetText("iptables-save", text),))
    saved = tmp_path / "with-rules.json"
    saved.write_text(dumps(snapshot))
    expected = report_to_dict(rules_for(snapshot, parse_saved("iptables-save", text), "docker0"))
    for args in (
        ("rules", "docker0", "--from", str(saved)),
        ("--load", str(saved), "rules", "docker0"),
    ):
        proc = cnet(*args, "--json", env={**NO_DOCKER, "PATH": str(tmp_path)})  # no tool to run
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        assert got == expected
        assert "-o docker0 -j DOCKER" in proc.stdout
