"""``cnet snapshot`` bad input and re-rendering, without Docker or root."""

from __future__ import annotations

import json

import pytest

from inspector import __version__
from tests.cli import assert_one_line_error, cnet
from tests.conftest import RECORDED


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
    # The recorded file predates ``rulesets``: read as none, written as an empty list.
    assert json.loads(proc.stdout) == {**json.loads(RECORDED.read_text()), "rulesets": []}


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
