"""docs/snapshot.schema.json: a valid draft 2020-12 schema that every recorded snapshot and
everything cnet writes satisfies, checked with jsonschema itself."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from inspector.live.rates import recorded_rates
from inspector.model.snapshot import RulesetText
from inspector.render.snapshot_json import dumps
from tests.conftest import DATA
from tests.tui_fakes import scripted_rates

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "snapshot.schema.json").read_text())
DEMO = Path(__file__).parent.parent / "inspector" / "tui" / "demo-snapshot.json"
SAVED = [*sorted(DATA.glob("*snapshot*.json")), DEMO]  # not the recorded nft -j rulesets


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", SAVED, ids=lambda p: p.name)
def test_every_recorded_snapshot_satisfies_it(path: Path) -> None:
    errors = list(Draft202012Validator(SCHEMA).iter_errors(json.loads(path.read_text())))
    assert errors == []


def test_what_dumps_writes_satisfies_it(recorded) -> None:
    with_rules = replace(
        recorded,
        rulesets=(
            RulesetText("iptables-save", "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n"),
            RulesetText("nft -j", '{"nftables": []}'),
        ),
    )
    for snapshot in (recorded, with_rules):
        Draft202012Validator(SCHEMA).validate(json.loads(dumps(snapshot)))


def test_a_snapshot_with_rates_satisfies_it(recorded) -> None:
    rates = scripted_rates(recorded, 1, lambda t, name: 1000)[-1]
    data = json.loads(dumps(replace(recorded, rates=recorded_rates(rates))))
    assert data["rates"]["containers"] and data["rates"]["host"]
    Draft202012Validator(SCHEMA).validate(data)
    data["rates"]["containers"][0]["rate"]["tx_bytes"] = -1.0  # a rate is never negative
    assert not Draft202012Validator(SCHEMA).is_valid(data)
    assert Draft202012Validator(SCHEMA).is_valid({**data, "rates": None})


def test_the_schema_refuses_what_the_model_cannot_hold(recorded) -> None:
    data = json.loads(dumps(recorded))
    data["containers"][0]["pid"] = "1234"
    assert not Draft202012Validator(SCHEMA).is_valid(data)


def test_the_live_lab_snapshot_satisfies_it(lab) -> None:
    """What ``cnet snapshot`` writes for the real lab (every network mode)."""
    from inspector.live.runner import collect_snapshot

    data = json.loads(dumps(collect_snapshot()))
    assert {c["name"] for c in data["containers"]} >= {lab.bridge, lab.multi, lab.shared}
    Draft202012Validator(SCHEMA).validate(data)
