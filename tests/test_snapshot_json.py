"""The JSON contract: round trip, documented keys, and refusal of files that are not snapshots."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import tracemalloc

import pytest

from inspector.model import snapshot as model
from inspector.render.snapshot_json import (
    MAX_BYTES,
    SCHEMA_PATH,
    SnapshotFormatError,
    dumps,
    from_dict,
    load_snapshot,
    read_limited,
    to_dict,
)
from tests.conftest import RECORDED


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
        "rulesets",
        "rates",
    ]  # and doctor_facts, when recorded
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
    assert set(route) == {
        "dst",
        "gateway",
        "dev",
        "scope",
        "protocol",
        "metric",
        "type",
        "table",
        "nexthops",
        "prefsrc",
    }
    bridge = data["bridges"][0]
    assert set(bridge) == {"name", "ifindex", "state", "addresses", "stp", "ports"}
    assert set(bridge["ports"][0]) == {
        "name",
        "ifindex",
        "state",
        "container",
        "container_interface",
        "note",
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
            "snapshot.containers[0]: missing field 'name'",
        ),
        (
            '{"schema_version": 1, "taken_at": "t", "hostname": "h", "containers": [{"id": 1,'
            ' "name": "a", "image": "i", "state": "running", "pid": null, "network_mode": "x"}]}',
            "snapshot.containers[0].id: expected a string, got an integer",
        ),
        (
            '{"schema_version": 1, "taken_at": "t", "hostname": "h",'
            ' "host": {"interfaces": [{"name": "e", "ifindex": 2, "peer": 5}]}}',
            "snapshot.host.interfaces[0].peer: expected an object or null, got an integer",
        ),
        (
            '{"schema_version": 1, "taken_at": "t", "hostname": "h",'
            ' "rulesets": [{"source": "ufw", "text": ""}]}',
            "snapshot.rulesets[0].source: expected one of 'iptables-save'",
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


def test_not_utf8_is_refused(tmp_path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"hostname": "caf\xe9"}')
    with pytest.raises(SnapshotFormatError, match="not UTF-8"):
        load_snapshot(path)


def test_reads_a_fifo(tmp_path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = RECORDED.read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(text,))
    writer.start()
    try:
        snapshot = load_snapshot(fifo)
    finally:
        writer.join()
    assert snapshot == load_snapshot(RECORDED)


def test_a_device_is_refused_before_it_is_opened() -> None:
    with pytest.raises(SnapshotFormatError, match="not a regular file or a FIFO"):
        load_snapshot("/dev/zero")


def test_an_oversized_file_is_refused_unread(tmp_path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SnapshotFormatError) as err:
        load_snapshot(big)
    assert (
        str(err.value) == f"{big}: larger than 64 MiB, the most cnet reads as a snapshot: not read"
    )


def test_an_endless_stream_is_read_only_up_to_the_limit() -> None:
    """/dev/zero behind a descriptor (as stdin would be): refused after limit + 1 bytes, with
    memory bounded by the limit, not by how long the stream goes on."""
    limit = 4 * 1024 * 1024
    fd = os.open("/dev/zero", os.O_RDONLY)
    tracemalloc.start()
    try:
        with pytest.raises(SnapshotFormatError, match="larger than 4 MiB"):
            read_limited(fd, limit, "stdin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        os.close(fd)
    assert peak < 2 * limit


def test_a_growing_fifo_is_cut_at_the_limit(tmp_path) -> None:
    """A writer that never stops: the reader stops after limit + 1 bytes."""
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    written = [0]

    def write_forever() -> None:
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as fh:
            while True:
                fh.write(b" " * 65536)
                written[0] += 65536

    writer = threading.Thread(target=write_forever)
    writer.start()
    try:
        with pytest.raises(SnapshotFormatError, match="larger than 100000 bytes"):
            load_snapshot(fifo, max_bytes=100_000)
    finally:
        writer.join()
    assert written[0] < 100_000 + 2 * 65536 + 1024 * 1024  # what the pipe buffered, no more


def test_the_json_schema_is_the_model() -> None:
    """Every dataclass field is a property of its schema object, and exactly the fields
    without a default are required, so the schema and the model cannot drift apart."""
    docs = RECORDED.parent.parent.parent / "docs" / "snapshot.schema.json"
    assert os.path.samefile(SCHEMA_PATH, docs)  # the package reads the documented file
    schema = json.loads(docs.read_bytes())
    defs = schema["$defs"]
    classes = {
        cls.__name__: cls
        for cls in (
            model.PeerRef,
            model.ParentRef,
            model.Interface,
            model.Nexthop,
            model.Route,
            model.BridgePort,
            model.Bridge,
            model.NetworkAttachment,
            model.PublishedPort,
            model.Container,
            model.HostNetwork,
            model.RulesetText,
            model.Rate,
            model.ContainerRate,
            model.InterfaceRate,
            model.LinkRate,
            model.RecordedRates,
            model.TcpHealth,
            model.RecordedListener,
            model.RecordedFlow,
            model.NamespaceConnections,
            model.RecordedConnections,
            model.Listener,
            model.PingRecord,
            model.NamespaceFacts,
            model.ExemptNetwork,
            model.HostFacts,
        )
    }
    assert set(defs) == set(classes)
    for name, cls in [*classes.items(), ("Snapshot", model.Snapshot)]:
        node = schema if name == "Snapshot" else defs[name]
        fields = dataclasses.fields(cls)
        assert set(node["properties"]) == {f.name for f in fields}, name
        required = {
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        assert set(node["required"]) == required | (
            {"schema_version"} if name == "Snapshot" else set()
        ), name


def test_a_whole_float_is_read_as_the_integer_it_is() -> None:
    data = json.loads(dumps(load_snapshot(RECORDED)))
    data["host"]["interfaces"][0]["ifindex"] = 1.0
    iface = from_dict(data).host.interfaces[0]
    assert iface.ifindex == 1 and type(iface.ifindex) is int
    data["host"]["interfaces"][0]["ifindex"] = 1.5
    with pytest.raises(SnapshotFormatError, match=r"interfaces\[0\].ifindex: expected an integer"):
        from_dict(data)
