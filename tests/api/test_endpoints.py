"""Every read endpoint of the web API against a seeded MariaDB database: exact values and each bad input."""

from __future__ import annotations

import socket
from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from aerolake.api import create_app
from aerolake.core.connections import MySqlConfig
from aerolake.core.settings import Settings

from .seed import DAY, airport_rows, flight_rows, position_rows


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------------- /health
def test_health_all_up_with_latencies(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["dependencies"]) == {"mysql", "mongodb", "s3", "airflow_api"}
    for state in body["dependencies"].values():
        assert state["status"] == "up"
        assert 0 <= state["latency_ms"] < 5000


def test_health_names_the_failing_dependencies(make_settings, seeded_db: MySqlConfig) -> None:
    down_mysql = MySqlConfig(seeded_db.host, dead_port(), seeded_db.user, seeded_db.password, seeded_db.database)
    settings = make_settings(mysql=down_mysql, airflow_api_url=f"http://127.0.0.1:{dead_port()}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["failing"] == ["airflow_api", "mysql"]
    assert body["dependencies"]["mysql"]["status"] == "down"
    assert "OperationalError" in body["dependencies"]["mysql"]["error"]
    assert "unreachable" in body["dependencies"]["airflow_api"]["error"]
    assert body["dependencies"]["s3"]["status"] == "up"
    assert body["dependencies"]["mongodb"]["status"] == "up"


def test_health_reports_a_missing_bucket(make_settings) -> None:
    base = make_settings().base
    with TestClient(create_app(make_settings(base=Settings(bucket="no-such-bucket",
                                                           s3_endpoint=base.s3_endpoint)))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["failing"] == ["s3"]


# ----------------------------------------------------------------------------- /status
def test_status_counts_freshness_and_last_runs(make_settings, seeded_db: MySqlConfig) -> None:
    with TestClient(create_app(make_settings(stale_after_hours=1e7))) as client:
        response = client.get("/status")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True and body["stale"] == []
    tables = {t["table"]: t for t in body["tables"]}
    assert tables["flights"]["rows"] == 90
    assert tables["flights"]["newest"] == "2026-03-01T23:00:00Z"
    assert tables["flight_positions"]["rows"] == 10
    assert tables["flight_positions"]["newest"] == "2026-03-01T12:10:00Z"
    assert tables["airlines"]["rows"] == 3
    assert tables["flight_codeshares"] == {**tables["flight_codeshares"], "rows": 0, "newest": None, "stale": False}
    assert tables["pipeline_runs"]["rows"] == 4
    dags = {d["dag_id"]: d for d in body["dags"]}
    lh = dags["lufthansa_lakehouse"]
    assert lh["run_id"] == "scheduled__2026-03-01" and lh["endpoints"] == 2 and lh["state"] == "success"
    assert lh["counts"]["fetched"] == 80 and lh["counts"]["loaded"] == 78 and lh["counts"]["quarantined"] == 2
    assert lh["last_stage"] == "load_to_mysql"
    airlabs = dags["airlabs_lakehouse"]
    assert airlabs["state"] == "failed" and airlabs["last_stage"] == "clean" and airlabs["counts"]["loaded"] == 0


def test_status_flags_stale_data(make_settings) -> None:
    with TestClient(create_app(make_settings(stale_after_hours=1.0))) as client:
        body = client.get("/status").json()
    assert "table:flights" in body["stale"] and "dag:lufthansa_lakehouse" in body["stale"]
    assert "table:flight_codeshares" not in body["stale"]  # empty: nothing old in it
    flights = next(t for t in body["tables"] if t["table"] == "flights")
    assert flights["stale"] is True and flights["age_hours"] > 1.0


def test_status_503_when_not_migrated(make_settings, mysql_cfg: MySqlConfig) -> None:
    from aerolake.stores.mysql.migrate import ensure_database

    ensure_database(mysql_cfg)
    with TestClient(create_app(make_settings(mysql=mysql_cfg))) as client:
        response = client.get("/status")
        flights = client.get("/flights")
    assert response.status_code == 503
    assert "aerolake migrate" in response.json()["detail"] and "flights" in response.json()["detail"]
    assert flights.status_code == 503 and "not migrated" in flights.json()["detail"]


# ----------------------------------------------------------------------------- /closest_airport
def test_closest_airport_at_an_airport_is_that_airport(client: TestClient) -> None:
    import airportsdata

    fra = airportsdata.load("IATA")["FRA"]
    response = client.post("/closest_airport", json={"latitude": fra["lat"], "longitude": fra["lon"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["k"] == 1 and len(body["airports"]) == 1
    assert body["airports"][0]["airport_code"] == "FRA"
    assert body["airports"][0]["distance_km"] == 0.0
    assert body["index_size"] > 7000


def test_closest_airport_k_nearest_in_order(client: TestClient) -> None:
    response = client.post("/closest_airport", json={"latitude": 48.8566, "longitude": 2.3522, "k": 5})
    assert response.status_code == 200
    airports = response.json()["airports"]
    assert len(airports) == 5
    distances = [a["distance_km"] for a in airports]
    assert distances == sorted(distances)
    assert {"ORY", "CDG"} & {a["airport_code"] for a in airports} or distances[-1] < 25


def test_closest_airport_location_type_filter(client: TestClient) -> None:
    body = client.post("/closest_airport", json={"latitude": 50.94, "longitude": 6.96, "k": 2,
                                                 "location_type": "railwaystation"}).json()
    assert [a["airport_code"] for a in body["airports"]] == ["QKL", "ZWS"]
    assert all(a["location_type"] == "RailwayStation" for a in body["airports"])
    unknown = client.post("/closest_airport", json={"latitude": 1, "longitude": 1, "location_type": "Spaceport"})
    assert unknown.status_code == 422
    assert "Spaceport" in unknown.json()["detail"] and "RailwayStation" in unknown.json()["detail"]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"longitude": 2.35}, "latitude", "is required"),
    ({"latitude": 48.85}, "longitude", "is required"),
    ({"latitude": 90.0001, "longitude": 0}, "latitude", "less than or equal to 90"),
    ({"latitude": -91, "longitude": 0}, "latitude", "greater than or equal to -90"),
    ({"latitude": 0, "longitude": 180.5}, "longitude", "less than or equal to 180"),
    ({"latitude": 0, "longitude": -181}, "longitude", "greater than or equal to -180"),
    ({"latitude": "48.85", "longitude": 2.35}, "latitude", "valid number"),
    ({"latitude": True, "longitude": 2.35}, "latitude", "valid number"),
    ({"latitude": None, "longitude": 2.35}, "latitude", "valid number"),
    ({"latitude": 48.85, "longitude": [2.35]}, "longitude", "valid number"),
    ({"latitude": 48.85, "longitude": 2.35, "k": 51}, "k", "less than or equal to 50"),
    ({"latitude": 48.85, "longitude": 2.35, "k": 0}, "k", "greater than or equal to 1"),
    ({"latitude": 48.85, "longitude": 2.35, "k": "3"}, "k", "valid integer"),
    ({"latitude": 48.85, "longitude": 2.35, "k": 2.5}, "k", "valid integer"),
    ({"latitude": 48.85, "longitude": 2.35, "lat": 1}, "lat", "is not a known field"),
    ({"latitude": 48.85, "longitude": 2.35, "location_type": ""}, "location_type", "must not be blank"),
    ({"latitude": 48.85, "longitude": 2.35, "location_type": " \t "}, "location_type",
     "must not be blank or whitespace only (leave it out for airports of any type)"),
])
def test_closest_airport_rejects_bad_input(client: TestClient, body: dict, field: str, words: str) -> None:
    response = client.post("/closest_airport", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert any(e["field"] == field for e in problem["errors"]), problem
    assert f"{field}: " in problem["detail"] and words in problem["detail"]


@pytest.mark.parametrize("raw", ["not json", "[48.85, 2.35]", '{"latitude": NaN, "longitude": 0}',
                                 '{"latitude": Infinity, "longitude": 0}', ""])
def test_closest_airport_rejects_malformed_bodies(client: TestClient, raw: str) -> None:
    response = client.post("/closest_airport", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


# ----------------------------------------------------------------------------- /airports
def test_airport_by_code(client: TestClient) -> None:
    body = client.get("/airports/fra").json()
    assert body["airport_code"] == "FRA" and body["icao_code"] == "EDDF"
    assert body["city_name"] == "Frankfurt" and body["country_code"] == "DE" and body["country_name"] == "Germany"
    assert body["timezone"] == "Europe/Berlin" and body["source"] == "lufthansa"


@pytest.mark.parametrize(("code", "status"), [("QQX", 404), ("FRAN", 422), ("F1A", 422), ("FR", 422),
                                              ("%C3%A9AB", 422)])
def test_airport_bad_codes(client: TestClient, code: str, status: int) -> None:
    response = client.get(f"/airports/{code}")
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_airport_search_by_code_icao_and_name(client: TestClient) -> None:
    assert client.get("/airports", params={"q": "fra"}).json()["airports"][0]["airport_code"] == "FRA"
    assert client.get("/airports", params={"q": "EDDF"}).json()["airports"][0]["airport_code"] == "FRA"
    by_name = client.get("/airports", params={"q": "Frankfurt"}).json()
    assert "FRA" in [a["airport_code"] for a in by_name["airports"]] and by_name["count"] <= 100
    assert client.get("/airports", params={"q": "zzzz-no-such"}).json() == {"count": 0, "airports": []}
    assert client.get("/airports", params={"q": "100%_"}).status_code == 200


@pytest.mark.parametrize(("params", "words"), [
    ({"q": "   "}, "q: must not be blank or whitespace only (leave it out to list the airports for the map)"),
    ({"q": ""}, "q: must not be blank"),
    ({"q": "\t\n \u00a0"}, "q: must not be blank"),
    ({"q": "  ", "limit": 5}, "q: must not be blank"),
    ({"location_type": " "}, "location_type: must not be blank or whitespace only (leave it out for airports of any type)"),
    ({"q": "fra", "location_type": ""}, "location_type: must not be blank"),
])
def test_blank_free_text_is_a_422_not_everything(client: TestClient, params: dict, words: str) -> None:
    response = client.get("/airports", params=params)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert [e["type"] for e in response.json()["errors"]] == ["string_blank"]


def test_search_text_is_stripped_and_absent_keeps_its_meaning(client: TestClient) -> None:
    padded = client.get("/airports", params={"q": "  fra\t"}).json()
    assert padded == client.get("/airports", params={"q": "fra"}).json() and padded["count"] > 0
    assert padded["airports"][0]["airport_code"] == "FRA"
    assert client.get("/airports", params={"location_type": " RailwayStation "}).json()["count"] == 2
    assert client.get("/airports").json()["count"] == len(airport_rows())  # no q: every airport for the map
    near = client.post("/closest_airport", json={"latitude": 50.94, "longitude": 6.96, "k": 2,
                                                 "location_type": " railwaystation "})
    assert [a["airport_code"] for a in near.json()["airports"]] == ["QKL", "ZWS"]


def test_airports_for_the_map(client: TestClient) -> None:
    body = client.get("/airports").json()
    assert body["count"] == len(airport_rows()) > 7800
    assert {"FRA", "QKL", "JFK"} <= {a["airport_code"] for a in body["airports"]}
    stations = client.get("/airports", params={"location_type": "RailwayStation"}).json()
    assert sorted(a["airport_code"] for a in stations["airports"]) == ["QKL", "ZWS"]
    assert client.get("/airports", params={"limit": 0}).status_code == 422
    assert client.get("/airports", params={"q": ""}).status_code == 422


# ----------------------------------------------------------------------------- /flights
def test_flights_paginated(client: TestClient) -> None:
    """One day a page set (default: the newest day), in a stable order: 30 flights of the seed's last day."""
    first = client.get("/flights", params={"page_size": 10}).json()
    assert first["departure_date"] == str(DAY)
    assert first["total"] == 30 and first["pages"] == 3 and len(first["items"]) == 10
    last = client.get("/flights", params={"page_size": 10, "page": 3}).json()
    beyond = client.get("/flights", params={"page_size": 10, "page": 4}).json()
    assert len(last["items"]) == 10 and beyond["items"] == [] and beyond["total"] == 30
    keys = [(f["airline_code"], f["flight_number"], f["departure_date"], f["dep_airport"]) for p in range(1, 4)
            for f in client.get("/flights", params={"page_size": 10, "page": p}).json()["items"]]
    assert len(set(keys)) == 30 and {k[2] for k in keys} == {str(DAY)}
    earlier = client.get("/flights", params={"date": str(DAY - timedelta(days=2)), "page_size": 500}).json()
    assert earlier["total"] == 30 and {f["departure_date"] for f in earlier["items"]} == {str(DAY - timedelta(days=2))}
    assert "flight_id" not in first["items"][0]  # MySQL's surrogate id is internal


def test_flights_filters(client: TestClient) -> None:
    rows = flight_rows()
    fra = client.get("/flights", params={"airport": "fra", "page_size": 500}).json()  # of the newest day
    assert fra["total"] == sum(1 for r in rows if "FRA" in (r["dep_airport"], r["arr_airport"])
                               and r["departure_date"] == DAY)
    assert all("FRA" in (f["dep_airport"], f["arr_airport"]) for f in fra["items"])
    combined = client.get("/flights", params={"airline": "LH", "date": str(DAY), "status": "landed"}).json()
    expected = [r for r in rows if r["airline_code"] == "LH" and r["departure_date"] == DAY and r["status"] == "landed"]
    assert combined["total"] == len(expected) > 0
    assert {f["flight_number"] for f in combined["items"]} == {r["flight_number"] for r in expected}
    assert client.get("/flights", params={"date": "2025-01-01"}).json()["total"] == 0


@pytest.mark.parametrize("params", [{"airport": "FRAN"}, {"airport": "F-A"}, {"airline": "L"}, {"status": "flying"},
                                    {"date": "2026-13-01"}, {"page": 0}, {"page_size": 501}, {"page_size": "x"}])
def test_flights_bad_filters(client: TestClient, params: dict) -> None:
    response = client.get("/flights", params=params)
    assert response.status_code == 422, response.text
    assert next(iter(params)) in response.json()["detail"]


# ----------------------------------------------------------------------------- /positions/latest, /stats
def test_latest_positions(client: TestClient) -> None:
    body = client.get("/positions/latest").json()
    assert body["newest_observed_at"] == "2026-03-01T12:10:00Z" and body["count"] == 5
    latest = {p["icao24"]: p for p in position_rows() if p["observed_at"].minute == 10}
    for p in body["positions"]:
        assert p["observed_at"] == "2026-03-01T12:10:00Z"
        assert p["latitude"] == pytest.approx(latest[p["icao24"]]["latitude"])
    assert client.get("/positions/latest", params={"window_minutes": 0}).status_code == 422


def test_stats_match_the_seed(client: TestClient) -> None:
    rows = flight_rows()
    body = client.get("/stats", params={"days": 2}).json()
    assert body["date_to"] == str(DAY) and body["date_from"] == str(DAY - timedelta(days=1))
    window = [r for r in rows if r["departure_date"] >= DAY - timedelta(days=1)]
    per_day = Counter((str(r["departure_date"]), r["status"]) for r in window)
    assert {(p["departure_date"], p["status"]): p["flights"] for p in body["per_day_and_status"]} == per_day
    by_airline: dict[str, list[int]] = {}
    for r in window:
        if r["dep_delay_min"] is not None:
            by_airline.setdefault(r["airline_code"], []).append(r["dep_delay_min"])
    got = {d["code"]: d for d in body["delays_by_airline"]}
    for code, delays in by_airline.items():
        assert got[code]["flights"] == len(delays)
        assert got[code]["mean_delay_min"] == pytest.approx(sum(delays) / len(delays), abs=0.01)
    on_time = {o["departure_date"]: (o["on_time"], o["flights"]) for o in body["on_time"]}
    day = [r for r in window if r["departure_date"] == DAY and r["status"] != "cancelled"
           and r["arr_delay_min"] is not None]
    assert on_time[str(DAY)] == (sum(1 for r in day if r["arr_delay_min"] < 15), len(day))
    fresh = {(f["table"], f["source"]): f for f in body["freshness"]}
    assert fresh[("flights", "lufthansa")]["rows"] == sum(1 for r in rows if r["source"] == "lufthansa")
    assert fresh[("flight_positions", "airlabs")]["newest"] == "2026-03-01T12:10:00Z"
    assert client.get("/stats", params={"days": 0}).status_code == 422
    earliest = client.get("/stats", params={"date_to": "0001-01-01", "days": 2})  # found by schemathesis
    assert earliest.status_code == 200
    assert (earliest.json()["date_from"], earliest.json()["per_day_and_status"]) == ("0001-01-01", [])
    assert client.get("/stats", params={"top": 51}).status_code == 422


def test_a_database_without_flights_answers_empty_pages(make_settings, migrated_mysql: MySqlConfig) -> None:
    with TestClient(create_app(make_settings(mysql=migrated_mysql))) as client:
        flights = client.get("/flights").json()
        stats = client.get("/stats").json()
        positions = client.get("/positions/latest").json()
    assert (flights["departure_date"], flights["total"], flights["pages"], flights["items"]) == (None, 0, 0, [])
    assert (stats["date_from"], stats["date_to"], stats["per_day_and_status"], stats["delays_by_airport"],
            stats["on_time"], stats["freshness"]) == (None, None, [], [], [], [])
    assert (positions["newest_observed_at"], positions["count"]) == (None, 0)


@pytest.mark.parametrize("path", ["/stats", "/flights", "/flights?airport=FRA&page=2&page_size=10",
                                  "/positions/latest"])
def test_a_request_reads_mysql_on_one_connection(client: TestClient, monkeypatch, path: str) -> None:
    """/stats reads six times (the newest date, freshness, four aggregates), /flights three times: each on one
    connection (a connect costs about ten small reads), in one read-only transaction."""
    from aerolake.stores.mysql import db

    opened, connect = [], db.connect
    monkeypatch.setattr(db, "connect", lambda *args, **kwargs: opened.append(kwargs) or connect(*args, **kwargs))
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert len(opened) == 1 and not opened[0].get("autocommit")
    assert response.json()["date_to" if path == "/stats" else "departure_date" if "flights" in path
                           else "newest_observed_at"] is not None


# ----------------------------------------------------------------------------- schema, pages, CORS
def test_openapi_schema_and_offline_assets(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/health", "/status", "/closest_airport", "/airports/{code}", "/flights", "/run_data_import"} <= set(
        schema["paths"])
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    for page in ("/", "/dashboard"):
        html = client.get(page).text
        assert "http://" not in html and "https://" not in html  # nothing fetched from elsewhere
    for asset in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/land-110m.geojson", "/vendor/plotly.min.js",
                  "/static/map.js", "/static/dashboard.js", "/static/vendor/swagger-ui/swagger-ui-bundle.js"):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/vendor/plotly.min.js").headers["content-type"].startswith("application/javascript")


def test_cors_is_configurable(make_settings) -> None:
    preflight = {"Origin": "http://maps.example", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(make_settings(cors_origins=("http://maps.example",)))) as allowed:
        response = allowed.options("/closest_airport", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "http://maps.example"
        other = allowed.get("/airports/FRA", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(make_settings())) as default:
        response = default.get("/airports/FRA", headers={"Origin": "http://maps.example"})
        assert "access-control-allow-origin" not in response.headers


def test_status_shows_each_budget_its_pace_and_next_call(make_settings, seeded_db: MySqlConfig) -> None:
    from aerolake.core.settings import Budget, utcnow
    from aerolake.stores.mysql.quotas import QuotaLedger

    now = utcnow()
    airlabs = QuotaLedger(seeded_db, "airlabs", Budget(per_month=1000))
    airlabs.charge(40)
    airlabs.record_plan("*/10 * * * *", 8)
    with TestClient(create_app(make_settings())) as client:
        body = client.get("/status").json()
    budgets = {b["source"]: b for b in body["budgets"]}
    assert set(budgets) == {"airlabs", "aviationstack", "opensky"}  # the sources with a budget (not Lufthansa)
    month = budgets["airlabs"]["periods"]["month"]
    assert (month["used"], month["limit"], month["left"]) == (40, 1000, 960)
    assert month["start"] == now.strftime("%Y-%m-01") and 0 <= month["pace_allows"] <= 1000
    assert budgets["airlabs"]["schedule"] == "*/10 * * * *" and budgets["airlabs"]["calls_per_run"] == 8
    assert budgets["airlabs"]["next_call"] > now.isoformat(timespec="minutes")
    assert budgets["aviationstack"]["periods"]["month"]["used"] == 0 and budgets["aviationstack"]["schedule"] is None
