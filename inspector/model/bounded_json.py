"""JSON from a file or a remote line, with its work bounded before any object is built.

``json.loads`` builds whatever the text describes: a thousand nested lists end in a
RecursionError, a 5,001-digit integer in a ValueError, ``NaN`` and ``1e999`` in floats
that later crash a report, and a 60 MB string is copied several times over on its way
through the schema and the model.  :func:`loads` first scans the bytes once (one regular
expression, no objects): nesting depth, the length of every string, the digits of every
number and the count of values are checked against :class:`Limits`, and the first one
over its limit is refused with a one-line :class:`JSONLimitError`.  Only then does
``json.loads`` run, refusing ``NaN``, ``Infinity`` and any number that is not finite.

It lives in ``model`` (the ground floor) because loaders on several floors need it: the
rules (``rules --ruleset``), render (snapshots, ``cnet diff``) and remote (each stream
line); it is pure (the standard library only), so the lowest floor may hold it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class JSONLimitError(ValueError):
    """Text refused before or while it was parsed; the message is one line."""


@dataclass(frozen=True)
class Limits:
    """The largest input a loader accepts (docs/snapshot-format.md lists them)."""

    depth: int = 32
    """Nesting of lists and objects: a snapshot needs 6."""
    string_bytes: int = 64 * 1024
    """One string, as written (escapes included): a name, an address, a warning."""
    long_string_bytes: int = 16 * 1024 * 1024
    """The value of a ``long_keys`` key: the recorded rules' text of a big host."""
    long_keys: frozenset[str] = frozenset({"text"})
    number_chars: int = 40
    """One number as written: digits, sign, point and exponent."""
    values: int = 2_000_000
    """Strings, numbers, lists and objects in all: a host with 1,000 containers writes
    about 200,000."""


DEFAULT = Limits()

# One token a match: a string (escapes unrolled, so a long string is one linear match),
# an opening or closing bracket, or a run of number characters.
_TOKENS_B = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?(\s*:)?|[\[{]|[\]}]|[-+0-9.eE]+', re.DOTALL)
_TOKENS_S = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?(\s*:)?|[\[{]|[\]}]|[-+0-9.eE]+', re.DOTALL)
_OPEN = frozenset((ord("["), ord("{"), "[", "{"))
_CLOSE = frozenset((ord("]"), ord("}"), "]", "}"))
_QUOTE = frozenset((ord('"'), '"'))


def check(text: bytes | str, limits: Limits = DEFAULT) -> None:
    """Raise JSONLimitError at the first token over ``limits``; builds nothing."""
    tokens: Iterator[re.Match[bytes]] | Iterator[re.Match[str]] = (
        _TOKENS_B.finditer(text) if isinstance(text, bytes) else _TOKENS_S.finditer(text)
    )
    depth = 0
    values = 0
    long_keys = {k.encode() for k in limits.long_keys} | set(limits.long_keys)
    key: bytes | str = ""
    for match in tokens:
        token = match.group()
        first = token[0]
        if first in _QUOTE:
            if match.group(1):  # a key: the limit of the value after it is known by it
                length = match.start(1) - match.start() - 2
                key = token[1 : length + 1]
                most = limits.string_bytes
            else:
                length = len(token) - 2
                most = limits.long_string_bytes if key in long_keys else limits.string_bytes
            if length > most:
                raise JSONLimitError(
                    f"a string of {length:,} bytes at byte {match.start():,}: "
                    f"the most cnet reads there is {most:,}"
                )
        elif first in _OPEN:
            depth += 1
            if depth > limits.depth:
                raise JSONLimitError(
                    f"nested deeper than {limits.depth} levels at byte {match.start():,}"
                )
        elif first in _CLOSE:
            depth -= 1
            continue
        elif len(token) > limits.number_chars:
            raise JSONLimitError(
                f"a number of {len(token):,} characters at byte {match.start():,}: "
                f"the most cnet reads is {limits.number_chars}"
            )
        values += 1
        if values > limits.values:
            raise JSONLimitError(f"more than {limits.values:,} values")


def _constant(name: str) -> Any:
    raise JSONLimitError(f"{name} is not a number cnet reads (only finite numbers)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONLimitError(f"{text} is out of range (only finite numbers)")
    return value


def loads(text: bytes | str, limits: Limits = DEFAULT) -> Any:
    """``json.loads`` after :func:`check`: JSONLimitError past a limit or for a number
    that is not finite; json.JSONDecodeError (a ValueError) for text that is not JSON."""
    check(text, limits)
    return json.loads(text, parse_constant=_constant, parse_float=_float)
