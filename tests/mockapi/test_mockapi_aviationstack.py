"""The mock Aviation Stack v1 API: shapes, paging, quirks, errors, quotas, faults, and consistency with the
Lufthansa view of the same flights."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from aerolake.mockapi import MockApi, MockConfig
from aerolake.mockapi.__main__ import build_parser

from .conftest import DAY, LhClient

KEY = "aerolake-offline"
RECORD_KEYS = ["flight_date", "flight_status", "departure", "arrival", "airline", "flight", "aircraft", "live"]
SIDE_KEYS = ["airport", "timezone", "iata", "icao", "terminal", "gate", "delay", "scheduled", "estimated", "actual",
             "estimated_runway", "actual_runway"]
STATUSES = {"scheduled", "active", "landed", "cancelled", "incident", "diverted"}


def get(api: MockApi, function: str = "flights", **params: Any) -> requests.Response:
    params.setdefault("access_key", KEY)
    return requests.get(f"{api.aviationstack_url}/{function}", params=params, timeout=30)


def all_records(api: MockApi, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = get(api, limit=100, offset=offset, **params).json()
        records.extend(body["data"])
        offset += 100
        if offset >= body["pagination"]["total"]:
            return records


def operating(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["flight"]["codeshared"] is None]


@pytest.fixture
def midday(knobs: MockApi) -> MockApi:
    knobs.configure(now=f"{DAY}T12:00:00Z")
    return knobs


# -- shapes and paging ------------------------------------------------------------------------------------
def test_envelope_and_record_shape(midday: MockApi) -> None:
    response = get(midday, flight_date=DAY, dep_iata="FRA")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["pagination", "data"]
    assert body["pagination"] == {"limit": 100, "offset": 0, "count": 100, "total": body["pagination"]["total"]}
    for record in body["data"]:
        assert list(record) == RECORD_KEYS
        assert list(record["departure"]) == SIDE_KEYS
        assert list(record["arrival"]) == [*SIDE_KEYS[:6], "baggage", *SIDE_KEYS[6:]]
        assert record["flight_date"] == DAY and record["departure"]["iata"] == "FRA"
        assert record["departure"]["scheduled"].endswith("+00:00")
        assert record["flight_status"] in STATUSES
        assert isinstance(record["flight"]["number"], str)
        assert record["aircraft"] is None or list(record["aircraft"]) == ["registration", "iata", "icao", "icao24"]


def test_paging_covers_the_listing_once_and_clamps_the_limit(midday: MockApi) -> None:
    records = all_records(midday, flight_date=DAY, dep_iata="MUC")
    total = get(midday, flight_date=DAY, dep_iata="MUC").json()["pagination"]["total"]
    assert len(records) == total > 600  # 600 flights plus their codeshare listings
    # each record once (the world itself may give two legs one number: LH3129 MUC-HEL and MUC-VLC)
    keys = [(r["airline"]["iata"], r["flight"]["number"], r["arrival"]["iata"], r["departure"]["scheduled"])
            for r in records]
    assert len(set(keys)) == len(keys)
    big = get(midday, flight_date=DAY, dep_iata="MUC", limit=1000).json()
    assert big["pagination"]["limit"] == 100 and len(big["data"]) == 100
    past = get(midday, flight_date=DAY, dep_iata="MUC", offset=total + 5).json()
    assert past["data"] == [] and past["pagination"]["count"] == 0 and past["pagination"]["total"] == total


def test_the_same_date_gives_the_same_bytes_on_another_server(midday: MockApi) -> None:
    first = get(midday, flight_date=DAY, dep_iata="FRA", offset=200).content
    with MockApi(MockConfig(seed=7, flights_per_hub=600, qps_limit=None, now=f"{DAY}T12:00:00Z")) as other:
        assert get(other, flight_date=DAY, dep_iata="FRA", offset=200).content == first


def test_filters_arrivals_airline_and_status(midday: MockApi) -> None:
    arrivals = all_records(midday, flight_date=DAY, arr_iata="FRA")
    assert arrivals and all(r["arrival"]["iata"] == "FRA" and r["flight_date"] == DAY for r in arrivals)
    both = all_records(midday, flight_date=DAY, dep_iata="MUC", arr_iata="FRA")
    assert both and all(r["departure"]["iata"] == "MUC" and r["arrival"]["iata"] == "FRA" for r in both)
    lh = all_records(midday, flight_date=DAY, dep_iata="FRA", airline_iata="lh")
    assert lh and {r["airline"]["iata"] for r in lh} == {"LH"}
    landed = all_records(midday, flight_date=DAY, dep_iata="FRA", flight_status="landed")
    assert landed and {r["flight_status"] for r in landed} == {"landed"}


# -- the same flights as the Lufthansa API ----------------------------------------------------------------
def test_operating_records_are_the_lufthansa_departures(midday: MockApi, lh: LhClient) -> None:
    lufthansa = lh.flights("departures", "FRA")
    aviationstack = operating(all_records(midday, flight_date=DAY, dep_iata="FRA"))

    def lh_key(f: dict[str, Any]) -> tuple:
        return (f["MarketingCarrier"]["AirlineID"], str(f["MarketingCarrier"]["FlightNumber"]),
                f["Departure"]["AirportCode"], f["Arrival"]["AirportCode"],
                f["Departure"]["ScheduledTimeLocal"]["DateTime"], f["Arrival"]["ScheduledTimeLocal"]["DateTime"])

    def as_key(r: dict[str, Any]) -> tuple:
        return (r["airline"]["iata"], r["flight"]["number"], r["departure"]["iata"], r["arrival"]["iata"],
                r["departure"]["scheduled"][:16], r["arrival"]["scheduled"][:16])

    assert len(aviationstack) == len(lufthansa) == 600
    assert Counter(map(as_key, aviationstack)) == Counter(map(lh_key, lufthansa))
    # the "+00:00" times are local: converted with the airport's zone they give Lufthansa's UTC times
    utc = {lh_key(f)[:3]: f["Departure"]["ScheduledTimeUTC"]["DateTime"] for f in lufthansa}
    for record in aviationstack[:50]:
        from zoneinfo import ZoneInfo

        local = datetime.fromisoformat(record["departure"]["scheduled"][:19])
        zone = ZoneInfo(record["departure"]["timezone"])
        as_utc = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%MZ")
        assert as_utc == utc[as_key(record)[:3]]


def test_codeshare_listings_point_at_an_operating_flight_of_the_listing(midday: MockApi) -> None:
    records = all_records(midday, flight_date=DAY, dep_iata="FRA")
    flights = {(r["airline"]["iata"], r["flight"]["number"], r["departure"]["scheduled"]): r
               for r in operating(records)}
    listings = [r for r in records if r["flight"]["codeshared"] is not None]
    assert 0.15 * len(flights) < len(listings) < 0.6 * len(flights)
    lower = 0
    for listing in listings:
        shared = listing["flight"]["codeshared"]
        target = flights[(shared["airline_iata"].upper(), shared["flight_number"], listing["departure"]["scheduled"])]
        assert (listing["departure"], listing["arrival"]) == (target["departure"], target["arrival"])
        assert listing["airline"]["iata"] != target["airline"]["iata"]
        assert (listing["airline"]["iata"], listing["flight"]["number"]) not in {k[:2] for k in flights}
        lower += shared["airline_iata"].islower()
    assert 0.5 * len(listings) < lower < len(listings)  # mostly lower case, not always


def test_quirks_of_a_day(midday: MockApi) -> None:
    records = operating(all_records(midday, flight_date=DAY, dep_iata="FRA"))
    assert sum(r["airline"]["name"] == "empty" for r in records) >= 10
    assert sum(r["aircraft"] is None for r in records) >= 20
    with_aircraft = [r["aircraft"] for r in records if r["aircraft"]]
    assert any(a["registration"] is None for a in with_aircraft) and any(a["icao24"] is None for a in with_aircraft)
    assert all(a["icao24"] is None or re.fullmatch(r"[0-9A-F]{6}", a["icao24"]) for a in with_aircraft)
    active = [r for r in records if r["flight_status"] == "active"]
    assert active and any(r["live"] is None for r in active) and any(r["live"] is not None for r in active)
    assert all(r["live"] is None for r in records if r["flight_status"] != "active")
    assert all(r["departure"]["delay"] is None or r["departure"]["delay"] > 0 for r in records)


# -- the mock clock ---------------------------------------------------------------------------------------
def _utc(text: str, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text[:19]).replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def test_live_positions_are_for_flights_airborne_at_the_mock_clock(midday: MockApi) -> None:
    now = datetime.fromisoformat(f"{DAY}T12:00:00+00:00")
    records = operating(all_records(midday, flight_date=DAY, dep_iata="FRA"))
    live = [r for r in records if r["live"]]
    assert len(live) >= 20
    for r in live:
        dep, arr = r["departure"], r["arrival"]
        assert r["flight_status"] == "active" and arr["actual"] is None
        assert _utc(dep["actual"], dep["timezone"]) <= now < _utc(arr["estimated"], arr["timezone"])
        updated = datetime.fromisoformat(r["live"]["updated"])
        assert now - timedelta(minutes=4) <= updated <= now
        assert -90 <= r["live"]["latitude"] <= 90 and -180 <= r["live"]["longitude"] <= 180
        assert r["live"]["is_ground"] is False and 0 <= r["live"]["altitude"] <= 11_500


@pytest.mark.parametrize(("now", "allowed"), [("2026-02-27T12:00:00Z", {"scheduled", "cancelled"}),
                                              ("2026-03-04T12:00:00Z", {"landed", "cancelled", "diverted"})])
def test_before_and_after_the_day_nobody_is_airborne(knobs: MockApi, now: str, allowed: set[str]) -> None:
    knobs.configure(now=now)
    records = all_records(knobs, flight_date=DAY, dep_iata="FRA")
    assert {r["flight_status"] for r in records} <= allowed and not [r for r in records if r["live"]]
    if "scheduled" in allowed:
        assert all(r["departure"]["actual"] is None for r in records)


# -- errors, quotas and faults ----------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "status", "code"), [
    ({"access_key": ""}, 401, "missing_access_key"),
    ({"access_key": "not-the-key"}, 401, "invalid_access_key"),
    ({"flight_date": "01.03.2026"}, 422, "validation_error"),
    ({"dep_iata": "FRANKFURT"}, 422, "validation_error"),
    ({"dep_iata": "QQZ"}, 422, "validation_error"),
    ({"limit": "many"}, 422, "validation_error"),
])
def test_error_bodies(midday: MockApi, params: dict[str, str], status: int, code: str) -> None:
    response = get(midday, **{"flight_date": DAY, "dep_iata": "FRA", **params})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if code == "validation_error":
        assert list(error["context"]) == [next(k for k in params if k != "access_key")]


def test_unknown_functions_answer_invalid_api_function(midday: MockApi) -> None:
    response = get(midday, "airplanes")
    assert response.status_code == 404 and response.json()["error"]["code"] == "invalid_api_function"


def test_restricted_dates_answer_function_access_restricted(midday: MockApi) -> None:
    midday.configure(aviationstack_restrict_dates=True)
    assert get(midday, flight_date="2026-02-28", dep_iata="FRA").status_code == 200
    response = get(midday, flight_date="2026-02-27", dep_iata="FRA")
    assert response.status_code == 403 and response.json()["error"]["code"] == "function_access_restricted"


def test_the_monthly_quota_answers_usage_limit_reached_until_reset(midday: MockApi) -> None:
    midday.configure(aviationstack_monthly_limit=3)
    midday.reset_stats()
    statuses = [get(midday, flight_date=DAY, dep_iata="FRA").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert get(midday, flight_date=DAY).json()["error"]["code"] == "usage_limit_reached"
    assert midday.stats()["requests"]["aviationstack/flights"] == 6
    midday.reset_stats()
    assert get(midday, flight_date=DAY, dep_iata="FRA").status_code == 200


def test_the_minute_limit_answers_rate_limit_reached(midday: MockApi) -> None:
    midday.configure(aviationstack_minute_limit=2)
    midday.reset_stats()
    responses = [get(midday, flight_date=DAY, dep_iata="FRA") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].json()["error"]["code"] == "rate_limit_reached"


def test_fault_knobs_apply_as_for_lufthansa(midday: MockApi) -> None:
    midday.configure(error_rate=1.0)
    response = get(midday, flight_date=DAY, dep_iata="FRA")
    assert response.status_code in (500, 502, 503)
    if response.status_code == 500:
        assert response.json() == {"error": {"code": "internal_error", "message": "An internal error occurred."}}
    midday.configure(error_rate=0.0, rate_limit_rate=1.0)
    assert get(midday, flight_date=DAY, dep_iata="FRA").json()["error"]["code"] == "rate_limit_reached"
    midday.configure(rate_limit_rate=0.0, malformed_paths=[r"aviationstack/v1/flights.*offset=100"])
    cut = get(midday, flight_date=DAY, dep_iata="FRA", offset=100)
    assert cut.status_code == 200
    with pytest.raises(json.JSONDecodeError, match="line 1"):
        json.loads(cut.content)
    assert json.loads(get(midday, flight_date=DAY, dep_iata="FRA", offset=0).content)["data"]


def test_key_is_checked_before_faults_and_calls_are_counted(midday: MockApi) -> None:
    midday.reset_stats()
    get(midday, flight_date=DAY, dep_iata="FRA")
    get(midday, access_key="nope")
    stats = midday.stats()
    assert stats["requests"] == {"aviationstack/flights": 2}
    assert stats["status_counts"] == {"200": 1, "401": 1}


def test_any_key_is_accepted_when_the_knob_is_empty(midday: MockApi) -> None:
    midday.configure(aviationstack_access_key=None)
    assert get(midday, flight_date=DAY, dep_iata="FRA", access_key="whatever").status_code == 200
    assert get(midday, flight_date=DAY, dep_iata="FRA", access_key="").status_code == 401
    assert midday.mock.config.to_public_dict()["aviationstack_access_key"] is None


# -- anomalies --------------------------------------------------------------------------------------------
def test_anomalies() -> None:
    with MockApi(MockConfig(flights_per_hub=80, qps_limit=None, anomalies=True, now=f"{DAY}T12:00:00Z")) as api:
        records = all_records(api, flight_date=DAY, dep_iata="FRA")
    unkeyed = [r for r in records if r["flight"]["number"] is None]
    assert len(unkeyed) == 1 and unkeyed[0]["airline"] == {"name": "empty", "iata": None, "icao": None}
    numbers = {(r["airline"]["iata"], r["flight"]["number"]) for r in operating(records)}
    orphans = [r for r in records if r["flight"]["codeshared"] and (
        r["flight"]["codeshared"]["airline_iata"].upper(), r["flight"]["codeshared"]["flight_number"]) not in numbers]
    assert orphans and all(o["departure"] == unkeyed[0]["departure"] for o in orphans)
    assert [r["flight_status"] for r in records].count("en-route") >= 1
    assert [r["live"]["latitude"] for r in records if r["live"]].count(123.4) >= 1


def test_command_line_flags() -> None:
    args = build_parser().parse_args(["--aviationstack-monthly-limit", "100", "--aviationstack-minute-limit", "5",
                                      "--aviationstack-access-key", "k", "--aviationstack-restrict-dates"])
    assert (args.aviationstack_monthly_limit, args.aviationstack_minute_limit, args.aviationstack_access_key,
            args.aviationstack_restrict_dates) == (100, 5, "k", True)
    config = MockConfig(aviationstack_monthly_limit="7", aviationstack_access_key="")
    assert config.aviationstack_monthly_limit == 7 and config.aviationstack_access_key is None
    with pytest.raises(ValueError, match="aviationstack_minute_limit"):
        MockConfig(aviationstack_minute_limit=-1)
