"""The status line's wording: plain words, one function whatever feeds it."""

from __future__ import annotations

from datetime import datetime, timezone

from inspector.tui.status_line import Freshness, status_line

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
CLOCK = T0.astimezone().strftime("%H:%M:%S")
SUMMARY = "7 containers, 12 host links, 3 bridges"


def test_live_says_live_and_when_the_data_last_changed() -> None:
    line = status_line(Freshness("live", SUMMARY, changed_at=T0, reconcile=30))
    assert line.text == f"{SUMMARY} · live · last change {CLOCK} · checked every 30 s"
    assert not line.alarm


def test_a_lost_event_stream_is_said_in_plain_words_and_highlighted() -> None:
    f = Freshness("live", SUMMARY, changed_at=T0, not_following=("Docker",), reconcile=30)
    line = status_line(f)
    assert line.alarm
    assert "not following Docker events (reconnecting)" in line.text
    assert "changes show at the next full read" in line.text
    both = status_line(
        Freshness("live", SUMMARY, changed_at=T0, not_following=("kernel", "Docker"))
    )
    assert "not following kernel or Docker events" in both.text


def test_first_read_filling_in_no_reconciliation_and_saved_data() -> None:
    assert "reading the host for the first time" in status_line(Freshness("live")).text
    filling = status_line(Freshness("live", SUMMARY, changed_at=T0, reading=True))
    assert "reading every namespace…" in filling.text and not filling.alarm
    manual = Freshness("live", SUMMARY, changed_at=T0, reconcile=0)
    assert status_line(manual).text.endswith("r reads again")
    saved = status_line(Freshness("file", SUMMARY))
    assert saved.text == f"{SUMMARY} · saved data, read-only" and not saved.alarm
