"""Natural order for names: ``hx-perf-2`` before ``hx-perf-10``, as people count.

Pure (no I/O, no Textual) so the TUI's panes and the reports sort the same way.
"""

from __future__ import annotations

import re

_CHUNKS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[tuple[int, int, str], ...], str]


def natural_key(text: str) -> NaturalKey:
    """A sort key where runs of digits compare as numbers and the rest ignores case.

    Every chunk is ``(kind, number, text)``, so keys of any two strings compare without a
    type error; the original text breaks ties (``a01`` and ``a1`` keep a fixed order).
    """
    parts: list[tuple[int, int, str]] = []
    for n, chunk in enumerate(_CHUNKS.split(text)):
        if not chunk:
            continue
        if n % 2:  # the split puts the digit runs at odd positions
            parts.append((0, int(chunk), ""))
        else:
            parts.append((1, 0, chunk.casefold()))
    return (tuple(parts), text)


def natural_sorted(names: list[str] | tuple[str, ...]) -> list[str]:
    """``names`` in natural order."""
    return sorted(names, key=natural_key)
