"""Plausibility rules in the clean skeleton, and a record the normalizer raises on: each costs its record only.

A Lufthansa day whose page holds, among good flights, departures dated 9999-12-31 and 0001-01-01, a gate longer
than its column and a 20-character terminal: the run finishes, every other flight lands (the 20 characters
whole, never cut), the bad ones are in quarantine as the documents they were with the rule's name, and
``fetched = loaded + quarantined + duplicates`` holds.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from stage_support import put_raw_pages, query

from aerolake.core.settings import Settings
from aerolake.pipeline import stages
from aerolake.sources import source
from aerolake.stores import lake
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo, run_counts

FIXTURES = Path(__file__).parents[1] / "fixtures"
lufthansa = source("lufthansa")


def flights_page() -> tuple[dict, list[dict]]:
    """The fixture page and its flights of the days around 2026-03-02 (it also holds a DST case weeks later)."""
    page = json.loads((FIXTURES / "lufthansa" / "flightstatus_page.json").read_text())
    flights = page["FlightStatusResource"]["Flights"]["Flight"]
    return page, [f for f in flights if "2026-03-01" <= str(
        ((f.get("Departure") or {}).get("ScheduledTimeLocal") or {}).get("DateTime", "2026-03-02")) < "2026-03-05"]


def departing(flight: dict, day: str, number: str) -> dict:
    """``flight`` as another flight (``number``) scheduled on ``day`` (local and UTC), without actual times."""
    out = copy.deepcopy(flight)
    out["MarketingCarrier"]["FlightNumber"] = number
    for end in ("Departure", "Arrival"):
        for kind in ("Actual", "Estimated"):
            out[end].pop(f"{kind}TimeLocal", None)
            out[end].pop(f"{kind}TimeUTC", None)
    out["Departure"]["ScheduledTimeLocal"]["DateTime"] = f"{day}T10:00"
    out["Departure"]["ScheduledTimeUTC"]["DateTime"] = f"{day}T09:00Z"
    out["Arrival"]["ScheduledTimeLocal"]["DateTime"] = f"{day}T13:00"
    out["Arrival"]["ScheduledTimeUTC"]["DateTime"] = f"{day}T18:00Z"
    return out


@pytest.fixture
def ctx(s3, mongo, migrated_mysql):
    run = RunInfo("lufthansa_lakehouse", "run-1", Partition("lufthansa", "2026-03-02"))
    return stages.StageContext(run, Settings(bucket="aerolake-test"), s3, mongo, migrated_mysql)


def stage_day(ctx, flights: list[dict]) -> None:
    page = {"FlightStatusResource": {"Flights": {"Flight": flights}, "Meta": {"TotalCount": len(flights)}}}
    for endpoint in lufthansa.SPEC.endpoints:
        put_raw_pages(ctx, endpoint, [(page, len(flights))] if endpoint == "flightstatus" else [])


def test_implausible_flights_cost_their_record_and_the_rule_is_named(ctx) -> None:
    _page, good = flights_page()
    base = good[0]
    far_future = departing(base, "9999-12-31", "901")
    long_ago = departing(base, "0001-01-01", "902")
    long_gate = departing(base, "2026-03-02", "903")
    long_gate["Departure"]["Terminal"]["Gate"] = "G" * 40
    wide_terminal = departing(base, "2026-03-02", "904")
    wide_terminal["Departure"]["Terminal"]["Name"] = "Terminal 1 Concourse"  # 20 characters: fits, whole
    too_long_flight = departing(base, "2026-03-02", "905")
    too_long_flight["Arrival"]["ScheduledTimeUTC"]["DateTime"] = "2026-03-04T18:00Z"  # 57 hours gate to gate
    stage_day(ctx, [*good, far_future, long_ago, long_gate, wide_terminal, too_long_flight])

    stages.load_to_mongo(ctx)
    stages.clean(ctx)
    stages.load_to_mysql(ctx)
    stages.check_quality(ctx)

    quarantine = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flightstatus", "clean")
    refused = {str(q["record"]["MarketingCarrier"]["FlightNumber"]): q["reason"] for q in quarantine}
    # the fixture's own bad records (an unknown airport, ...) are refused by the normalizer as before
    assert {"901", "902", "903", "905"} <= set(refused) and "904" not in refused
    assert not any(reason.startswith("flights.") for number, reason in refused.items()
                   if number not in {"901", "902", "903", "905"})
    assert refused["901"].startswith("flights.departure_date.window: 9999-12-31")
    assert refused["902"].startswith("flights.departure_date.window: 0001-01-01")
    assert refused["903"].startswith("flights.dep_gate.length: " + "G" * 40)
    assert refused["905"].startswith("flights.scheduled_block_time.span: 3420")
    # quarantined as the raw record the API sent, in the lake and in MongoDB
    quarantined = ctx.mongo["quarantine"].find_one({"stage": "clean", "record.MarketingCarrier.FlightNumber": "903"})
    assert quarantined["record"]["Departure"]["Terminal"]["Gate"] == "G" * 40

    numbers = {n for (n,) in query(ctx.mysql, "SELECT flight_number FROM flights")}
    assert {"901", "902", "903", "905"}.isdisjoint(numbers) and "904" in numbers
    assert query(ctx.mysql, "SELECT dep_terminal FROM flights WHERE flight_number = '904'") == (
        ("Terminal 1 Concourse",),)
    # the dashboard's default day is the partition's, not a year 9999 flight's
    assert str(query(ctx.mysql, "SELECT MAX(departure_date) FROM flights")[0][0]) <= "2026-03-04"
    row = next(r for r in run_counts(ctx.mysql, ctx.run) if r["endpoint"] == "flightstatus")
    staging = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flightstatus", "load_to_mongo")
    assert row["quarantined"] == len(quarantine) + len(staging)
    assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"]
    assert query(ctx.mysql, "SELECT passed FROM data_quality_results WHERE check_name = 'count_balance'") == ((1,),)


def test_a_record_the_normalizer_raises_on_is_quarantined_and_the_rest_cleaned(ctx, monkeypatch) -> None:
    """A vectorized normalizer that fails on one record (a case it did not foresee) fails for its whole
    chunk; the skeleton finds that record by bisection and cleans the partition without it."""
    from aerolake.sources.lufthansa import normalize

    _page, good = flights_page()
    poison = departing(good[0], "2026-03-02", "666")
    stage_day(ctx, [*good, poison])
    stages.load_to_mongo(ctx)
    real = normalize.clean_flights

    def fragile(frame, zones):
        if (frame["flight_number"] == "666").any():
            raise ZeroDivisionError("a case the normalizer did not foresee")
        return real(frame, zones)

    monkeypatch.setattr(normalize, "clean_flights", fragile)
    counts = stages.clean(ctx)["flightstatus"]
    quarantine = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flightstatus", "clean")
    assert counts["quarantined_at_cleaning"] == len(quarantine) == 2  # the culprit, and the fixture's XYZ flight
    (item,) = [q for q in quarantine if q["reason"].startswith("the lufthansa normalizer failed on this record")]
    assert item["record"]["MarketingCarrier"]["FlightNumber"] == "666"
    assert item["reason"].endswith("ZeroDivisionError: a case the normalizer did not foresee")
    stages.load_to_mysql(ctx)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights")[0][0] == counts["cleaned"] > 0
    row = next(r for r in run_counts(ctx.mysql, ctx.run) if r["endpoint"] == "flightstatus")
    assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"]


def test_a_normalizer_failure_no_record_causes_fails_the_stage(ctx, monkeypatch) -> None:
    from aerolake.sources.lufthansa import normalize

    _page, good = flights_page()
    stage_day(ctx, good)
    stages.load_to_mongo(ctx)

    def broken(run):
        raise ZeroDivisionError("broken for every partition")

    monkeypatch.setattr(lufthansa, "clean_observations", broken)
    with pytest.raises(ZeroDivisionError, match="broken for every partition"):
        stages.clean(ctx)
    assert normalize.clean_flights  # the real normalizer is untouched
