"""Property tests: POST /closest_airport agrees with a brute-force haversine scan of every airport (the whole
airportsdata IATA set in MariaDB) on thousands of random points, poles and the antimeridian included."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aerolake.api import create_app
from aerolake.api.nearest import EARTH_RADIUS_KM
from aerolake.stores.mysql.db import connection

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False, allow_infinity=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False, allow_infinity=False)


class BruteForce:
    """Every airport with coordinates, scanned in full for each point (the reference answer)."""

    def __init__(self, cfg) -> None:
        with connection(cfg) as conn, conn.cursor() as cur:
            cur.execute("SELECT airport_code, latitude, longitude FROM airports WHERE latitude IS NOT NULL")
            rows = cur.fetchall()
        self.codes = np.array([r[0] for r in rows])
        self.lat = np.radians(np.array([r[1] for r in rows], dtype=float))
        self.lon = np.radians(np.array([r[2] for r in rows], dtype=float))

    def nearest(self, lat: float, lon: float, k: int) -> list[tuple[str, float]]:
        p, lam = np.radians(lat), np.radians(lon)
        a = np.sin((self.lat - p) / 2) ** 2 + np.cos(p) * np.cos(self.lat) * np.sin((self.lon - lam) / 2) ** 2
        dist = 2 * EARTH_RADIUS_KM * np.arctan2(np.sqrt(a), np.sqrt(np.clip(1 - a, 0, None)))
        order = np.lexsort((self.codes, dist))[:k]
        return [(str(self.codes[i]), float(dist[i])) for i in order]


@pytest.fixture(scope="module")
def brute(seeded_db) -> BruteForce:
    return BruteForce(seeded_db)


@pytest.fixture(scope="module")
def nearest_client(seeded_db) -> TestClient:
    from aerolake.api.config import ApiSettings

    with TestClient(create_app(ApiSettings(mysql=seeded_db, index_check_interval_s=3600))) as client:
        yield client


def check(client: TestClient, brute: BruteForce, lat: float, lon: float, k: int) -> None:
    response = client.post("/closest_airport", json={"latitude": lat, "longitude": lon, "k": k})
    assert response.status_code == 200, response.text
    got = [(a["airport_code"], a["distance_km"]) for a in response.json()["airports"]]
    want = brute.nearest(lat, lon, k)
    assert len(got) == len(want) == k
    for (code, dist), (want_code, want_dist) in zip(got, want, strict=True):
        assert abs(dist - want_dist) < 0.001, (lat, lon, got, want)  # same distance to 1 m
        # same airport, unless two airports are equally far (to 1 m): then either is right
        if code != want_code:
            assert abs(brute.nearest(lat, lon, 50)[[c for c, _ in brute.nearest(lat, lon, 50)].index(code)][1]
                       - want_dist) < 0.001, (lat, lon, got, want)


@settings(max_examples=2500, deadline=None, database=None, suppress_health_check=SUPPRESS)
@given(lat=latitudes, lon=longitudes)
@example(lat=90.0, lon=0.0)
@example(lat=-90.0, lon=0.0)
@example(lat=90.0, lon=-180.0)
@example(lat=-90.0, lon=123.4)
@example(lat=0.0, lon=180.0)
@example(lat=0.0, lon=-180.0)
@example(lat=-16.7, lon=179.99)  # Fiji: airports on both sides of the antimeridian
@example(lat=-16.7, lon=-179.99)
@example(lat=65.7, lon=-180.0)  # Chukotka / Alaska
@example(lat=52.0, lon=179.999999)  # Aleutians
@example(lat=50.033333, lon=8.570556)  # at Frankfurt
def test_nearest_matches_brute_force(nearest_client: TestClient, brute: BruteForce, lat: float, lon: float) -> None:
    check(nearest_client, brute, lat, lon, 1)


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=SUPPRESS)
@given(lat=latitudes, lon=longitudes, k=st.integers(min_value=2, max_value=50))
@example(lat=89.99, lon=45.0, k=50)
@example(lat=-89.99, lon=-45.0, k=50)
@example(lat=-18.0, lon=180.0, k=20)
def test_k_nearest_match_brute_force(nearest_client: TestClient, brute: BruteForce, lat: float, lon: float,
                                     k: int) -> None:
    check(nearest_client, brute, lat, lon, k)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=SUPPRESS)
@given(lat=st.floats(min_value=-89, max_value=89), lon=st.floats(min_value=179.0, max_value=180.0),
       side=st.sampled_from([1, -1]))
def test_antimeridian_is_seamless(nearest_client: TestClient, brute: BruteForce, lat: float, lon: float,
                                  side: int) -> None:
    """Points just east and just west of 180° find the same airports a full scan finds."""
    check(nearest_client, brute, lat, side * lon, 3)
