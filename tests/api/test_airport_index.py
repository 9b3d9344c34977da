"""The nearest-airport index: built once, no table scan per request, rebuilt when ``airports`` changes."""

from __future__ import annotations

import math
import time
from datetime import datetime

from fastapi.testclient import TestClient

from aerolake.api import ApiSettings, create_app
from aerolake.api.nearest import AirportIndex, haversine_km
from aerolake.stores.mysql.migrate import migrate

from .seed import insert

T0 = datetime(2026, 3, 1)


def airport(code: str, lat: float, lon: float, updated: datetime = T0, kind: str = "Airport") -> dict:
    return {"airport_code": code, "name": f"Airport {code}", "country_code": "DE", "latitude": lat,
            "longitude": lon, "location_type": kind, "source": "lufthansa", "updated_at": updated}


def nearest(client: TestClient, lat: float, lon: float) -> str:
    response = client.post("/closest_airport", json={"latitude": lat, "longitude": lon})
    assert response.status_code == 200, response.text
    return response.json()["airports"][0]["airport_code"]


def test_index_is_refreshed_only_by_its_periodic_check(mysql_cfg) -> None:
    migrate(mysql_cfg)
    insert(mysql_cfg, "countries", [{"country_code": "DE", "name": "Germany", "source": "iso3166", "updated_at": T0}])
    insert(mysql_cfg, "airports", [airport("AAA", 50.0, 8.0), airport("BBB", 52.0, 13.0)])
    app = create_app(ApiSettings(mysql=mysql_cfg, index_check_interval_s=3600))
    index: AirportIndex = app.state.aerolake.index
    with TestClient(app) as client:
        assert [nearest(client, 50.5, 9.0) for _ in range(50)] == ["AAA"] * 50
        assert index.rebuilds == 1  # 50 requests, one build, no per-request scan
        insert(mysql_cfg, "airports", [airport("CCC", 50.5, 9.0, datetime(2026, 3, 2))])
        assert nearest(client, 50.5, 9.0) == "AAA"  # not re-read per request
        assert index.check_now() is True  # the periodic check sees the change
        assert nearest(client, 50.5, 9.0) == "CCC"
        assert index.check_now() is False and index.rebuilds == 2  # unchanged table: no rebuild


def test_moved_airport_is_seen_by_the_background_check(mysql_cfg) -> None:
    from aerolake.stores.mysql.db import connection

    migrate(mysql_cfg)
    insert(mysql_cfg, "countries", [{"country_code": "DE", "name": "Germany", "source": "iso3166", "updated_at": T0}])
    insert(mysql_cfg, "airports", [airport("AAA", 50.0, 8.0), airport("BBB", 52.0, 13.0)])
    app = create_app(ApiSettings(mysql=mysql_cfg, index_check_interval_s=0.2))
    with TestClient(app) as client:
        assert nearest(client, 52.0, 13.0) == "BBB"
        with connection(mysql_cfg, autocommit=True) as conn, conn.cursor() as cur:
            # moved, same updated_at: the signature's checksum still changes
            cur.execute("UPDATE airports SET latitude = 10, longitude = 10 WHERE airport_code = 'BBB'")
        deadline = time.monotonic() + 10
        while nearest(client, 52.0, 13.0) != "AAA":
            assert time.monotonic() < deadline, "the index never noticed the moved airport"
            time.sleep(0.1)


def test_empty_airports_table_is_a_clear_503(mysql_cfg) -> None:
    migrate(mysql_cfg)
    with TestClient(create_app(ApiSettings(mysql=mysql_cfg))) as client:
        response = client.post("/closest_airport", json={"latitude": 1, "longitude": 1})
    assert response.status_code == 503 and "make demo" in response.json()["detail"]


def test_haversine_known_distances() -> None:
    assert haversine_km(0, 0, 0, 180) == 20015.114442035923  # half the mean circumference (R = 6371.0088)
    p1, p2, dl = math.radians(50.033333), math.radians(40.639751), math.radians(-73.778925 - 8.570556)
    law_of_cosines = 6371.0088 * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl))
    assert abs(haversine_km(50.033333, 8.570556, 40.639751, -73.778925) - law_of_cosines) < 1e-6  # FRA-JFK
    assert round(law_of_cosines) == 6189
    assert haversine_km(90, 0, 90, 135) < 1e-9  # every longitude is the pole
    assert abs(haversine_km(0, 179.5, 0, -179.5) - haversine_km(0, 0, 0, 1)) < 1e-9
