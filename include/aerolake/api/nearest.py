"""The nearest-airport index: a k-d tree on unit-sphere vectors, refreshed when ``airports`` changes.

Why a k-d tree on 3-D unit vectors: the straight-line (chord) distance between two points of the sphere grows
monotonically with their great-circle distance, so the k nearest by chord *are* the k nearest on the globe,
poles and the antimeridian included, with no special case. The tree answers in O(log n); the exact
great-circle distance is then computed (haversine) for those few candidates only. The old system scanned every
airport with a pandas ``apply`` per request.

Freshness without a per-request scan: at most every ``check_interval_s`` a cheap signature of the table
(``COUNT(*)``, ``MAX(updated_at)``) is compared with the one the index was built from, in a background
thread; requests keep using the current snapshot and never wait for a rebuild (except the very first build).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

#: Mean Earth radius (IUGG), km: the radius every distance of the API uses.
EARTH_RADIUS_KM = 6371.0088
#: Candidates fetched beyond k, so airports at the same spot tie-break by code like a full scan would.
_TIE_SLACK = 2


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def unit_vectors(lat_deg: Any, lon_deg: Any) -> Any:
    """(n, 3) array of unit vectors for arrays of latitudes and longitudes in degrees."""
    import numpy as np

    lat, lon = np.radians(np.asarray(lat_deg, dtype=float)), np.radians(np.asarray(lon_deg, dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


@dataclass(frozen=True)
class Nearby:
    """One answer: the airport's row and its great-circle distance."""

    airport: dict[str, Any]
    distance_km: float


class _Tree:
    """One k-d tree over a subset of the snapshot's airports (all of them, or one location type)."""

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        from scipy.spatial import cKDTree

        self.rows = list(rows)
        self.tree = cKDTree(unit_vectors([r["latitude"] for r in self.rows], [r["longitude"] for r in self.rows]))

    def query(self, lat: float, lon: float, k: int) -> list[Nearby]:
        n = len(self.rows)
        if n == 0:
            return []
        phi, lam = math.radians(lat), math.radians(lon)
        point = (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
        want = min(n, k + _TIE_SLACK)
        _, found = self.tree.query(point, k=want)
        indexes = [int(found)] if want == 1 else [int(i) for i in found if i < n]
        candidates = []
        for i in indexes:
            row = self.rows[i]
            candidates.append((haversine_km(lat, lon, row["latitude"], row["longitude"]), row["airport_code"], row))
        candidates.sort(key=lambda c: (c[0], c[1]))
        return [Nearby(row, dist) for dist, _, row in candidates[:k]]


@dataclass(frozen=True)
class Snapshot:
    """An immutable index over the airports of one table state; swapped atomically on refresh."""

    signature: tuple[Any, ...]
    built_at: datetime
    all: _Tree
    by_type: dict[str, _Tree]

    @property
    def size(self) -> int:
        return len(self.all.rows)

    @property
    def location_types(self) -> list[str]:
        return sorted({r["location_type"] for r in self.all.rows if r["location_type"]})

    def nearest(self, lat: float, lon: float, k: int = 1, location_type: str | None = None) -> list[Nearby]:
        """The k nearest airports (of ``location_type``, case-insensitive, if given), nearest first."""
        tree = self.all if location_type is None else self.by_type.get(location_type.lower())
        return [] if tree is None else tree.query(lat, lon, k)


def build_snapshot(rows: Sequence[dict[str, Any]], signature: tuple[Any, ...]) -> Snapshot:
    """A snapshot of ``rows`` (dicts with airport_code, latitude, longitude, location_type, ...).

    Rows without coordinates cannot be placed on the globe and are left out (logged)."""
    placed = [r for r in rows if r.get("latitude") is not None and r.get("longitude") is not None]
    if len(placed) < len(rows):
        log.info("Airport index: %d airport(s) without coordinates left out", len(rows) - len(placed))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in placed:
        if row.get("location_type"):
            groups.setdefault(row["location_type"].lower(), []).append(row)
    return Snapshot(signature, datetime.now(UTC), _Tree(placed), {t: _Tree(g) for t, g in groups.items()})


class AirportIndex:
    """The current :class:`Snapshot`, rebuilt when the table's signature changes.

    ``load()`` returns the airport rows, ``signature()`` a cheap fingerprint of the table; both hit MySQL.
    """

    def __init__(self, load: Callable[[], list[dict[str, Any]]], signature: Callable[[], tuple[Any, ...]],
                 check_interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._signature = signature
        self.check_interval_s = check_interval_s
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._build_lock = threading.Lock()
        self._check_running = threading.Lock()
        self.rebuilds = 0

    @property
    def built(self) -> bool:
        """Whether a snapshot exists (so :meth:`snapshot` will not block on MySQL)."""
        return self._snapshot is not None

    def snapshot(self) -> Snapshot:
        """The current snapshot; the first call builds it (blocking), later calls schedule a background check
        when one is due and return at once."""
        current = self._snapshot
        if current is None:
            with self._build_lock:
                if self._snapshot is None:
                    self.check_now()
                current = self._snapshot
            assert current is not None
            return current
        if self._clock() - self._checked_at >= self.check_interval_s and self._check_running.acquire(blocking=False):
            self._checked_at = self._clock()
            threading.Thread(target=self._background_check, name="aerolake-airport-index", daemon=True).start()
        return current

    def _background_check(self) -> None:
        try:
            self.check_now()
        except Exception:  # a failed check keeps serving the last good snapshot; the next check retries
            log.exception("Airport index: refresh check failed; keeping the current index")
        finally:
            self._check_running.release()

    def check_now(self) -> bool:
        """Compare the table's signature with the snapshot's and rebuild if it changed; True if rebuilt."""
        self._checked_at = self._clock()
        signature = self._signature()
        if self._snapshot is not None and self._snapshot.signature == signature:
            return False
        started = time.perf_counter()
        snapshot = build_snapshot(self._load(), signature)
        self._snapshot = snapshot
        self.rebuilds += 1
        log.info("Airport index built: %d airports, %d location types in %.1f ms (signature %s)", snapshot.size,
                 len(snapshot.by_type), (time.perf_counter() - started) * 1000, signature)
        return True
