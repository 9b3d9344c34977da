"""What one OpenSky partition fetches, and whether the API can still serve it.

* A **snapshot** (``dt=.../snapshot=HHMM/``) fetches ``/states/all`` for a box around the hubs, with ``time`` =
  the snapshot's moment (a registered account gets the state vectors of that moment, up to an hour back; an
  anonymous one gets the latest: the API ignores ``time``) and ``extended=1`` (the aircraft category, an 18th
  member). The live API serves only the present: a snapshot is servable within :data:`SNAPSHOT_TOLERANCE`.
* A **day** (``dt=.../``) fetches ``/flights/departure`` and ``/flights/arrival`` of each hub (its ICAO code) for
  the UTC day, one request each (``begin`` = midnight, ``end`` = 23:59:59: under 24 hours, 4 credits). OpenSky
  computes flights in a nightly batch: a day is servable from the next UTC day on, and for years back, so a
  backfill of a past day fetches it.

The box (:func:`boxes`): the hubs' coordinates (``airportsdata``) widened by :data:`BOX_MARGIN_DEGREES`. One box
around all hubs when it costs no more credits than one box per hub, else one per hub: FRA and MUC fit one box of
19.2 square degrees (1 credit), so the default schedule (143 snapshots and one day a day) costs 143 + 4 x 4 =
159 credits a day, within even the anonymous allowance (400; the day's flights need an account).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from aerolake.cleaning import airportsdata_iata
from aerolake.core.errors import ConfigurationError
from aerolake.core.settings import Settings
from aerolake.http import Request
from aerolake.sources import hubs_of
from aerolake.sources.opensky.spec import ARRIVALS, DEPARTURES, PATHS, SOURCE, STATES, states_credits
from aerolake.stores.lake import Partition

#: how far a snapshot may lie from "now" for the live API to still serve it (a registered account gets up to
#: an hour back through ``time``; an anonymous one only the latest state vectors)
SNAPSHOT_TOLERANCE = timedelta(minutes=30)
#: degrees added around the hubs on each side (about 110 km of latitude: approaches and departures)
BOX_MARGIN_DEGREES = 1.0
DAY_SECONDS = 86_400


def hub_airport(code: str) -> dict:
    """The ``airportsdata`` record of hub ``code`` (IATA), which must have an ICAO code and a position."""
    entry = airportsdata_iata().get(code)
    if not entry or not entry.get("icao"):
        raise ConfigurationError(f"opensky: hub {code!r} is not an airport with an ICAO code in airportsdata; check "
                                 "AEROLAKE_OPENSKY_HUBS (IATA codes)")
    return entry


def _box(lats: list[float], lons: list[float]) -> dict[str, float]:
    """The box around points, widened by the margin, rounded outwards to hundredths of a degree."""
    return {"lamin": max(-90.0, math.floor((min(lats) - BOX_MARGIN_DEGREES) * 100) / 100),
            "lomin": max(-180.0, math.floor((min(lons) - BOX_MARGIN_DEGREES) * 100) / 100),
            "lamax": min(90.0, math.ceil((max(lats) + BOX_MARGIN_DEGREES) * 100) / 100),
            "lomax": min(180.0, math.ceil((max(lons) + BOX_MARGIN_DEGREES) * 100) / 100)}


def boxes(hubs: tuple[str, ...]) -> list[dict[str, float]]:
    """The boxes whose state vectors a snapshot fetches: one around every hub when that costs no more credits
    than one per hub (then fewer calls), else one per hub."""
    points = [(float(hub_airport(h)["lat"]), float(hub_airport(h)["lon"])) for h in hubs]
    union = _box([p[0] for p in points], [p[1] for p in points])
    apart = [_box([lat], [lon]) for lat, lon in dict.fromkeys(points)]
    return [union] if states_credits(**union) <= sum(states_credits(**b) for b in apart) else apart


def snapshot_time(partition: Partition) -> datetime | None:
    """The UTC moment (naive) a snapshot partition stands for; None for a day partition."""
    if partition.snapshot is None:
        return None
    return datetime.strptime(f"{partition.dt} {partition.snapshot}", "%Y-%m-%d %H%M")


def day_interval(day: date) -> tuple[int, int]:
    """``(begin, end)`` in Unix seconds of a UTC day: midnight to 23:59:59 (under 24 hours)."""
    begin = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    return begin, begin + DAY_SECONDS - 1


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    hubs = hubs_of(settings, SOURCE)
    moment = snapshot_time(partition)
    if moment is not None:
        at = int(moment.replace(tzinfo=UTC).timestamp())
        states = [Request(STATES, PATHS[STATES], {**box, "time": at, "extended": 1}, 0) for box in boxes(hubs)]
        return {STATES: states, DEPARTURES: [], ARRIVALS: []}
    begin, end = day_interval(date.fromisoformat(partition.dt))
    flights = {endpoint: [Request(endpoint, PATHS[endpoint], {"airport": hub_airport(hub)["icao"], "begin": begin,
                                                              "end": end}, 0) for hub in hubs]
               for endpoint in (DEPARTURES, ARRIVALS)}
    return {STATES: [], **flights}


def servable(partition: Partition, now: datetime) -> str | None:
    """None if the API can serve ``partition`` at UTC time ``now``, else why not: state vectors only for the
    present, a day's flights only once the day is over (UTC)."""
    now = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    moment = snapshot_time(partition)
    if moment is None:
        if date.fromisoformat(partition.dt) < now.date():
            return None
        return (f"OpenSky computes a day's flights in a nightly batch: those of {partition.dt} are served from "
                f"{date.fromisoformat(partition.dt) + timedelta(days=1)} (UTC) on, and now is {now:%Y-%m-%d %H:%M}")
    lag = now - moment
    if abs(lag) <= SNAPSHOT_TOLERANCE:
        return None
    when = "in the past" if lag > timedelta(0) else "in the future"
    return (f"snapshot {partition.key} is {abs(lag)} {when} (now {now:%Y-%m-%d %H:%M} UTC); OpenSky serves state "
            f"vectors only for the present, within {int(SNAPSHOT_TOLERANCE.total_seconds() // 60)} minutes")


def cannot_serve_hint(partition: Partition) -> str:
    if partition.snapshot is None:
        return (f"OpenSky serves a day's flights from the next UTC day on; fetch {partition.dt} once it is over "
                "(the DAG's midnight run does).")
    return (f"OpenSky serves state vectors only for the present, and the lake has no complete raw partition for "
            f"{partition.key} to replay; a past snapshot can only be rebuilt from the lake. The flights of a past "
            f"day are served: run its day partition (trigger with {{\"snapshot\": false}}).")
