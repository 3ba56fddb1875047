"""The one rule for text from the host: shown, never obeyed.

Any local user names processes, namespaces and interfaces that cnet (run as root) shows.
A terminal obeys control characters (``ESC [2J`` blanks it, ``ESC ]0;`` retitles it), a
newline forges a line, and bidi overrides reorder what is read.  So every name that
leaves cnet as text for a person goes through :func:`safe`: C0 controls, DEL, C1
controls, the Unicode line separators and the bidi embeddings and overrides are shown
escaped (``\\x1b``, ``\\n``, ``\\u202e``), and bytes that were not UTF-8 (Python's
surrogateescape) as ``\\xff``, never as a ``b'...'`` literal.  Everything else is
unchanged, so an ordinary name costs one regular-expression scan.

The JSON snapshot keeps the exact text (JSON escapes it); markup (Textual, Rich,
Markdown, HTML) is a separate concern: names are never parsed as markup at all.

It lives in ``model`` (the ground floor), not ``render``: the doctor's and the rules'
text sit below ``render`` in the layers contract and print names too, and a function of
the standard library only may sit on the lowest floor every other one can import.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)


def _escape(cp: int) -> str:
    ch = chr(cp)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= cp <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{cp - 0xDC00:02x}"
    return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}"


_TABLE = {
    cp: _escape(cp)
    for cp in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        0x2028,
        0x2029,
        *_BIDI,
        *range(0xD800, 0xE000),
    )
}
_UNSAFE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_TABLE)) + "]")


def safe(text: str) -> str:
    """``text`` with every control character, line separator, bidi override and
    undecodable byte shown escaped: one line, inert on any terminal."""
    if _UNSAFE.search(text) is None:
        return text
    return text.translate(_TABLE)


def safe_lines(text: str) -> str:
    """A block of lines made by cnet (its own newlines kept) with everything else in
    it escaped: for output put together before it reaches the edge, such as a remote
    command's text, where each name can no longer be escaped on its own."""
    return "\n".join(safe(line) for line in text.split("\n"))
