"""Reference endpoints: bodies, paging, languages, quirks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from aerolake.mockapi import MockApi

from .conftest import LhClient, as_list, link

RESOURCES = {
    "countries": ("CountryResource", "Countries", "Country", "CountryCode"),
    "cities": ("CityResource", "Cities", "City", "CityCode"),
    "airports": ("AirportResource", "Airports", "Airport", "AirportCode"),
    "airlines": ("AirlineResource", "Airlines", "Airline", "AirlineID"),
    "aircraft": ("AircraftResource", "AircraftSummaries", "AircraftSummary", "AircraftCode"),
}


@pytest.fixture(scope="module")
def all_airports(api: MockApi) -> tuple[list[dict], int]:
    client = LhClient(api.lufthansa_url)
    client.login()
    return client.walk("references/airports", "AirportResource", "Airports", "Airport", limit=100)


@pytest.mark.parametrize("kind", list(RESOURCES))
def test_walking_every_page_returns_exactly_total_count(lh: LhClient, kind: str) -> None:
    resource, container, member, key = RESOURCES[kind]
    records, total = lh.walk(f"references/{kind}", resource, container, member, limit=100)
    codes = [str(r[key]) for r in records]
    assert len(codes) == total
    assert len(set(codes)) == total
    assert total > 20


def test_airport_listing_is_realistic(all_airports: tuple[list[dict], int]) -> None:
    records, total = all_airports
    assert total == 1263
    codes = {r["AirportCode"] for r in records}
    assert {"FRA", "MUC", "ZRH", "VIE", "BRU", "JFK", "QKL"} <= codes
    types = {r["LocationType"] for r in records}
    assert types == {"Airport", "RailwayStation"}
    fra = next(r for r in records if r["AirportCode"] == "FRA")
    assert fra["TimeZoneId"] == "Europe/Berlin"
    assert fra["CountryCode"] == "DE"
    assert fra["Position"]["Coordinate"]["Latitude"] == pytest.approx(50.03, abs=0.05)


def test_quirks_in_reference_records(all_airports: tuple[list[dict], int], lh: LhClient) -> None:
    records, _ = all_airports
    offsets = [r["UtcOffset"] for r in records]
    assert any(isinstance(o, int) for o in offsets)
    assert any(isinstance(o, str) and o.startswith(("+", "-")) for o in offsets)
    assert any(r["Position"] == {"@nil": "true"} for r in records)
    assert all(isinstance(r["Names"]["Name"], dict) for r in records)  # one language -> object

    single = lh.get("references/airports/FRA").json()["AirportResource"]
    assert isinstance(single["Airports"]["Airport"], dict)
    assert isinstance(single["Meta"]["Link"], dict)  # only "self"
    assert single["Meta"]["TotalCount"] == 1

    london = lh.get("references/cities/LON").json()["CityResource"]["Cities"]["City"]
    assert london["Airports"]["AirportCode"][:2] == ["LHR", "LGW"]
    aalborg = lh.get("references/cities/AAL").json()["CityResource"]["Cities"]["City"]
    assert aalborg["Airports"]["AirportCode"] == "AAL"

    aircraft, _ = lh.walk("references/aircraft", "AircraftResource", "AircraftSummaries", "AircraftSummary")
    code_types = {type(a["AircraftCode"]) for a in aircraft}
    assert code_types == {int, str}


def test_limit_clamp_offset_and_links(lh: LhClient) -> None:
    resp = lh.get("references/airports", limit=500, offset=200, LHoperated=0)
    body = resp.json()["AirportResource"]
    assert len(body["Airports"]["Airport"]) == 100
    meta = body["Meta"]
    assert meta["@Version"] == "1.0.0"
    assert meta["TotalCount"] == 1263
    self_q = parse_qs(urlsplit(link(meta, "self")).query)
    assert self_q["limit"] == ["100"]
    assert self_q["offset"] == ["200"]
    assert self_q["LHoperated"] == ["0"]
    assert parse_qs(urlsplit(link(meta, "next")).query)["offset"] == ["300"]
    assert parse_qs(urlsplit(link(meta, "last")).query)["offset"] == ["1200"]
    assert link(meta, "self").startswith(lh.base_url + "/references/airports?")

    default = lh.get("references/airports").json()["AirportResource"]
    assert len(default["Airports"]["Airport"]) == 20

    last = lh.get(link(meta, "last")).json()["AirportResource"]
    assert len(last["Airports"]["Airport"]) == 63
    assert link(last["Meta"], "next") is None


def test_languages_and_aliases(lh: LhClient) -> None:
    de = lh.get("references/countries/DE", lang="de").json()
    assert de["CountryResource"]["Countries"]["Country"]["Names"]["Name"] == {
        "@LanguageCode": "de",
        "$": "Deutschland",
    }
    en = lh.get("mds-references/countries/DE").json()
    assert en["CountryResource"]["Countries"]["Country"]["Names"]["Name"]["$"] == "Germany"
    both = lh.get("references/cities/MUC", lang="en,de").json()["CityResource"]["Cities"]["City"]
    assert [n["$"] for n in both["Names"]["Name"]] == ["Munich", "München"]
    airline = lh.get("references/airlines/LH").json()["AirlineResource"]["Airlines"]["Airline"]
    assert airline["AirlineID_ICAO"] == "DLH"
    aircraft = lh.get("references/aircraft/74H").json()["AircraftResource"]["AircraftSummaries"][
        "AircraftSummary"
    ]
    assert aircraft["Names"]["Name"]["$"] == "Boeing 747-8I"


def test_lh_operated_filter_and_nearest(lh: LhClient) -> None:
    operated = lh.get("references/airports", LHoperated=1).json()["AirportResource"]["Meta"]["TotalCount"]
    assert 100 < operated < 1263
    near = lh.get("references/airports/nearest/48.35,11.78").json()["NearestAirportResource"]
    airports = as_list(near["Airports"]["Airport"])
    assert len(airports) == 5
    assert airports[0]["AirportCode"] == "MUC"
    distances = [a["Distance"]["Value"] for a in airports]
    assert distances == sorted(distances)


def test_unknown_code_is_404_processing_error(lh: LhClient) -> None:
    resp = lh.get("references/airports/XYZ")
    assert resp.status_code == 404
    err = resp.json()["ProcessingErrors"]["ProcessingError"]
    assert err["Type"] == "ResourceNotFound"
    assert err["@RetryIndicator"] is False
