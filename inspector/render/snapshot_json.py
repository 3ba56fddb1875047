"""The JSON form of a snapshot (schema 1: docs/snapshot-format.md, docs/snapshot.schema.json).

Encoding walks the frozen dataclasses.  Reading is bounded (a size limit, chunked reads),
then the JSON Schema is checked with ``jsonschema``, so a file that does not match is
refused with the path of the first bad field instead of failing later in a renderer or
the UI; only then are the dataclasses built, walking their type hints.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import stat
import sys
import types
import typing
from importlib.resources import as_file, files
from typing import Any

from inspector.model import bounded_json
from inspector.model.snapshot import SCHEMA_VERSION, Snapshot

TOP_LEVEL_ORDER = (
    "schema_version",
    "taken_at",
    "hostname",
    "warnings",
    "host",
    "bridges",
    "containers",
    "rulesets",
    "rates",
    "connections",
    "doctor_facts",
)
OPTIONAL_KEYS = frozenset({"connections", "doctor_facts"})
"""Keys written only when they hold something (at any level): a snapshot without them
reads back and writes out byte for byte as an older cnet wrote it."""


class SnapshotFormatError(ValueError):
    """A file that is not a snapshot cnet can read; the message is one line."""


def to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as plain JSON-able data, top-level keys in the documented order."""
    plain = _encode(snapshot)
    assert isinstance(plain, dict)
    return {key: plain[key] for key in TOP_LEVEL_ORDER if key in plain}


def dumps(snapshot: Snapshot) -> str:
    """Indented down to records: each interface, route, port, ... is one compact line.

    As readable and diffable as ``indent=2`` for a person, and about five times faster,
    because the records go through json's C encoder (``indent`` forces the Python one).
    """
    parts: list[str] = []
    _write(to_dict(snapshot), "", parts)
    parts.append("\n")
    return "".join(parts)


def _is_record(value: Any) -> bool:
    """A dict or list with no list of objects inside: printed on one line."""
    if isinstance(value, dict):
        return all(_is_record(v) for v in value.values())
    if isinstance(value, list):
        return not any(isinstance(v, (dict, list)) for v in value)
    return True


_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False)  # built once: json.dumps builds one per call


def _write(value: Any, indent: str, out: list[str]) -> None:
    if _is_record(value) or not value:
        out.append(_RECORD_ENCODER.encode(value))
        return
    inner = indent + "  "
    if isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(f"{',' if n else ''}\n{inner}{json.dumps(key)}: ")
            _write(item, inner, out)
        out.append(f"\n{indent}}}")
    else:
        out.append("[")
        for n, item in enumerate(value):
            out.append(f"{',' if n else ''}\n{inner}")
            _write(item, inner, out)
        out.append(f"\n{indent}]")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_SCALARS = (str, int, float, bool, type(None))


def _encode(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(value))
    return {
        name: _encode(item)
        for name in names
        if (item := getattr(value, name)) is not None or name not in OPTIONAL_KEYS
    }


def from_dict(data: Any) -> Snapshot:
    """Validate against the JSON Schema and build a snapshot; raises SnapshotFormatError."""
    if not isinstance(data, dict):
        raise SnapshotFormatError("not a cnet snapshot: the top level is not a JSON object")
    version = data.get("schema_version")
    if version is None:
        raise SnapshotFormatError("not a cnet snapshot: no schema_version")
    if version != SCHEMA_VERSION:
        raise SnapshotFormatError(
            f"unsupported schema_version {version!r} (this cnet reads version {SCHEMA_VERSION})"
        )
    problem = schema_problem(data)
    if problem is not None:
        raise SnapshotFormatError(problem)
    result = _build(Snapshot, data)
    assert isinstance(result, Snapshot)
    return result


MAX_BYTES = 64 * 1024 * 1024
"""The largest snapshot cnet reads: a host with thousands of containers writes a few MiB."""

_CHUNK = 1024 * 1024


def load_snapshot(path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> Snapshot:
    """Read a saved snapshot: a regular file, a FIFO, or stdin for ``-``.

    At most ``max_bytes`` (+1, to know it was more) are ever read, so ``/dev/zero`` or an
    endless pipe is refused with bounded memory; every problem is a one-line
    SnapshotFormatError.
    """
    name = str(path)
    data = parse_bounded(read_source(name, max_bytes), name)
    try:
        return from_dict(data)
    except SnapshotFormatError as exc:
        raise SnapshotFormatError(f"{name}: {exc}") from None


def parse_bounded(raw: bytes, name: str) -> Any:
    """JSON read under bounded_json's limits (checked before anything is built), every
    problem a one-line SnapshotFormatError naming ``name``."""
    try:
        return bounded_json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SnapshotFormatError(f"{name}: not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise SnapshotFormatError(
            f"{name}: not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    except bounded_json.JSONLimitError as exc:
        raise SnapshotFormatError(f"{name}: not read: {exc}") from None


def read_source(name: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, a FIFO or stdin (``-``), refused past ``max_bytes``.

    Anything else (a device, a socket, a directory) is refused before it is opened:
    opening some devices has effects of its own.
    """
    if name == "-":
        return read_limited(sys.stdin.buffer.fileno(), max_bytes, "stdin")
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise SnapshotFormatError(f"{name}: no such file") from None
    except OSError as exc:
        raise SnapshotFormatError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise SnapshotFormatError(f"{name}: is a directory")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        raise SnapshotFormatError(f"{name}: not a regular file or a FIFO (use - to read stdin)")
    if st.st_size > max_bytes:
        raise SnapshotFormatError(_too_big(name, max_bytes))
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOCTTY)
    except OSError as exc:
        raise SnapshotFormatError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        return read_limited(fd, max_bytes, name)
    finally:
        os.close(fd)


def read_limited(fd: int, max_bytes: int, name: str) -> bytes:
    """Read ``fd`` to its end in chunks, never more than ``max_bytes + 1`` bytes in all."""
    chunks: list[bytes] = []
    total = 0
    while True:
        try:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
        except OSError as exc:
            raise SnapshotFormatError(f"{name}: cannot read: {exc.strerror or exc}") from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise SnapshotFormatError(_too_big(name, max_bytes))
        chunks.append(chunk)


def _too_big(name: str, max_bytes: int) -> str:
    size = f"{max_bytes // (1024 * 1024)} MiB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
    return f"{name}: larger than {size}, the most cnet reads as a snapshot: not read"


SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "snapshot.schema.json")
"""The JSON Schema of the format (docs/snapshot.schema.json; this path links to it)."""


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        schema = json.load(fh)
    return Draft202012Validator(schema)


def schema_problem(data: Any) -> str | None:
    """The first way ``data`` breaks the JSON Schema, in one line with the field's path."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is None:
        return None
    where = "snapshot" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
    )
    return f"{where}: {_describe(error)}"


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _describe(error: Any) -> str:
    """jsonschema's message in the words cnet always used (``expected a string, got 5``)."""
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "type":
        options = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(o, o) for o in options)
        return f"expected {words}, got {_kind(instance)}"
    if kind == "required":
        missing = next(k for k in expected if k not in instance)
        return f"missing field {missing!r}"
    if kind == "enum":
        return f"expected one of {', '.join(map(repr, expected))}, got {instance!r}"
    return " ".join(str(error.message).split())


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _build(tp: Any, value: Any) -> Any:
    """Data the schema accepted, as the model's types (no checks left to make)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _build(next(o for o in typing.get_args(tp) if o is not type(None)), value)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_build(item, v) for v in value)
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)  # type: ignore[arg-type]
        return tp(  # type: ignore[operator]
            **{
                f.name: _build(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.name in value
            }
        )
    if tp is int and isinstance(value, float):  # JSON Schema counts 2.0 as an integer
        return int(value)
    if tp is float and isinstance(value, int):  # a rate written as 0: the model's 0.0
        return float(value)
    return value


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def load_demo_snapshot() -> Snapshot:
    """The small snapshot shipped in the package (made from the real lab; it lives in
    ``inspector/tui/`` beside the TUI that opens it with ``--demo``)."""
    with as_file(files("inspector.tui").joinpath("demo-snapshot.json")) as path:
        return load_snapshot(path)
