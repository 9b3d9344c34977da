"""The mock Airlabs v9 API over real HTTP: shapes, paging, quirks, errors, quotas, faults, and consistency with
the Lufthansa view of the same world flights."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from aerolake.mockapi import MockApi, MockConfig
from aerolake.mockapi.airlabs import TERMS

KEY = "aerolake-offline"
NOW = "2026-03-01T12:05:00Z"
SCHEDULE_FIELDS = {
    "airline_iata", "airline_icao", "flight_iata", "flight_icao", "flight_number", "cs_airline_iata",
    "cs_flight_number", "cs_flight_iata", "dep_iata", "dep_icao", "dep_terminal", "dep_gate", "dep_time",
    "dep_time_utc", "dep_estimated", "dep_estimated_utc", "dep_actual", "dep_actual_utc", "arr_iata", "arr_icao",
    "arr_terminal", "arr_gate", "arr_baggage", "arr_time", "arr_time_utc", "arr_estimated", "arr_estimated_utc",
    "arr_actual", "arr_actual_utc", "status", "duration", "delayed", "dep_delayed", "arr_delayed", "aircraft_icao",
    "arr_time_ts", "dep_time_ts", "arr_estimated_ts", "dep_estimated_ts", "arr_actual_ts", "dep_actual_ts",
}
POSITION_FIELDS = {
    "hex", "reg_number", "flag", "lat", "lng", "alt", "dir", "speed", "v_speed", "squawk", "flight_number",
    "flight_icao", "flight_iata", "dep_icao", "dep_iata", "arr_icao", "arr_iata", "airline_icao", "airline_iata",
    "aircraft_icao", "updated", "status", "type",
}


@pytest.fixture(scope="module")
def server() -> Iterator[MockApi]:
    with MockApi(MockConfig(seed=3, flights_per_hub=300, qps_limit=None, now=NOW)) as api:
        yield api


@pytest.fixture
def api(server: MockApi) -> Iterator[MockApi]:
    """The module's server with its knobs restored and counters reset after each test."""
    import dataclasses

    saved = dataclasses.asdict(server.config)
    server.reset_stats()
    yield server
    server.configure(**saved)
    server.reset_stats()


def get(api: MockApi, method: str, key: str | None = KEY, **params: Any) -> requests.Response:
    if key is not None:
        params["api_key"] = key
    return requests.get(f"{api.airlabs_url}/{method}", params=params, timeout=30)


def board(api: MockApi, **params: Any) -> list[dict[str, Any]]:
    body = get(api, "schedules", limit=1000, **params).json()
    assert body["request"]["has_more"] is False
    return body["response"]


# -- shapes -----------------------------------------------------------------------------------------------
def test_success_envelope_echoes_request_and_key(api) -> None:
    resp = get(api, "schedules", dep_iata="FRA", limit=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert list(body) == ["request", "response", "terms"] and body["terms"] == TERMS
    request = body["request"]
    assert (request["method"], request["version"]) == ("schedules", 9)
    assert request["params"] == {"dep_iata": "FRA", "limit": "5", "lang": "en"}  # the key is not among them
    assert request["key"]["api_key"] == KEY and request["key"]["limits_by_month"] == 1000  # as the real API does
    assert request["has_more"] is True and len(body["response"]) == 5
    assert all(set(r) == SCHEDULE_FIELDS for r in body["response"])


def test_schedule_records_have_real_shapes_and_consistent_times(api) -> None:
    records = board(api, dep_iata="FRA")
    now = datetime(2026, 3, 1, 12, 5)
    assert len(records) > 100 and {r["dep_iata"] for r in records} == {"FRA"}
    for r in records:
        sched = datetime.strptime(r["dep_time_utc"], "%Y-%m-%d %H:%M")
        assert now - timedelta(hours=4) <= sched < now + timedelta(hours=10)
        assert r["dep_time_ts"] == int(sched.replace(tzinfo=UTC).timestamp())
        assert (datetime.strptime(r["dep_time"], "%Y-%m-%d %H:%M") - sched) == timedelta(hours=1)  # CET
        assert r["status"] in {"scheduled", "active", "landed", "cancelled"}
        assert isinstance(r["flight_number"], str | None) and isinstance(r["duration"], int)
        if r["status"] in ("active", "landed"):
            assert r["dep_actual_utc"] is not None and r["dep_estimated_utc"] is None
            assert datetime.strptime(r["dep_actual_utc"], "%Y-%m-%d %H:%M") <= now
        if r["status"] == "scheduled":
            assert r["dep_actual_utc"] is None
        if r["status"] == "cancelled":
            assert r["dep_actual_utc"] is None and r["dep_estimated_utc"] is None
    assert sorted(r["dep_time_ts"] for r in records) == [r["dep_time_ts"] for r in records]
    assert Counter(r["status"] for r in records).keys() >= {"scheduled", "active"}


def test_codeshares_name_an_operating_record_of_the_same_board_often_in_lower_case(api) -> None:
    records = board(api, dep_iata="FRA")
    operating = {(r["airline_iata"], r["flight_number"], r["dep_time_utc"]) for r in records
                 if not r["cs_airline_iata"]}
    shares = [r for r in records if r["cs_airline_iata"]]
    assert len(shares) > 10
    for r in shares:
        assert (r["cs_airline_iata"].upper(), r["cs_flight_number"], r["dep_time_utc"]) in operating
        assert r["cs_flight_iata"] == r["cs_airline_iata"] + r["cs_flight_number"]
    assert any(r["cs_airline_iata"].islower() for r in shares) and any(r["cs_airline_iata"].isupper() for r in shares)
    assert {r["airline_iata"] for r in shares} & {"UA", "AC", "NH", "SQ", "TK", "TP"}  # partners' numbers too


def test_positions_are_airborne_flights_with_their_quirks(api) -> None:
    records = get(api, "flights", dep_iata="FRA").json()["response"] + get(api, "flights", arr_iata="FRA").json()[
        "response"]
    now_ts = int(datetime(2026, 3, 1, 12, 5, tzinfo=UTC).timestamp())
    assert len(records) > 60
    for r in records:
        assert set(r) == POSITION_FIELDS and r["type"] == "adsb" and r["squawk"] is None
        assert now_ts - 90 < r["updated"] <= now_ts
        assert "FRA" in (r["dep_iata"], r["arr_iata"]) or r["dep_iata"] is None
        assert r["status"] in ("en-route", "landed")
        if r["lat"] is not None:
            assert -90 <= r["lat"] <= 90 and -180 <= r["lng"] <= 180
        if r["hex"] is not None:
            assert len(r["hex"]) == 6 and r["hex"] == r["hex"].upper()
        if r["status"] == "landed":
            assert (r["alt"], r["speed"]) == (0, 12)
    assert sum(r["hex"] is None for r in records) >= 1
    assert sum(r["reg_number"] is None for r in records) >= 1
    assert any(r["reg_number"] and r["reg_number"].startswith("D-") for r in records)


def test_reference_listings_with_their_quirks(api) -> None:
    airports = get(api, "airports").json()["response"]
    assert len(airports) > 7000
    fra = next(a for a in airports if a["iata_code"] == "FRA")
    assert set(fra) == {"name", "iata_code", "icao_code", "lat", "lng", "country_code"}
    assert (fra["icao_code"], fra["country_code"], round(fra["lat"], 1), round(fra["lng"], 1)) == (
        "EDDF", "DE", 50.0, 8.5)
    assert get(api, "airports", iata_code="muc").json()["response"][0]["icao_code"] == "EDDM"
    airlines = get(api, "airlines").json()["response"]
    assert {"name": "empty", "iata_code": "XQ", "icao_code": "SXS"} in airlines
    assert any(a["iata_code"] is None and a["icao_code"] == "GEC" for a in airlines)
    assert [a["icao_code"] for a in airlines if a["iata_code"] == "LH"] == ["DLH", "LHI"]
    assert all(set(a) == {"iata_code"} for a in get(api, "airlines", _fields="iata_code").json()["response"])


# -- paging and determinism -------------------------------------------------------------------------------
def test_limit_offset_pages_add_up_to_the_board(api) -> None:
    full = board(api, arr_iata="MUC")
    pages, offset = [], 0
    while True:
        body = get(api, "schedules", arr_iata="MUC", limit=25, offset=offset).json()
        pages.append(body["response"])
        if not body["request"]["has_more"]:
            break
        offset += 25
    assert [r for p in pages for r in p] == full and all(len(p) == 25 for p in pages[:-1])
    api.configure(airlabs_max_limit=10)
    assert len(get(api, "schedules", arr_iata="MUC", limit=25).json()["response"]) == 10
    assert get(api, "schedules", arr_iata="MUC", offset=len(full)).json()["error"]["code"] == "not_found"
    arrivals = [r["arr_time_ts"] for r in full]
    assert arrivals == sorted(arrivals) and {r["arr_iata"] for r in full} == {"MUC"}


def test_answers_are_deterministic_for_a_moment_and_follow_the_clock(api) -> None:
    first = get(api, "schedules", dep_iata="MUC", limit=1000).content
    again = get(api, "schedules", dep_iata="MUC", limit=1000).content
    one, two = json.loads(first), json.loads(again)
    assert one["response"] == two["response"] and one["request"]["id"] == two["request"]["id"]
    # only the key's usage counter moves, as on the real API
    assert two["request"]["key"]["limits_total"] == one["request"]["key"]["limits_total"] + 1
    assert first.replace(b'"limits_total":1', b'"limits_total":2') == again
    assert get(api, "flights", arr_iata="MUC").json()["response"] == get(api, "flights", arr_iata="MUC").json()[
        "response"]
    api.configure(now="2026-03-01T18:05:00Z")
    later = {(r["airline_iata"], r["flight_number"]): r["status"] for r in board(api, dep_iata="MUC")}
    earlier = {(r["airline_iata"], r["flight_number"]): r["status"] for r in json.loads(first)["response"]}
    common = set(later) & set(earlier)
    assert common and any(earlier[k] == "scheduled" and later[k] in ("active", "landed") for k in common)


# -- consistency with the Lufthansa view -------------------------------------------------------------------------
def lufthansa_departures(api: MockApi, airport: str, day: str) -> list[dict[str, Any]]:
    session = requests.Session()
    token = session.post(f"{api.lufthansa_url}/oauth/token", data={
        "client_id": "x", "client_secret": "y", "grant_type": "client_credentials"}, timeout=10).json()["access_token"]
    flights = []
    for start in ("00:00", "04:00", "08:00", "12:00", "16:00", "20:00"):
        offset = 0
        while True:
            resp = session.get(f"{api.lufthansa_url}/operations/flightstatus/departures/{airport}/{day}T{start}",
                               params={"limit": 80, "offset": offset}, timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
            if resp.status_code == 404:
                break
            body = resp.json()["FlightStatusResource"]
            page = body["Flights"]["Flight"]
            flights.extend(page if isinstance(page, list) else [page])
            offset += 80
            if offset >= body["Meta"]["TotalCount"]:
                break
    return flights


def test_the_board_shows_the_lufthansa_flights_of_its_window(api) -> None:
    records = board(api, dep_iata="FRA")
    airlabs_view = {(r["airline_iata"], r["flight_number"], r["dep_iata"], r["arr_iata"], r["dep_time_utc"])
                    for r in records}
    operating_view = {(r["airline_iata"], r["flight_number"], r["dep_iata"], r["arr_iata"], r["dep_time_utc"])
                      for r in records if not r["cs_airline_iata"]}
    lo, hi = "2026-03-01T08:05Z", "2026-03-01T22:05Z"
    marketing, operating = set(), set()
    for f in lufthansa_departures(api, "FRA", "2026-03-01"):
        utc = f["Departure"]["ScheduledTimeUTC"]["DateTime"]
        if not lo <= utc < hi:
            continue
        when = utc.replace("T", " ").rstrip("Z")
        ends = (f["Departure"]["AirportCode"], f["Arrival"]["AirportCode"], when)
        marketing.add((f["MarketingCarrier"]["AirlineID"], str(f["MarketingCarrier"]["FlightNumber"]), *ends))
        operating.add((f["OperatingCarrier"]["AirlineID"], str(f["OperatingCarrier"]["FlightNumber"]), *ends))
    assert len(marketing) > 100
    assert marketing <= airlabs_view  # every Lufthansa flight: same airline, number, airports, scheduled time
    assert operating_view == operating  # and the operating flights are exactly Lufthansa's operating carriers
    assert any(m[0] != o[0] for m, o in zip(sorted(marketing), sorted(operating), strict=False))


def test_positions_are_the_lufthansa_operating_flights_in_the_air(api) -> None:
    lufthansa = {}
    for day in ("2026-02-28", "2026-03-01"):
        for f in lufthansa_departures(api, "MUC", day):
            op = f["OperatingCarrier"]
            lufthansa[(op["AirlineID"], str(op["FlightNumber"]), f["Arrival"]["AirportCode"])] = f
    positions = get(api, "flights", dep_iata="MUC").json()["response"]
    assert positions
    now = "2026-03-01T12:05Z"
    for p in positions:
        f = lufthansa[(p["airline_iata"], p["flight_number"], p["arr_iata"])]
        departed = f["Departure"].get("ActualTimeUTC") or f["Departure"].get("EstimatedTimeUTC")
        assert departed["DateTime"] <= now
        assert f["FlightStatus"]["Code"] != "CD"
        if p["reg_number"]:
            assert p["reg_number"].replace("-", "") == f["Equipment"]["AircraftRegistration"]


# -- errors, quotas, faults ---------------------------------------------------------------------------------------
def error_of(resp: requests.Response) -> tuple[int, str]:
    body = resp.json()
    assert set(body) == {"error", "terms"} and set(body["error"]) == {"message", "code"}
    return resp.status_code, body["error"]["code"]


def test_error_bodies_and_statuses(api) -> None:
    assert error_of(get(api, "schedules", key=None, dep_iata="FRA")) == (401, "unknown_api_key")
    assert error_of(get(api, "schedules", key="nope", dep_iata="FRA")) == (401, "unknown_api_key")
    assert error_of(get(api, "schedules")) == (400, "wrong_params")
    assert error_of(get(api, "schedules", dep_iata="QQQ")) == (400, "wrong_params")
    assert error_of(get(api, "routes")) == (404, "unknown_method")
    assert error_of(get(api, "schedules", dep_iata="FRA", limit="ten")) == (400, "wrong_params")
    api.configure(airlabs_key_expired=True)
    assert error_of(get(api, "airlines")) == (401, "expired_api_key")
    api.configure(airlabs_key_expired=False, airlabs_errors_as_200=True)
    assert error_of(get(api, "airlines", key="nope")) == (200, "unknown_api_key")
    assert get(api, "schedules", key="nope").json()["error"]["message"] == "Unknown API Key"
    api.configure(airlabs_api_key=None)
    assert get(api, "airlines", key="any-key-at-all").status_code == 200
    stats = api.stats()
    assert stats["requests"]["airlabs/schedules"] == 6 and stats["requests"]["airlabs/unknown"] == 1


def test_quota_answers_minute_hour_month(api) -> None:
    api.configure(airlabs_minute_limit=2)
    assert [get(api, "airlines").status_code for _ in range(3)] == [200, 200, 429]
    assert get(api, "airlines").json()["error"]["code"] == "minute_limit_exceeded"
    api.reset_stats()  # forgets the windows and the month's count
    api.configure(airlabs_minute_limit=None, airlabs_hour_limit=1)
    assert get(api, "airlines").status_code == 200
    assert error_of(get(api, "airlines")) == (429, "hour_limit_exceeded")
    api.reset_stats()
    api.configure(airlabs_hour_limit=None, airlabs_month_limit=3)
    codes = [get(api, "airlines").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert error_of(get(api, "flights", arr_iata="FRA")) == (429, "month_limit_exceeded")
    assert get(api, "airlines", key="wrong").json()["error"]["code"] == "unknown_api_key"  # the key is checked first


def test_fault_knobs_apply(api) -> None:
    api.configure(error_rate=1.0)
    statuses = Counter()
    for _ in range(12):
        resp = get(api, "airlines")
        statuses[resp.status_code] += 1
        if resp.status_code == 500:
            assert resp.json()["error"]["code"] == "internal_error"
        else:
            assert resp.status_code in (502, 503) and resp.headers["Content-Type"] == "text/html"
    assert len(statuses) >= 2
    api.configure(error_rate=0.0, truncate_rate=1.0)
    resp = get(api, "airlines")
    assert resp.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        resp.json()
    api.configure(truncate_rate=0.0, malformed_paths=[r"schedules\?.*arr_iata=FRA"])
    assert get(api, "schedules", dep_iata="FRA").json()["response"]
    with pytest.raises(requests.JSONDecodeError):
        get(api, "schedules", arr_iata="FRA").json()
    api.configure(malformed_paths=[], latency_ms=150)
    started = time.monotonic()
    get(api, "airlines")
    assert time.monotonic() - started >= 0.15
    api.configure(latency_ms=0, qps_limit=1)
    answers = [get(api, "airlines") for _ in range(3)]  # more than one a second: the gateway's limit
    assert answers[0].status_code == 200
    assert error_of(answers[-1]) == (429, "minute_limit_exceeded")
