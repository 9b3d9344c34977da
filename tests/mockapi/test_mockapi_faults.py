"""Fault knobs (qps limit, errors, over-limit, truncation) and injected anomalies."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from aerolake.mockapi import MockApi, MockConfig

from .conftest import DAY, LhClient, as_list, link

OVER_QPS = {"Error": "Account Over Queries Per Second Limit"}


def _statuses(client: LhClient, n: int, path: str = "references/airlines/LH") -> list[int]:
    return [client.get(path).status_code for _ in range(n)]


def test_qps_limit_answers_403_then_recovers() -> None:
    with MockApi(MockConfig(flights_per_hub=10, qps_limit=3)) as server:
        assert server.world.ref.airlines  # build the world now so the burst is fast
        client = LhClient(server.lufthansa_url)
        client.login()
        responses = [client.get("references/airlines/LH") for _ in range(8)]
        statuses = [r.status_code for r in responses]
        assert statuses[:3] == [200, 200, 200]
        assert statuses.count(403) >= 3  # (exactly 5 unless the machine stalls for a second)
        assert next(r for r in responses if r.status_code == 403).json() == OVER_QPS
        time.sleep(1.05)
        assert client.get("references/airlines/LH").status_code == 200
        # the limit is per token: a second client has its own window
        other = LhClient(server.lufthansa_url)
        other.login()
        assert other.get("references/airlines/LH").status_code == 200
        assert server.stats()["status_counts"]["403"] == statuses.count(403)


def test_error_rate_is_plausible_and_reproducible(knobs: MockApi, lh: LhClient) -> None:
    knobs.configure(error_rate=0.5)
    knobs.reset_stats()
    first = [lh.get("references/airlines/LH") for _ in range(40)]
    codes = [r.status_code for r in first]
    assert set(codes) <= {200, 500, 502, 503}
    assert 8 <= sum(c >= 500 for c in codes) <= 32
    for r in first:
        if r.status_code == 502:
            assert r.headers["Content-Type"].startswith("text/html")
        elif r.status_code == 503:
            assert r.json() == {"Error": "Service Unavailable"}
        elif r.status_code == 500:
            assert r.json()["ProcessingErrors"]["ProcessingError"]["@RetryIndicator"] is True
    knobs.reset_stats()  # re-seeds the fault RNG
    assert _statuses(lh, 40) == codes

    knobs.configure(error_rate=1.0)
    assert all(c >= 500 for c in _statuses(lh, 5))
    knobs.configure(error_rate=0.0, rate_limit_rate=1.0)
    resp = lh.get("references/airlines/LH")
    assert resp.status_code == 403
    assert resp.json() == OVER_QPS
    # the token endpoint is never faulted
    assert lh.login().status_code == 200


def test_truncate_rate_and_malformed_paths(knobs: MockApi, lh: LhClient) -> None:
    knobs.configure(malformed_paths=[r"references/airlines\b", r"departures/MUC/.*limit=7"])
    bad = lh.get("references/airlines")
    assert bad.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.content)
    assert bad.text.startswith('{"AirlineResource"')
    assert int(bad.headers["Content-Length"]) == len(bad.content)
    assert lh.get("references/aircraft").json()["AircraftResource"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lh.get(f"operations/flightstatus/departures/MUC/{DAY}T08:00", limit=7).content)
    assert lh.get(f"operations/flightstatus/departures/MUC/{DAY}T08:00", limit=8).json()
    assert lh.get("references/airlines/XX").status_code == 404  # errors are never truncated

    knobs.configure(malformed_paths=[], truncate_rate=1.0)
    for path in ("references/aircraft", "references/countries"):
        with pytest.raises(json.JSONDecodeError):
            json.loads(lh.get(path).content)
    knobs.configure(truncate_rate=0.0)
    assert lh.get("references/aircraft").json()


@pytest.fixture(scope="module")
def anomalous() -> Iterator[LhClient]:
    server = MockApi(MockConfig(seed=3, flights_per_hub=300, qps_limit=None, anomalies=True)).start()
    client = LhClient(server.lufthansa_url)
    client.login()
    yield client
    server.stop()


def test_anomalous_airports(anomalous: LhClient) -> None:
    bre = anomalous.get("references/airports/BRE").json()["AirportResource"]["Airports"]["Airport"]
    assert bre["Position"]["Coordinate"]["Latitude"] == 123.4
    lej = anomalous.get("references/airports/LEJ").json()["AirportResource"]["Airports"]["Airport"]
    assert lej["TimeZoneId"] == "Mars/Olympus_Mons"
    records, total = anomalous.walk(
        "references/airports", "AirportResource", "Airports", "Airport", limit=100
    )
    assert len(records) == total
    assert sum(r["Position"].get("Coordinate", {}).get("Latitude", 0) > 90 for r in records) == 1


def test_anomalous_flight_without_number(anomalous: LhClient) -> None:
    flights = anomalous.flights("departures", "FRA")
    missing = [f for f in flights if "FlightNumber" not in f["MarketingCarrier"]]
    assert len(missing) == 1
    assert missing[0]["MarketingCarrier"]["AirlineID"]
    assert "FlightNumber" in missing[0]["OperatingCarrier"]
    # the MUC arrivals (hub-pair flights included) carry no such record
    assert all("FlightNumber" in f["MarketingCarrier"] for f in anomalous.flights("arrivals", "MUC"))


def test_anomalous_page_boundary_duplicate(anomalous: LhClient) -> None:
    path = f"operations/flightstatus/departures/FRA/{DAY}T08:00"
    first = anomalous.get(path, limit=20).json()["FlightStatusResource"]
    second = anomalous.get(link(first["Meta"], "next")).json()["FlightStatusResource"]
    page1, page2 = as_list(first["Flights"]["Flight"]), as_list(second["Flights"]["Flight"])
    assert page1[-1] == page2[0]
    records, total = anomalous.walk(path, "FlightStatusResource", "Flights", "Flight", limit=20)
    unique = {json.dumps(r, sort_keys=True) for r in records}
    assert len(records) == total == len(unique) + 1


def test_request_without_source_is_404(api: MockApi) -> None:
    resp = requests.get(f"{api.base_url}/nope/v1/things", timeout=10)
    assert resp.status_code == 404
