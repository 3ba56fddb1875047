"""The JSON form of a snapshot (schema 1, documented in docs/snapshot-format.md).

Encoding walks the frozen dataclasses; decoding walks their type hints, so a file that
does not match the model is refused with the path of the first bad field instead of
failing later in a renderer or the UI.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from inspector.model import SCHEMA_VERSION, Snapshot

TOP_LEVEL_ORDER = (
    "schema_version",
    "taken_at",
    "hostname",
    "warnings",
    "host",
    "bridges",
    "containers",
)


class SnapshotFormatError(ValueError):
    """A file that is not a snapshot cnet can read; the message is one line."""


def to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as plain JSON-able data, top-level keys in the documented order."""
    plain = _encode(snapshot)
    assert isinstance(plain, dict)
    return {key: plain[key] for key in TOP_LEVEL_ORDER}


def dumps(snapshot: Snapshot) -> str:
    return json.dumps(to_dict(snapshot), indent=2, ensure_ascii=False) + "\n"


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    return value


def from_dict(data: Any) -> Snapshot:
    """Validate and build a snapshot; raises SnapshotFormatError."""
    if not isinstance(data, dict):
        raise SnapshotFormatError("not a cnet snapshot: the top level is not a JSON object")
    version = data.get("schema_version")
    if version is None:
        raise SnapshotFormatError("not a cnet snapshot: no schema_version")
    if version != SCHEMA_VERSION:
        raise SnapshotFormatError(
            f"unsupported schema_version {version!r} (this cnet reads version {SCHEMA_VERSION})"
        )
    result = _decode(Snapshot, data, "snapshot")
    assert isinstance(result, Snapshot)
    return result


def load_snapshot(path: str | Path) -> Snapshot:
    """Read a saved snapshot file; every problem is a one-line SnapshotFormatError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotFormatError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise SnapshotFormatError(f"{p}: is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotFormatError(
            f"{p}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotFormatError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        return from_dict(data)
    except SnapshotFormatError as exc:
        raise SnapshotFormatError(f"{p}: {exc}") from None


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        inner = [o for o in options if o is not type(None)]
        return _decode(inner[0], value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise SnapshotFormatError(f"{where}: expected a list, got {_kind(value)}")
        item = typing.get_args(tp)[0]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        assert isinstance(tp, type)
        if not isinstance(value, dict):
            raise SnapshotFormatError(f"{where}: expected an object, got {_kind(value)}")
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = _decode(_hints(tp)[f.name], value[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SnapshotFormatError(f"{where}: missing field {f.name!r}")
        return tp(**kwargs)
    if tp is bool:
        if not isinstance(value, bool):
            raise SnapshotFormatError(f"{where}: expected true or false, got {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SnapshotFormatError(f"{where}: expected an integer, got {_kind(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise SnapshotFormatError(f"{where}: expected a string, got {_kind(value)}")
        return value
    raise TypeError(f"no decoder for {tp!r}")  # pragma: no cover - a model change without a decoder


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)
