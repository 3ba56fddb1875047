"""Markdown and HTML reports on the recorded lab: what a person reads is there."""

from __future__ import annotations

import re

import pytest

from inspector.paths import interface_path
from inspector.render import render


def test_markdown_has_a_table_per_pane_and_paths(recorded) -> None:
    md = render(recorded, "markdown")
    for title in ("## Containers", "## Host interfaces", "## Host routes", "## Bridge ports"):
        assert title in md
    multi = recorded.container("cnetlab-multi")
    for i in multi.interfaces:
        if i.peer:
            # e.g. eth0 172.30.231.2 -> vethXXXX -> cnetlab-br1 172.30.231.1
            line = interface_path(recorded, multi, i)
            assert f"`{line}`" in md
            assert re.fullmatch(rf"{i.name} \S+ -> {i.peer.name} -> {i.peer.bridge} \S+", line)


def test_markdown_says_the_modes_in_words(recorded) -> None:
    md = render(recorded, "markdown")
    assert "shares the host's network stack" in md
    assert "shares the network namespace of container cnetlab-bridge" in md
    assert "loopback only" in md
    assert "not running (exited)" in md
    assert "macvlan on cnetlab-mvp" in md


def test_html_is_one_self_contained_file(recorded) -> None:
    html = render(recorded, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert "<style>" in html
    assert "cnetlab-multi" in html


def test_html_escapes_what_it_shows(recorded) -> None:
    from dataclasses import replace

    evil = replace(recorded, hostname="<img onerror=x>")
    assert "<img onerror" not in render(evil, "html")


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        render(None, "yaml")  # type: ignore[arg-type]


def test_summary_counts_read_as_english(recorded) -> None:
    from dataclasses import replace

    one = replace(recorded, bridges=recorded.bridges[:1], containers=recorded.containers[:1])
    md = render(one, "markdown")
    assert "1 container (" in md and "1 bridge with" in md
    assert f"{len(recorded.containers)} containers (" in render(recorded, "markdown")
