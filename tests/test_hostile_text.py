"""Hostile text through every renderer and loader (property tests with hypothesis).

Any local user names processes, namespaces and interfaces; saved files and remote lines
are input too.  Whatever the names, bytes, nesting or numbers: no renderer lets a raw
control character out, Markdown makes no element or heading of a name, every suggested
command is one shell word per name (checked by a real ``sh``), and every loader either
reads the input or refuses it with its own one-line error.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from inspector.doctor import run_checks
from inspector.doctor.context import sh
from inspector.doctor.text import format_reports
from inspector.model import bounded_json
from inspector.model.safe import safe
from inspector.model.snapshot import Snapshot
from inspector.render import render
from inspector.render.diff import diff
from inspector.render.difftext import format_diff
from inspector.render.markdown import code, md
from inspector.render.snapshot_json import SnapshotFormatError, from_dict, load_snapshot, to_dict
from tests.test_render import _broken

# What no text for a person may carry raw: C0 but the line breaks cnet makes, DEL, C1,
# the Unicode line separators, bidi overrides and lone surrogates (undecodable bytes).
RAW = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
HOSTILE = [
    "a;echo${IFS}PWN",
    "$(id)",
    "`id`",
    "x'y\"z",
    "new\nline",
    "[/]",
    "[bold red]X",
    "x-\x01[a=b=c]",
    "\x1b[2J\x1b[H",
    "x-\x1b]0;PWNED\x07",
    "<svg onload=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "a|b`c",
    "\n## All checks pass",
    "-rf",
    "\u202eevil",
    b"\xff\xfe".decode("utf-8", "surrogateescape"),
]
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

undecodable = st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
any_text = st.one_of(
    st.text(max_size=24),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=24),
    undecodable,
    st.sampled_from(HOSTILE),
)
names = st.builds(lambda a, b: a + b, any_text, any_text).filter(lambda t: "\x00" not in t)


def assert_inert(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} in {text[max(0, found.start() - 40) :][:80]!r}"
    text.encode("utf-8")  # printable: no lone surrogate left


# -- safe -------------------------------------------------------------------------------------


@given(any_text)
@SETTINGS
def test_safe_shows_every_control_character_escaped(text: str) -> None:
    shown = safe(text)
    assert_inert(shown)
    assert "\n" not in shown
    assert safe(shown) == shown  # escaping twice changes nothing
    if RAW.search(text) is None and "\n" not in text:
        assert shown == text  # an ordinary name costs nothing


def test_safe_words() -> None:
    assert safe("x-\x1b]0;PWNED\x07") == "x-\\x1b]0;PWNED\\x07"
    assert safe("a\nb\tc\r") == "a\\nb\\tc\\r"
    assert safe("\x85\x9b\x7f") == "\\x85\\x9b\\x7f"
    assert safe(b"eth\xff".decode("utf-8", "surrogateescape")) == "eth\\xff"
    assert safe("\u202eevil") == "\\u202eevil"
    assert safe("[bold]é网") == "[bold]é网"


# -- quoting for the shell ------------------------------------------------------------------------


def shell_words(command: str) -> list[str]:
    """The words ``sh`` makes of ``command``, without running it: ``set --`` then print
    each argument, NUL-terminated.  Should the quoting break, what the words would run
    finds no program (an empty PATH) and writes only into a scratch directory."""
    syntax = subprocess.run(["/bin/sh", "-n", "-c", command], capture_output=True)
    assert syntax.returncode == 0, syntax.stderr
    script = f'set -- {command}\nprintf "%s\\0" "$@"'
    with tempfile.TemporaryDirectory(prefix="cnethx-sh-") as scratch:
        out = subprocess.run(
            ["/bin/sh", "-c", script], capture_output=True, check=True, cwd=scratch, env={}
        ).stdout
    return [w.decode("utf-8", "surrogateescape") for w in out.split(b"\0")[:-1]]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_quoted_command_is_one_word_per_name(name: str) -> None:
    words = ["ip", "link", "set", name, "up"]
    assert shell_words(sh(*words)) == words


@given(names)
@settings(max_examples=30, deadline=None)
def test_any_name_survives_the_shell_round_trip(name: str) -> None:
    words = ["nsenter", "-t", "7940", "-n", "ip", "link", "set", name, "up"]
    assert shell_words(sh(*words)) == words


# -- hostile snapshots through every renderer ------------------------------------------------


def renamed(snapshot: Snapshot, rename: dict[str, str]) -> Snapshot:
    """Every string that is a container, interface or bridge name (or the hostname)
    renamed, references included, through the JSON form (so the schema checks it)."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return rename.get(value, value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: (v if k == "text" else walk(v)) for k, v in value.items()}
        return value

    return from_dict(walk(to_dict(snapshot)))


def hostile_names(snapshot: Snapshot, tag: str) -> dict[str, str]:
    found = {snapshot.hostname}
    for c in snapshot.containers:
        found.add(c.name)
        found.update(i.name for i in c.interfaces)
        found.update(n.name for n in c.networks)
    found.update(i.name for i in snapshot.host.interfaces)
    found.update(b.name for b in snapshot.bridges)
    return {n: f"{n}{tag}" for n in found}


HEADINGS = re.compile(r"^#+ ", re.M)


def check_markdown(text: str, plain: str) -> None:
    assert_inert(text)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or ()}
    assert not kinds & {"html_block", "html_inline"}, "a name became HTML"
    headings = [t for t in tokens if t.type == "heading_open"]
    assert len(headings) == len(HEADINGS.findall(plain)), "a name made a heading"


@given(tag=any_text)
@SETTINGS
def test_every_renderer_keeps_hostile_names_inert(recorded: Snapshot, tag: str) -> None:
    broken = _broken(recorded)  # failing checks, so fixes that name interfaces
    bad = renamed(broken, hostile_names(broken, tag))
    check_markdown(render(bad, "markdown"), render(broken, "markdown"))
    html = render(bad, "html")
    assert_inert(html)
    assert "<svg" not in html and "<img" not in html
    assert_inert(format_diff(diff(recorded, bad), ("old", recorded), ("new", bad)))
    reports = [run_checks(bad, c.name) for c in bad.containers]
    assert_inert(format_reports(reports, verbose=True))
    assert json.loads(render(bad, "json"))["hostname"] == bad.hostname  # JSON: exact


@pytest.mark.parametrize("tag", HOSTILE)
def test_the_doctors_fixes_name_hostile_interfaces_as_one_word(
    recorded: Snapshot, tag: str
) -> None:
    broken = _broken(recorded)
    rename = hostile_names(broken, tag)
    bad = renamed(broken, rename)
    fixes = [
        part
        for c in bad.containers
        for check in run_checks(bad, c.name).checks
        if check.fix
        for part in check.fix.split(" && ")
        if part.startswith(("ip ", "nsenter ", "iptables ", "docker "))
    ]
    assert fixes, "the broken snapshot has fixes that name interfaces"
    hostile = set(rename.values())
    named = 0
    for fix in fixes:
        words = shell_words(fix)
        named += sum(1 for w in words if w in hostile)
        assert "PWN" not in "".join(w for w in words if w not in hostile)
    assert named, fixes


def test_markdown_escapes_what_would_be_markup() -> None:
    assert md("<svg onload=alert(1)>") == "&lt;svg onload=alert(1)&gt;"
    assert md("a|b`c*d_e[f]#") == "a\\|b\\`c\\*d\\_e\\[f\\]\\#"
    assert md("\n## x") == "\\\\n\\#\\# x"
    assert md("1. x") == "1\\. x" and md("- x") == "\\- x"
    assert code("a``b") == "```a``b```"
    assert code("`x") == "`` `x ``"


# -- loaders ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=30,
)


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
@SETTINGS
def test_bounded_json_raises_only_value_errors(data: bytes | str) -> None:
    with contextlib.suppress(ValueError):
        bounded_json.loads(data)


@given(json_values)
@SETTINGS
def test_bounded_json_reads_what_json_wrote_or_names_the_limit(value: Any) -> None:
    text = json.dumps(value)
    with contextlib.suppress(bounded_json.JSONLimitError):
        assert bounded_json.loads(text) == value


@given(depth=st.integers(0, 3000), kind=st.sampled_from(["[", '{"a":']))
@settings(max_examples=25, deadline=None)
def test_nesting_is_refused_past_the_limit_and_never_recurses(depth: int, kind: str) -> None:
    close = "]" if kind == "[" else "}"
    text = kind * depth + "0" + close * depth
    if depth <= bounded_json.DEFAULT.depth:
        bounded_json.loads(text)
    else:
        with pytest.raises(bounded_json.JSONLimitError, match="nested deeper"):
            bounded_json.loads(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[NaN]", "NaN is not a number"),
        ('{"a": Infinity}', "Infinity is not a number"),
        ("[-Infinity]", "Infinity is not a number"),
        ("[1e999]", "out of range"),
        ("[" + "9" * 5001 + "]", "a number of 5,001 characters"),
        ('["' + "x" * (bounded_json.DEFAULT.string_bytes + 1) + '"]', "a string of"),
    ],
)
def test_numbers_and_strings_past_the_limits_are_refused(text: str, words: str) -> None:
    with pytest.raises(bounded_json.JSONLimitError, match=words):
        bounded_json.loads(text.encode())


def _snapshot_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "s.json"
    path.write_bytes(data)
    return path


@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
@SETTINGS
def test_load_snapshot_refuses_anything_else_in_one_line(tmp_path: Path, data: bytes) -> None:
    try:
        load_snapshot(_snapshot_file(tmp_path, data))
    except SnapshotFormatError as exc:
        assert "\n" not in str(exc)


def with_rates_value(recorded: Snapshot, value: str) -> bytes:
    data = to_dict(replace(recorded, rates=None))
    text = json.dumps(data)
    head, _, tail = text.rpartition('"rates": null')
    rates = f'{{"interval": {value}, "interfaces": []}}'
    return (head + '"rates": ' + rates + tail).encode()


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "1e999", "9" * 5001], ids=["nan", "inf", "1e999", "digits"]
)
def test_a_snapshot_with_such_numbers_is_one_line(
    recorded: Snapshot, tmp_path: Path, value: str
) -> None:
    path = _snapshot_file(tmp_path, with_rates_value(recorded, value))
    with pytest.raises(SnapshotFormatError) as caught:
        load_snapshot(path)
    assert str(caught.value).startswith(f"{path}: not read: ")


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
def test_deep_nesting_in_every_loader_is_one_line_exit_2(tmp_path: Path, depth: int) -> None:
    from tests.cli import assert_one_line_error, cnet

    deep = tmp_path / "deep.json"
    deep.write_text('{"schema_version": 1, "x": ' + "[" * depth + "]" * depth + "}")
    for args in (
        ["snapshot", "--from", str(deep), "-f", "html"],
        ["diff", str(deep)],
        ["doctor", "--from", str(deep)],
        ["--load", str(deep), "snapshot"],
        ["rules", "--from", str(deep), "x"],
        ["rules", "--ruleset", str(deep), "x"],
    ):
        line = assert_one_line_error(cnet(*args), 2)
        assert "nested deeper than" in line or "not the JSON" in line, (args, line)


# -- a remote that sends hostile stream lines -------------------------------------------------

STREAM_STATUS = {
    "reading": False,
    "kernel_events": True,
    "engine_events": True,
    "changed_at": 5.0,
    "reconcile": 30.0,
}


def stream_line(snapshot: Snapshot, **status: object) -> str:
    return json.dumps({"status": {**STREAM_STATUS, **status}, "snapshot": to_dict(snapshot)})


def bad_lines(recorded: Snapshot) -> dict[str, bytes]:
    good = stream_line(recorded)
    return {
        "nan": stream_line(recorded, changed_at=float("nan")).encode(),
        "far future": stream_line(recorded, changed_at=1e300).encode(),
        "deep": b'{"status": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        "huge string": good.replace(
            f'"hostname": "{recorded.hostname}"', '"hostname": "' + "x" * 100_000 + '"'
        ).encode(),
        "markup and escapes": b'{"status": "[bold red]X\x1b[2J", "snapshot": null}',
        "digits": good.replace('"reconcile": 30.0', '"reconcile": ' + "9" * 5001).encode(),
    }


def hostile_remote(tmp_path: Path, recorded: Snapshot, bad: bytes) -> Any:
    """A fake ``ssh`` whose cnet stream sends one update with hostile names, then ``bad``,
    then stays connected (so only the bad line can make the feed stale)."""
    from inspector.remote.ssh import RemoteFeed, RemoteHost, Ssh, handshake_line

    tag = "[/]\x1b[2J\x1b]0;PWNED\x07"
    first = stream_line(renamed(recorded, hostile_names(recorded, tag)))
    lines = tmp_path / "lines"
    lines.write_bytes(f"{handshake_line()}\n{first}\n".encode() + bad + b"\n")
    program = tmp_path / "ssh"
    program.write_text(f"#!/bin/sh\ncat {lines}\nexec sleep 600\n")
    program.chmod(0o755)
    return RemoteFeed(Ssh(RemoteHost("web1"), program=str(program)))


@pytest.mark.parametrize("kind", ["nan", "far future", "deep", "huge string", "digits"])
def test_a_bad_remote_line_makes_the_feed_stale_with_a_reason(
    recorded: Snapshot, tmp_path: Path, kind: str
) -> None:
    import time

    feed = hostile_remote(tmp_path, recorded, bad_lines(recorded)[kind])
    got: list[Any] = []
    feed.start(got.append)
    deadline = time.monotonic() + 30
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    feed.stop()
    assert len(got) == 2, got
    assert got[1].snapshot.warnings[-1].startswith("stale: web1: bad data from the remote")
    assert not got[1].status.kernel_events and not got[1].status.engine_events
    assert feed.lost is not None and "bad data" in feed.lost
    assert_inert(feed.lost)


def test_the_tui_survives_a_hostile_remote_and_says_stale(
    recorded: Snapshot, tmp_path: Path
) -> None:
    import asyncio

    from inspector.tui.app import make_app
    from tests.test_tui import wait_for

    feed = hostile_remote(tmp_path, recorded, bad_lines(recorded)["markup and escapes"])
    feed.open()

    async def run() -> None:
        app = make_app(feed=feed, local=False)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(
                pilot,
                lambda: app.view is not None and "stale" in " ".join(app.view.snapshot.warnings),
                20,
            )
            assert app.title == "cnet"
            pane = app.pane("containers")
            for _ in pane.rows_shown:  # every row selected: no MarkupError, nothing raw
                await pilot.press("down")
                await pilot.press("y")
            await pilot.pause()
            assert_inert(app.sub_title)
            assert_inert(app.status_text())
            assert "bad data from the remote" in " ".join(app.view.snapshot.warnings)
            await pilot.press("q")

    try:
        asyncio.run(run())
    finally:
        feed.stop()


def test_the_largest_input_accepted_stays_within_ten_times_its_size(tmp_path: Path) -> None:
    """15 MB of recorded rules (the one field allowed to be long), read and written as
    HTML, the heaviest report: peak RSS (the kernel's ru_maxrss for that process alone)
    within 10x the input plus 100 MB."""
    from bench.hostile_input import big_snapshot, peak

    snap = big_snapshot(tmp_path, 15, "rules")
    out = tmp_path / "out.html"
    rss_mb, _, code, last = peak(
        [
            sys.executable,
            "-m",
            "inspector",
            "snapshot",
            "--from",
            str(snap),
            "-f",
            "html",
            "-o",
            str(out),
        ]
    )
    assert code == 0, last
    assert rss_mb <= 10 * snap.stat().st_size / 1e6 + 100
    assert out.stat().st_size > 15_000_000


@pytest.mark.parametrize("kind", ["nan", "deep"])
def test_d_with_a_hostile_file_is_a_notice_not_a_crash(
    recorded: Snapshot, tmp_path: Path, kind: str
) -> None:
    import asyncio

    from inspector.tui.app import make_app
    from inspector.tui.view import plain
    from tests.test_tui import SIZE, wait_for
    from tests.test_tui_compare import compare_with

    bad = tmp_path / f"{kind}.json"
    if kind == "nan":
        bad.write_bytes(with_rates_value(recorded, "NaN"))
    else:
        bad.write_text('{"schema_version": 1, "x": ' + "[" * 5000 + "]" * 5000 + "}")

    async def run() -> None:
        app = make_app(recorded)
        async with app.run_test(size=SIZE) as pilot:
            screen = await compare_with(app, pilot, bad)
            view = screen.query_one("#compare-view")
            await wait_for(pilot, lambda: "not read: " in plain(view.lines))  # type: ignore[attr-defined]
            await pilot.press("escape")
            await pilot.pause()
            assert app.compared is None

    asyncio.run(run())


@given(tag=any_text)
@SETTINGS
def test_metric_label_values_are_inert(recorded: Snapshot, tag: str) -> None:
    from prometheus_client.core import Metric
    from prometheus_client.exposition import generate_latest

    from inspector.exporter.metrics import all_interface_labels, doctor_family, info_family

    bad = renamed(recorded, hostile_names(recorded, tag))
    families: list[Metric] = [
        info_family(bad),
        doctor_family(run_checks(bad, c.name) for c in bad.containers),
    ]

    class Once:
        def collect(self) -> list[Metric]:
            return families

    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    registry.register(Once())  # type: ignore[arg-type]
    assert_inert(generate_latest(registry).decode("utf-8"))
    for labels in all_interface_labels(bad).values():
        for value in labels:
            assert_inert(value)
            assert "\n" not in value


def test_a_remote_commands_output_on_a_terminal_is_escaped_line_by_line() -> None:
    """What ``run_command`` relays to a terminal (to a file it is copied exact)."""
    import io

    from inspector.remote.ssh import _TerminalLines

    out = io.BytesIO()
    relay = _TerminalLines(out)
    data = "web: ok\nx\x1b]0;PWNED\x07 \u202eevil\n".encode() + b"bad \xff byte\nend"
    for n in range(0, len(data), 3):  # in pieces that cut lines and characters
        relay.write(data[n : n + 3])
    relay.close()
    shown = out.getvalue().decode("utf-8")
    assert shown == "web: ok\nx\\x1b]0;PWNED\\x07 \\u202eevil\nbad \\xff byte\nend"
