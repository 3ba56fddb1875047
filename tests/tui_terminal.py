"""What a 16-colour terminal (TERM=screen, linux, xterm) shows of the TUI: shared by the
colour tests and the SVG snapshots, no tests of its own."""

from __future__ import annotations

from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter


def sixteen(colour: RichColor | None) -> RichColor | None:
    """``colour`` as a 16-colour terminal draws it (Rich's downgrade, as the driver does)."""
    if colour is None or colour.is_default:
        return colour
    standard = colour.downgrade(ColorSystem.STANDARD)
    return RichColor.from_triplet(standard.get_truecolor())


class SixteenColours(LineFilter):
    """Every colour downgraded to the 16 standard ones, drawn in their usual RGB."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        out = []
        for text, style, control in segments:
            if style is not None:
                style = style + Style(color=sixteen(style.color), bgcolor=sixteen(style.bgcolor))
            out.append(Segment(text, style, control))
        return out


def on_sixteen_colours(app: App[object]) -> App[object]:
    """``app`` drawn as on a 16-colour terminal (for the SVG snapshots)."""
    app._filters.append(SixteenColours())
    return app


def number(colour: Color) -> int:
    """The 16-colour number a colour is drawn with (-1: the terminal's default)."""
    if colour.ansi is not None:
        return colour.ansi
    found = colour.rich_color.downgrade(ColorSystem.STANDARD).number
    return -1 if found is None else found
