"""Frames and titles stay visible on 16- and 256-colour terminals, in every kind of theme."""

from __future__ import annotations

import pytest
from rich.color import ColorSystem
from textual.color import Color
from textual.widget import Widget

from inspector.model.snapshot import Snapshot
from inspector.tui.app import CnetApp, make_app
from tests.test_tui import sync
from tests.tui_terminal import number

THEMES = ["textual-dark", "textual-light", "nord", "gruvbox", "tokyo-night", "monokai"]


def colours(widget: Widget) -> tuple[Color, Color, Color]:
    """Background, frame and title colour of a framed widget, as they are drawn."""
    background = widget.background_colors[1]
    return (
        background,
        background + widget.styles.border_top[1],
        background + widget.styles.border_title_color,
    )


def eight_bit(colour: Color) -> int | None:
    return colour.rich_color.downgrade(ColorSystem.EIGHT_BIT).number


async def unfocused_frames(app: CnetApp) -> list[Widget]:
    assert app.focused is app.pane("containers")
    return [app.detail, *(app.screen.query_one(f"#{p}-pane") for p in ("interfaces", "routes"))]


@pytest.mark.parametrize("theme", THEMES)
def test_unfocused_frames_and_the_detail_title_show_on_16_and_256_colours(
    recorded: Snapshot, theme: str
) -> None:
    @sync
    async def run() -> None:
        app = make_app(recorded)
        async with app.run_test(size=(100, 30)) as pilot:
            app.theme = theme
            await pilot.pause()
            focused = colours(app.screen.query_one("#containers-pane"))
            for widget in await unfocused_frames(app):
                background, frame, title = colours(widget)
                assert number(frame) != number(background), widget.id
                assert number(title) != number(background), widget.id
                assert eight_bit(frame) != eight_bit(background), widget.id
                assert frame != focused[1]  # which pane has the focus still shows
            assert str(app.detail.border_title) == "Detail"

    run()


def test_on_an_ansi_theme_frames_use_the_terminal_default_not_black(recorded: Snapshot) -> None:
    @sync
    async def run() -> None:
        app = make_app(recorded)
        async with app.run_test(size=(100, 30)) as pilot:
            app.theme = "ansi-dark"
            await pilot.pause()
            for widget in await unfocused_frames(app):
                background, frame, title = colours(widget)
                assert number(background) == -1  # the terminal's own background
                assert number(frame) not in (0, 8)  # black or dark grey: lost on it
                assert number(title) not in (0, 8)

    run()


def test_no_color_draws_panes_with_hidden_columns(
    recorded: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR's filter takes every cell, the empty ones of hidden columns too."""
    monkeypatch.setenv("NO_COLOR", "1")

    @sync
    async def run() -> None:
        app = make_app(recorded)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert 0 in app.pane("routes").widths  # Proto is hidden at 80 columns
            assert "Routes" in app.export_screenshot()

    run()
