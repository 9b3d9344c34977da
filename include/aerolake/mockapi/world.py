"""The deterministic synthetic aviation world behind every mock source.

Nothing here reads the wall clock: the same (seed, flights_per_hub, anomalies, hubs) always yields
the same airports, cities, countries, airlines, aircraft and flights for a given date.

Reference data (seed-independent)
    Airports, coordinates, IANA time zones and countries come from ``airportsdata.load("IATA")``,
    plus five real Lufthansa Express Rail stations (QKL, QDU, ZWS, ZMB, QPP; LocationType
    "RailwayStation").  The reference listing holds 1,263 locations: every core airport, every
    network destination, the rail stations, the metro-city airports and a deterministic filler.
    A fixed pool of 40 real European airports is deliberately kept OUT of the listing; about 4.5%
    of own flights go to or come from one of them (about 2% of all flight endpoints).

Flights (seed-dependent)
    For an airport X and a local date D, ``departures(X, D)`` holds exactly ``flights_per_hub``
    flights whose scheduled local departure at X falls on D; ``arrivals(X, D)`` as many flights
    whose scheduled local arrival at X falls on D.  Flights between two *core* airports
    (``reference_data.CORE_AIRPORTS`` plus the configured hubs) are generated once per
    (origin, destination, departure date) and are the very same records in the origin's
    departures and the destination's arrivals.  Every other flight is owned by one airport's
    departures or arrivals only.

Anomalies (``anomalies=True``)
    * Flights: in every ``departures(X, D)`` the earliest own (non hub-pair) flight has no
      ``MarketingCarrier.FlightNumber`` (``Flight.number_missing``).
    * Airports: BRE (Bremen) is listed with ``Latitude`` 123.4; LEJ (Leipzig/Halle) is listed with
      ``TimeZoneId`` "Mars/Olympus_Mons".  Flights still use their real coordinates and zones.
    * Paging: see ``aerolake.mockapi.lufthansa`` (one departure repeated across a page boundary).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from aerolake.mockapi import reference_data as ref

V = TypeVar("V")

EPOCH = datetime(1970, 1, 1)
MINUTES_PER_DAY = 1440
LISTING_SIZE = 1263
OFF_LISTING_POOL_SIZE = 40
OFF_LISTING_SHARE = 0.045
ANOMALY_LATITUDE_AIRPORT = "BRE"
ANOMALY_LATITUDE = 123.4
ANOMALY_TIMEZONE_AIRPORT = "LEJ"
ANOMALY_TIMEZONE = "Mars/Olympus_Mons"
DEFAULT_CORE_WEIGHT = 0.3
PAIR_SHARE_FACTOR = 0.012


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that is identical across processes (unlike ``hash()``)."""
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def minutes_to_datetime(minutes: int) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


def date_to_minutes(day: date) -> int:
    return (day - EPOCH.date()).days * MINUTES_PER_DAY


def format_minutes(minutes: int) -> str:
    """Minutes since 1970-01-01 (wall or UTC) -> "YYYY-MM-DDTHH:MM"."""
    dt = minutes_to_datetime(minutes)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}"


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


@functools.cache
def great_circle_point(lat1: float, lon1: float, lat2: float, lon2: float, fraction: float) -> tuple[float, float]:
    """The point ``fraction`` of the way along the great circle from (lat1, lon1) to (lat2, lon2)."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    d = 2 * math.asin(math.sqrt(math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2)
                                * math.sin((l2 - l1) / 2) ** 2))
    if d < 1e-9:
        return lat1, lon1
    a, b = math.sin((1 - fraction) * d) / math.sin(d), math.sin(fraction * d) / math.sin(d)
    x = a * math.cos(p1) * math.cos(l1) + b * math.cos(p2) * math.cos(l2)
    y = a * math.cos(p1) * math.sin(l1) + b * math.cos(p2) * math.sin(l2)
    z = a * math.sin(p1) + b * math.sin(p2)
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def initial_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The initial great-circle heading from (lat1, lon1) towards (lat2, lon2), degrees from north."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=400_000)
def utc_to_local(tz: str, utc_minutes: int) -> int:
    """UTC minutes -> local wall-clock minutes in ``tz`` (always unambiguous)."""
    offset = zone(tz).utcoffset(minutes_to_datetime(utc_minutes).replace(tzinfo=UTC).astimezone(zone(tz)))
    return utc_minutes + int(offset.total_seconds() // 60)


@functools.lru_cache(maxsize=400_000)
def local_to_utc(tz: str, local_minutes: int) -> int | None:
    """Local wall-clock minutes -> UTC minutes (first occurrence), None inside a DST gap."""
    offset = minutes_to_datetime(local_minutes).replace(tzinfo=zone(tz)).utcoffset()
    utc = local_minutes - int(offset.total_seconds() // 60)
    return utc if utc_to_local(tz, utc) == local_minutes else None


def standard_utc_offset_minutes(tz: str) -> int:
    """The zone's standard (non-DST) offset, taken on a fixed date so it never depends on 'now'."""
    probe = datetime(2026, 1, 15, 12, tzinfo=zone(tz))
    return int(((probe.utcoffset() or timedelta()) - (probe.dst() or timedelta())).total_seconds() // 60)


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Airport:
    code: str
    name_en: str
    name_de: str
    city_code: str
    country: str
    lat: float
    lon: float
    tz: str
    location_type: str = "Airport"
    position_nil: bool = False


@dataclass(frozen=True, slots=True)
class City:
    code: str
    name_en: str
    name_de: str
    country: str
    lat: float
    lon: float
    tz: str
    airports: tuple[str, ...]
    position_nil: bool = False


@dataclass(frozen=True, slots=True)
class Airline:
    code: str
    icao: str
    name_en: str
    name_de: str


@dataclass(frozen=True, slots=True)
class Aircraft:
    code: str
    name_en: str
    name_de: str
    airline_equip_code: str
    size_class: str


def _german_airport_name(name_en: str, city_en: str, city_de: str) -> str:
    base = name_en.removesuffix(" Airport").removesuffix(" Railway Station")
    if city_de != city_en and city_en in base:
        base = base.replace(city_en, city_de)
    return f"Flughafen {base}"


class ReferenceData:
    """Seed-independent airports, cities, countries, airlines and aircraft."""

    def __init__(self) -> None:
        import airportsdata
        from babel import Locale

        raw = airportsdata.load("IATA")
        metro_of = {a: city for city, spec in ref.METRO_CITIES.items() for a in spec[0]}
        self.airports: dict[str, Airport] = {}
        for code, rec in raw.items():
            if not rec["tz"]:
                continue
            city_code = metro_of.get(code, code)
            city_en, city_de = self._city_names(city_code, rec["city"])
            self.airports[code] = Airport(
                code=code,
                name_en=rec["name"],
                name_de=_german_airport_name(rec["name"], city_en, city_de),
                city_code=city_code,
                country=rec["country"],
                lat=round(float(rec["lat"]), 8),
                lon=round(float(rec["lon"]), 8),
                tz=rec["tz"],
            )
        for code, (city_code, name_en, name_de, lat, lon, tz) in ref.RAIL_STATIONS.items():
            self.airports[code] = Airport(
                code, name_en, name_de, city_code, "DE", lat, lon, tz, "RailwayStation"
            )

        self.core: dict[str, float] = {c: w for c, w in ref.CORE_AIRPORTS.items() if c in self.airports}
        self.network: tuple[str, ...] = tuple(
            dict.fromkeys([*self.core, *(c for c in ref.NETWORK_AIRPORTS if c in self.airports)])
        )
        metro_airports = [a for a in metro_of if a in self.airports]
        base = dict.fromkeys([*self.network, *ref.RAIL_STATIONS, *metro_airports])
        candidates = sorted((c for c in self.airports if c not in base), key=lambda c: stable_hash("pool", c))
        # Real European airports deliberately left out of the listing (flights still use them).
        european = [c for c in candidates if self.airports[c].tz.startswith("Europe/")]
        self.off_listing: tuple[str, ...] = tuple(sorted(european[:OFF_LISTING_POOL_SIZE]))
        off = set(self.off_listing)
        filler = [c for c in candidates if c not in off][: max(0, LISTING_SIZE - len(base))]
        self.listing: tuple[str, ...] = tuple(sorted([*base, *filler]))

        # A handful of positions are published as {"@nil": "true"} (never for core airports).
        for code in self.listing:
            if code not in self.core and stable_hash("nilpos", code) % 100 == 0:
                self.airports[code] = replace(self.airports[code], position_nil=True)

        self.cities: dict[str, City] = {}
        for code in self.listing:
            self._add_city(self.airports[code], raw.get(code, {}).get("city", ""))

        en, de = Locale("en").territories, Locale("de").territories
        countries = sorted({self.airports[c].country for c in self.listing})
        self.countries: dict[str, tuple[str, str]] = {
            c: (en.get(c, c), de.get(c, en.get(c, c))) for c in countries
        }
        self.airlines: dict[str, Airline] = {a[0]: Airline(*a) for a in sorted(ref.AIRLINES)}
        self.aircraft: dict[str, Aircraft] = {a[0]: Aircraft(*a) for a in sorted(ref.AIRCRAFT)}

    @staticmethod
    def _city_names(city_code: str, raw_city: str) -> tuple[str, str]:
        if city_code in ref.METRO_CITIES:
            spec = ref.METRO_CITIES[city_code]
            return spec[1], spec[2]
        if city_code in ref.CITY_NAMES:
            return ref.CITY_NAMES[city_code]
        name = raw_city.split(",")[-1].strip() or city_code
        return name, name

    def _add_city(self, airport: Airport, raw_city: str) -> None:
        code = airport.city_code
        if code in self.cities:
            return
        name_en, name_de = self._city_names(code, raw_city)
        if code in ref.METRO_CITIES:
            members = tuple(a for a in ref.METRO_CITIES[code][0] if a in self.airports)
            lat, lon = ref.METRO_CITIES[code][3], ref.METRO_CITIES[code][4]
        else:
            members, lat, lon = (airport.code,), airport.lat, airport.lon
        nil = airport.position_nil or (code not in self.core and stable_hash("nilcity", code) % 90 == 0)
        self.cities[code] = City(code, name_en, name_de, airport.country, lat, lon, airport.tz, members, nil)


@functools.cache
def reference_data() -> ReferenceData:
    """The process-wide reference data (built once, about a tenth of a second)."""
    return ReferenceData()


# --------------------------------------------------------------------------------------------
# Flights
# --------------------------------------------------------------------------------------------


class Flight:
    """One flight leg.  Times are integer minutes since 1970-01-01 (UTC or local wall clock)."""

    __slots__ = (
        "aircraft",
        "arr_delay",
        "arr_gate",
        "arr_kind",
        "arr_loc",
        "arr_term",
        "arr_ts",
        "arr_utc",
        "carrier",
        "dep_delay",
        "dep_gate",
        "dep_kind",
        "dep_loc",
        "dep_term",
        "dep_ts",
        "dep_utc",
        "dest",
        "number",
        "number_missing",
        "op_carrier",
        "op_number",
        "origin",
        "pair",
        "quirks",
        "registration",
        "status",
    )

    def __init__(self) -> None:
        self.number_missing = False
        self.pair = False

    @property
    def flight_id(self) -> str:
        return f"{self.carrier}{self.number}"

    def __repr__(self) -> str:
        return (
            f"Flight({self.carrier}{self.number} {self.origin}->{self.dest} "
            f"{format_minutes(self.dep_loc)} {self.status})"
        )


_HOUR_CUM = list(itertools.accumulate(ref.HOURLY_PROFILE))
_CARRIERS = [c for c, _ in ref.CARRIER_MIX]
_CARRIER_CUM = list(itertools.accumulate(w for _, w in ref.CARRIER_MIX))
_AIRCRAFT_BY_CLASS: dict[str, tuple[str, ...]] = {
    cls: tuple(a[0] for a in ref.AIRCRAFT if a[4] == cls and a[0] != "77F") for cls in "RNW"
}
_TERMINAL_LETTERS = "ABCDEFGHKL"
_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _time_status(delay: int) -> str:
    if delay < 0:
        return "FE"
    return "OT" if delay < 15 else "DL"


@functools.lru_cache(maxsize=8192)
def _registration(carrier: str, aircraft: str, tail: int) -> str:
    prefix = ref.REGISTRATION_PREFIX.get(carrier, "N")
    h = stable_hash("reg", carrier, aircraft, tail)
    if prefix in {"N", "B", "HL", "JA"}:
        digits = {"N": 3, "JA": 3, "B": 4, "HL": 4}[prefix]
        suffix = _ALPHA[h % 26] + _ALPHA[(h >> 5) % 26] if prefix == "N" else ""
        return f"{prefix}{h % 10**digits:0{digits}d}{suffix}"
    letters = "".join(_ALPHA[(h >> (5 * i)) % 26] for i in range(max(1, 5 - len(prefix))))
    return prefix + letters


@dataclass(frozen=True, slots=True)
class _Destination:
    code: str
    duration: int  # block minutes
    size_class: str


class _FlightFactory:
    """Builds flights for one generator (an airport-day or a hub pair-day) from one seeded RNG."""

    def __init__(self, world: World, key: str) -> None:
        self.world = world
        self.rng = Random(f"{world.seed}|{key}")
        self.key = key
        self.counters: dict[str, tuple[int, int]] = {}

    def _number(self, carrier: str) -> int:
        base, k = self.counters.get(carrier) or (
            stable_hash("num", self.world.seed, self.key, carrier) % 9999,
            0,
        )
        self.counters[carrier] = (base, k + 1)
        return 1 + (base + 7 * k) % 9999

    def local_minute_of_day(self) -> int:
        rng = self.rng
        hour = bisect.bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
        return min(hour, 23) * 60 + 5 * int(rng.random() * 12)

    def carrier(self) -> str:
        idx = bisect.bisect_right(_CARRIER_CUM, self.rng.random() * _CARRIER_CUM[-1])
        return _CARRIERS[min(idx, len(_CARRIERS) - 1)]

    def build(
        self, origin: str, dest: _Destination, dep_utc: int, dep_loc: int, arr_utc: int, arr_loc: int
    ) -> Flight:
        rng = self.rng
        f = Flight()
        f.origin, f.dest = origin, dest.code
        f.dep_utc, f.dep_loc, f.arr_utc, f.arr_loc = dep_utc, dep_loc, arr_utc, arr_loc
        carrier = self.carrier()
        f.carrier, f.number = carrier, self._number(carrier)
        if carrier == "LH" and rng.random() < 0.15:
            f.op_carrier = ref.LH_OPERATORS[int(rng.random() * len(ref.LH_OPERATORS))]
        else:
            f.op_carrier = carrier
        f.op_number = f.number
        size = dest.size_class
        if size == "R" and rng.random() < 0.4:
            size = "N"
        elif size == "N" and rng.random() < 0.08:
            size = "W"
        fleet = ref.FLEETS.get(f.op_carrier, {}).get(size) or _AIRCRAFT_BY_CLASS[size]
        f.aircraft = fleet[int(rng.random() * len(fleet))]
        f.registration = _registration(f.op_carrier, f.aircraft, int(rng.random() * 40))
        f.dep_term, f.dep_gate = self._terminal_gate(origin)
        f.arr_term, f.arr_gate = self._terminal_gate(dest.code)
        f.quirks = rng.getrandbits(8)

        u = rng.random()
        v = rng.random()
        if u < 0.12:
            dep_delay = -1 - int(v * 5)
        elif u < 0.62:
            dep_delay = int(v * 15)
        elif u < 0.90:
            dep_delay = 15 + int(v * 46)
        elif u < 0.98:
            dep_delay = 61 + int(v * 120)
        else:
            dep_delay = 181 + int(v * 240)
        arr_delay = dep_delay - 15 + int(rng.random() * 26)
        f.dep_delay, f.arr_delay = dep_delay, arr_delay
        s = rng.random()
        if s < 0.80:
            f.status, f.dep_kind, f.arr_kind = "LD", "A", "A"
            f.dep_ts, f.arr_ts = _time_status(dep_delay), _time_status(arr_delay)
        elif s < 0.86:
            f.status, f.dep_kind, f.arr_kind = "DP", "A", "E"
            f.dep_ts, f.arr_ts = _time_status(dep_delay), _time_status(arr_delay)
        elif s < 0.92:
            f.status, f.dep_kind, f.arr_kind = "NA", "E", "E"
            f.dep_ts, f.arr_ts = _time_status(dep_delay), _time_status(arr_delay)
        elif s < 0.965:
            f.status, f.dep_kind, f.arr_kind, f.dep_ts, f.arr_ts = "CD", "", "", "NO", "NO"
        elif s < 0.975:
            f.status, f.dep_kind, f.arr_kind, f.dep_ts, f.arr_ts = (
                "DV",
                "A",
                "",
                _time_status(dep_delay),
                "NI",
            )
        elif s < 0.985:
            f.status, f.dep_kind, f.arr_kind, f.dep_ts, f.arr_ts = (
                "RT",
                "A",
                "",
                _time_status(dep_delay),
                "NI",
            )
        else:
            f.status, f.dep_kind, f.arr_kind, f.dep_ts, f.arr_ts = "NA", "E", "", "NI", "NO"
        return f

    def _terminal_gate(self, airport: str) -> tuple[str | None, str | None]:
        rng = self.rng
        u, v, w = rng.random(), rng.random(), rng.random()
        terms = _terminals(airport)
        if not terms or u < 0.05:
            return None, None
        term, letters = terms[int(u * len(terms)) % len(terms)]
        if v < 0.1:
            return term, None
        return term, f"{letters[int(w * len(letters))]}{1 + int(w * 997) % 69}"


@functools.lru_cache(maxsize=16384)
def _terminals(airport: str) -> tuple[tuple[str, str], ...]:
    """(terminal name, gate letters) of an airport: well-known ones, else a stable made-up layout."""
    table = ref.TERMINALS.get(airport)
    if table is None:
        n_terms = stable_hash("terms", airport) % 4
        table = {str(i + 1): _TERMINAL_LETTERS[i * 2 : i * 2 + 2] for i in range(n_terms)}
    return tuple(table.items())


class _LruCache(Generic[V]):
    """A small least-recently-used map (callers hold the world lock)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple, V] = OrderedDict()

    def get_or_build(self, key: tuple, build: Callable[[], V]) -> V:
        if key in self.data:
            self.data.move_to_end(key)
            return self.data[key]
        value = build()
        self.data[key] = value
        if len(self.data) > self.size:
            self.data.popitem(last=False)
        return value


class DaySet:
    """Flights of one airport and local date, sorted by the local scheduled time at that airport."""

    __slots__ = ("flights", "keys")

    def __init__(self, flights: list[Flight], keys: list[int]) -> None:
        self.flights = flights
        self.keys = keys

    def between(self, lo: int, hi: int) -> list[Flight]:
        return self.flights[bisect.bisect_left(self.keys, lo) : bisect.bisect_left(self.keys, hi)]


class World:
    """Flights and (anomaly-adjusted) reference records for one configuration."""

    def __init__(
        self,
        seed: int = 0,
        flights_per_hub: int = 200,
        anomalies: bool = False,
        hubs: Iterable[str] = ("FRA", "MUC"),
        cache_days: int = 24,
    ) -> None:
        self.seed = seed
        self.flights_per_hub = max(0, int(flights_per_hub))
        self.anomalies = anomalies
        self.ref = reference_data()
        self.hubs = tuple(h for h in (h.upper() for h in hubs) if h in self.ref.airports)
        self.core: dict[str, float] = dict(self.ref.core)
        for hub in self.hubs:
            self.core.setdefault(hub, DEFAULT_CORE_WEIGHT)
        self.listing: tuple[str, ...] = tuple(sorted(set(self.ref.listing) | set(self.hubs)))
        self._listing_set = frozenset(self.listing)
        self.lh_operated: tuple[str, ...] = tuple(sorted(set(self.ref.network) | set(self.hubs)))
        self._lock = threading.RLock()
        self._days: _LruCache[DaySet] = _LruCache(cache_days)
        self._pairs: _LruCache[list[Flight]] = _LruCache(8192)
        self._dest_tables: dict[str, tuple[list[_Destination], list[float]]] = {}
        self._off_tables: dict[str, list[_Destination]] = {}
        self._airport_overrides: dict[str, Airport] = {}
        if anomalies:
            bad_lat = self.ref.airports[ANOMALY_LATITUDE_AIRPORT]
            bad_tz = self.ref.airports[ANOMALY_TIMEZONE_AIRPORT]
            self._airport_overrides = {
                bad_lat.code: replace(bad_lat, lat=ANOMALY_LATITUDE, position_nil=False),
                bad_tz.code: replace(bad_tz, tz=ANOMALY_TIMEZONE),
            }

    # ---- reference records ------------------------------------------------------------------

    def in_listing(self, code: str) -> bool:
        return code in self._listing_set

    def airport(self, code: str) -> Airport | None:
        """The published record of a listed airport (anomalies applied), else None."""
        if code not in self._listing_set:
            return None
        return self._airport_overrides.get(code) or self.ref.airports[code]

    def known_airport(self, code: str) -> Airport | None:
        """Any airport the world can fly to (listed or not), with its real data."""
        return self.ref.airports.get(code)

    # ---- flights ----------------------------------------------------------------------------

    def _pair_count(self, a: str, b: str) -> int:
        share = ref.PAIR_SHARE_OVERRIDES.get(frozenset({a, b}))
        if share is None:
            share = PAIR_SHARE_FACTOR * self.core[a] * self.core[b]
        return int(self.flights_per_hub * share + 0.5)

    def _destination(self, origin: str, dest: str) -> _Destination:
        o, d = self.ref.airports[origin], self.ref.airports[dest]
        km = great_circle_km(o.lat, o.lon, d.lat, d.lon)
        duration = max(35, round((30 + km / 13.0) / 5.0) * 5)  # taxi + ~780 km/h
        size = "R" if km < 900 else ("N" if km < 4500 else "W")
        return _Destination(dest, duration, size)

    def _dest_table(self, airport: str) -> tuple[list[_Destination], list[float]]:
        """Own-flight counterparts of ``airport`` (network minus core pairs) with cumulative weights."""
        table = self._dest_tables.get(airport)
        if table is None:
            is_core = airport in self.core
            dests, weights = [], []
            for code in self.ref.network:
                if code == airport or (is_core and code in self.core):
                    continue
                dests.append(self._destination(airport, code))
                weights.append(self.core.get(code, 0.15))
            table = (dests, list(itertools.accumulate(weights)))
            self._dest_tables[airport] = table
        return table

    def _off_listing_table(self, airport: str) -> list[_Destination]:
        table = self._off_tables.get(airport)
        if table is None:
            table = [self._destination(airport, c) for c in self.ref.off_listing if c != airport]
            self._off_tables[airport] = table
        return table

    def _pick_counterpart(self, rng: Random, airport: str) -> _Destination:
        if rng.random() < OFF_LISTING_SHARE:
            pool = self._off_listing_table(airport)
            return pool[rng.randrange(len(pool))]
        dests, cum = self._dest_table(airport)
        return dests[min(bisect.bisect_right(cum, rng.random() * cum[-1]), len(dests) - 1)]

    def _pair_flights(self, origin: str, dest: str, day: date) -> list[Flight]:
        def build() -> list[Flight]:
            count = self._pair_count(origin, dest)
            factory = _FlightFactory(self, f"pair|{origin}|{dest}|{day.isoformat()}")
            target = self._destination(origin, dest)
            tz_o, tz_d = self.ref.airports[origin].tz, self.ref.airports[dest].tz
            day0 = date_to_minutes(day)
            flights = []
            for _ in range(count):
                dep_loc, dep_utc = self._sample_local(factory, tz_o, day0)
                arr_utc = dep_utc + target.duration
                f = factory.build(origin, target, dep_utc, dep_loc, arr_utc, utc_to_local(tz_d, arr_utc))
                f.pair = True
                flights.append(f)
            return flights

        return self._pairs.get_or_build((origin, dest, day), build)

    @staticmethod
    def _sample_local(factory: _FlightFactory, tz: str, day0: int) -> tuple[int, int]:
        """A scheduled local time on the day (never inside a DST gap) and its UTC."""
        loc = day0 + factory.local_minute_of_day()
        utc = local_to_utc(tz, loc)
        if utc is None:  # nonexistent wall time: schedules shift past the gap
            step = 60 if loc + 60 < day0 + MINUTES_PER_DAY else -60
            while utc is None:
                loc += step
                utc = local_to_utc(tz, loc)
        return loc, utc

    def departures(self, airport: str, day: date) -> DaySet:
        """All flights whose scheduled local departure at ``airport`` is on ``day``."""
        airport = airport.upper()
        with self._lock:
            return self._days.get_or_build(
                ("dep", airport, day), lambda: self._build_departures(airport, day)
            )

    def arrivals(self, airport: str, day: date) -> DaySet:
        """All flights whose scheduled local arrival at ``airport`` is on ``day``."""
        airport = airport.upper()
        with self._lock:
            return self._days.get_or_build(("arr", airport, day), lambda: self._build_arrivals(airport, day))

    def _partners(self, airport: str) -> list[str]:
        return [c for c in self.core if c != airport] if airport in self.core else []

    def _build_departures(self, airport: str, day: date) -> DaySet:
        tz = self.ref.airports[airport].tz
        pair_flights = [f for p in self._partners(airport) for f in self._pair_flights(airport, p, day)]
        n_own = max(0, self.flights_per_hub - len(pair_flights))
        factory = _FlightFactory(self, f"dep|{airport}|{day.isoformat()}")
        day0 = date_to_minutes(day)
        own = []
        for _ in range(n_own):
            dep_loc, dep_utc = self._sample_local(factory, tz, day0)
            dest = self._pick_counterpart(factory.rng, airport)
            arr_utc = dep_utc + dest.duration
            arr_loc = utc_to_local(self.ref.airports[dest.code].tz, arr_utc)
            own.append(factory.build(airport, dest, dep_utc, dep_loc, arr_utc, arr_loc))
        if self.anomalies and own:
            first = min(own, key=lambda f: (f.dep_loc, f.carrier, f.number))
            first.number_missing = True
        flights = sorted(own + pair_flights, key=lambda f: (f.dep_loc, f.carrier, f.number, f.dest))
        return DaySet(flights, [f.dep_loc for f in flights])

    def _build_arrivals(self, airport: str, day: date) -> DaySet:
        tz = self.ref.airports[airport].tz
        day0 = date_to_minutes(day)
        pair_flights = []
        for partner in self._partners(airport):
            for d in (day - timedelta(days=1), day, day + timedelta(days=1)):
                pair_flights.extend(
                    f
                    for f in self._pair_flights(partner, airport, d)
                    if day0 <= f.arr_loc < day0 + MINUTES_PER_DAY
                )
        n_own = max(0, self.flights_per_hub - len(pair_flights))
        factory = _FlightFactory(self, f"arr|{airport}|{day.isoformat()}")
        own = []
        for _ in range(n_own):
            arr_loc, arr_utc = self._sample_local(factory, tz, day0)
            origin = self._pick_counterpart(factory.rng, airport)
            dep_utc = arr_utc - origin.duration
            dep_loc = utc_to_local(self.ref.airports[origin.code].tz, dep_utc)
            here = _Destination(airport, origin.duration, origin.size_class)
            own.append(factory.build(origin.code, here, dep_utc, dep_loc, arr_utc, arr_loc))
        flights = sorted(own + pair_flights, key=lambda f: (f.arr_loc, f.carrier, f.number, f.origin))
        return DaySet(flights, [f.arr_loc for f in flights])

    def window(self, kind: str, airport: str, start_local: datetime, hours: int = 4) -> list[Flight]:
        """Flights scheduled (local at ``airport``) in [start, start + hours) for kind dep/arr."""
        lo = int((start_local - EPOCH).total_seconds() // 60)
        hi = lo + hours * 60
        first, last = minutes_to_datetime(lo).date(), minutes_to_datetime(hi - 1).date()
        getter = self.departures if kind == "dep" else self.arrivals
        out: list[Flight] = []
        for offset in range((last - first).days + 1):  # every day of a window longer than one
            out.extend(getter(airport, first + timedelta(days=offset)).between(lo, hi))
        return out

    def flights_by_number(self, carrier: str, number: int, day: date) -> list[Flight]:
        """Legs of ``carrier`` + ``number`` departing (local) on ``day``, among the hubs' flights."""
        day0 = date_to_minutes(day)
        found: dict[int, Flight] = {}
        for hub in self.hubs:
            candidates = list(self.departures(hub, day).flights)
            for d in (day - timedelta(days=1), day, day + timedelta(days=1)):
                candidates.extend(self.arrivals(hub, d).flights)
            for f in candidates:
                if (
                    f.carrier == carrier
                    and f.number == number
                    and not f.number_missing
                    and day0 <= f.dep_loc < day0 + MINUTES_PER_DAY
                ):
                    found[id(f)] = f
        return sorted(found.values(), key=lambda f: (f.dep_utc, f.origin))
