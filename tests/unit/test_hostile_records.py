"""The columnar normalizers against hostile records: real-shaped fixtures with fields replaced at random by
values of the wrong type or shape (objects, arrays, booleans, numbers, blanks, impossible times).

Whatever a record holds, cleaning does not fail, and every record ends as exactly one of: a row, a reject
with its reason, or a counted duplicate (the count balance that ``pipeline_runs`` checks).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from aerolake.cleaning import Rejects, encode_keys
from aerolake.gapfill import gazetteer_timezone
from aerolake.schema import TABLES, conform
from aerolake.sources.airlabs import normalize as airlabs
from aerolake.sources.airlabs.client import extract_records as airlabs_records
from aerolake.sources.aviationstack import normalize as aviationstack
from aerolake.sources.aviationstack.client import extract_records as aviationstack_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HOSTILE = [None, "", " ", "0", 0, 1, True, False, 1.5, 400.0, "0400", " lh ", "ZZZ", "fra", {"@nil": "true"}, {}, [],
           ["FRA"], "2026-3-1 1:5", "2026-03-01T12:10:00+02:00", "2026-03-29T02:30:00+00:00", "2026-10-25T02:30:00+00:00",
           "2026-02-30 12:00", "garbage", 1772366400, -5, "12345678", "D-AIXY", " Landed ", "3C4B26", 95.0, -200.5]


def staged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"_id": str(i), "_key": f"key{i}", "_lake": {"fetched_at": "2026-03-01T12:06:00Z", "s3_key": "raw/part"},
             **encode_keys(record)} for i, record in enumerate(records)]


def spoil(record: dict[str, Any], rng: random.Random, nested: bool) -> dict[str, Any]:
    record = copy.deepcopy(record)
    for _ in range(rng.randint(1, 4)):
        target = record
        if nested and rng.random() < 0.7:
            blocks = [k for k, v in record.items() if isinstance(v, dict)]
            if blocks:
                target = record[rng.choice(blocks)]
        if target:
            target[rng.choice(sorted(target))] = rng.choice(HOSTILE)
    return record


def assert_conforms(frame: Any, table: str) -> None:
    conformed = conform(frame, TABLES[table])
    assert list(conformed.columns) == TABLES[table].load_columns


@pytest.mark.parametrize("seed", range(8))
def test_airlabs_schedules_and_positions_survive_hostile_records(seed: int) -> None:
    rng = random.Random(seed)
    schedules = airlabs_records("schedules", json.loads((FIXTURES / "airlabs" / "schedules_page.json").read_text()))[0]
    positions = airlabs_records("flights", json.loads((FIXTURES / "airlabs" / "flights_page.json").read_text()))[0]
    docs = staged([spoil(r, rng, nested=False) for r in schedules * 4 + positions * 4])
    zones = {code: gazetteer_timezone(code) for code in ("FRA", "JFK", "MUC", "ORD", "BCN", "ZRH", "LHR", "IAH")}

    rejects = Rejects()
    flights, codeshares, duplicates = airlabs.clean_schedules(docs, zones, rejects)
    assert len(flights) + len(codeshares) + len(rejects) + duplicates == len(docs)
    assert all(item["reason"] for item in rejects.items)
    assert_conforms(flights, "flights")
    assert_conforms(codeshares, "flight_codeshares")

    rejects = Rejects()
    rows, duplicates = airlabs.clean_positions(docs, rejects)
    assert len(rows) + len(rejects) + duplicates == len(docs)
    assert rows["icao24"].str.fullmatch("[0-9a-f]{6}").all()
    assert_conforms(rows, "flight_positions")


@pytest.mark.parametrize("seed", range(8))
def test_aviationstack_flights_survive_hostile_records(seed: int) -> None:
    rng = random.Random(seed)
    page = json.loads((FIXTURES / "aviationstack" / "flights_page.json").read_text())
    docs = staged([spoil(r, rng, nested=True) for r in aviationstack_records("flights", page)[0] * 4])

    result = aviationstack.clean_documents(docs)
    outcomes = len(result["flights"]) + len(result["codeshares"]) + len(result["rejects"]) + result["duplicates"]
    assert outcomes == len(docs)
    assert all(item["reason"] for item in (*result["rejects"].items, *result["position_rejects"].items))
    assert len(result["positions"]) + len(result["position_rejects"]) + result["position_duplicates"] <= len(
        result["flights"])
    for name, table in (("flights", "flights"), ("codeshares", "flight_codeshares"), ("positions", "flight_positions")):
        assert_conforms(result[name], table)
