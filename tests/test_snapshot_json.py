"""The JSON contract: round trip, documented keys, and refusal of files that are not snapshots."""

from __future__ import annotations

import json

import pytest

from inspector.snapshot_json import SnapshotFormatError, dumps, from_dict, load_snapshot, to_dict


def test_round_trip_is_lossless(recorded) -> None:
    assert from_dict(json.loads(dumps(recorded))) == recorded


def test_documented_top_level_and_field_names(recorded) -> None:
    data = to_dict(recorded)
    assert list(data) == [
        "schema_version",
        "taken_at",
        "hostname",
        "warnings",
        "host",
        "bridges",
        "containers",
    ]
    assert data["schema_version"] == 1
    iface = data["host"]["interfaces"][0]
    for key in (
        "name",
        "ifindex",
        "iflink",
        "kind",
        "mac",
        "mtu",
        "state",
        "addresses",
        "peer",
        "parent",
    ):
        assert key in iface
    c = data["containers"][0]
    for key in (
        "id",
        "name",
        "image",
        "state",
        "pid",
        "network_mode",
        "netns_shared_with",
        "networks",
        "ports",
        "interfaces",
        "routes",
    ):
        assert key in c
    route = data["host"]["routes"][0]
    assert set(route) == {"dst", "gateway", "dev", "scope", "protocol", "metric"}
    bridge = data["bridges"][0]
    assert set(bridge) == {"name", "ifindex", "state", "addresses", "stp", "ports"}
    assert set(bridge["ports"][0]) == {
        "name",
        "ifindex",
        "state",
        "container",
        "container_interface",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"hostname": "x"}', "no schema_version"),
        ('{"schema_version": 99}', "unsupported schema_version 99"),
        (
            '{"schema_version": 1, "taken_at": "t", "hostname": 5}',
            "snapshot.hostname: expected a string",
        ),
        (
            '{"schema_version": 1, "taken_at": "t", "hostname": "h", "containers": [{"id": 1}]}',
            "snapshot.containers[0].id",
        ),
    ],
)
def test_bad_files_are_refused_with_one_line(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SnapshotFormatError) as err:
        load_snapshot(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(SnapshotFormatError, match="no such file"):
        load_snapshot(tmp_path / "nope.json")
