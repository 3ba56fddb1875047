"""The status line's wording: plain words, one function whatever feeds it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from inspector.tui.status_line import Freshness, status_line

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
CLOCK = T0.astimezone().strftime("%H:%M:%S")
SUMMARY = "7 containers, 12 host links, 3 bridges"


def test_live_says_live_and_when_the_data_last_changed() -> None:
    line = status_line(Freshness("live", SUMMARY, changed_at=T0), T0 + timedelta(seconds=9), 3)
    assert line.text == f"{SUMMARY} · live · last change {CLOCK}"
    assert not line.alarm
    assert "every" not in line.text  # no promise of a period the reads may not keep


def test_a_slow_read_is_stale_in_plain_words() -> None:
    f = Freshness("live", SUMMARY, changed_at=T0, reading_since=T0 + timedelta(seconds=1))
    assert not status_line(f, T0 + timedelta(seconds=2), 3).alarm
    line = status_line(f, T0 + timedelta(seconds=5), 3)
    assert line.alarm and line.text.startswith(f"STALE since {CLOCK}: ")
    assert "has not answered for 4 s" in line.text and "collect" not in line.text


def test_a_failed_read_keeps_the_data_and_says_why() -> None:
    f = Freshness("live", SUMMARY, changed_at=T0, failed="OSError: socket timed out")
    line = status_line(f, T0, 3)
    assert line.alarm and "reading the host failed (OSError: socket timed out)" in line.text


def test_first_read_manual_refresh_and_saved_data() -> None:
    assert "reading the host for the first time" in status_line(Freshness("live"), T0, 3).text
    manual = Freshness("live", SUMMARY, changed_at=T0, manual=True)
    assert status_line(manual, T0, 3).text.endswith("r reads again")
    saved = status_line(Freshness("file", SUMMARY), T0, 3)
    assert saved.text == f"{SUMMARY} · saved data, read-only" and not saved.alarm
