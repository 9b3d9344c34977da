"""OpenSky Network: what one partition fetches and publishes, what each request costs, and how a callsign names
an airline.

Two kinds of partition (:mod:`aerolake.sources.opensky.plan`): a snapshot (``dt=.../snapshot=HHMM/``) fetches the
state vectors around the hubs (``states``); a day (``dt=.../``) fetches the hubs' departures and arrivals of that
UTC day (``departures``, ``arrivals``). Each kind plans no request for the other's endpoints (an empty manifest).
"""

from __future__ import annotations

import math

from aerolake.core.connections import Api
from aerolake.core.settings import Budget
from aerolake.sources.base import Publication, SourceSpec
from aerolake.stores.mysql.merge import Authority
from aerolake.stores.mysql.quality import RATE_MIN_SAMPLE, Check

SOURCE = "opensky"
STATES, DEPARTURES, ARRIVALS = "states", "departures", "arrivals"
ENDPOINTS: tuple[str, ...] = (STATES, DEPARTURES, ARRIVALS)
#: the API paths of the endpoints (below the base URL)
PATHS = {STATES: "states/all", DEPARTURES: "flights/departure", ARRIVALS: "flights/arrival"}

#: a state vector's members, by position (``extended=1`` adds ``category`` at index 17)
STATE_FIELDS: tuple[str, ...] = (
    "icao24", "callsign", "origin_country", "time_position", "last_contact", "longitude", "latitude",
    "baro_altitude", "on_ground", "velocity", "true_track", "vertical_rate", "sensors", "geo_altitude", "squawk",
    "spi", "position_source", "category",
)
#: the members every state vector has (``category`` only with ``extended=1``)
STATE_MEMBERS = 17
#: the members of a flight of ``/flights/departure`` and ``/flights/arrival``
FLIGHT_FIELDS: tuple[str, ...] = (
    "icao24", "firstSeen", "estDepartureAirport", "lastSeen", "estArrivalAirport", "callsign",
    "estDepartureAirportHorizDistance", "estDepartureAirportVertDistance", "estArrivalAirportHorizDistance",
    "estArrivalAirportVertDistance", "departureAirportCandidatesCount", "arrivalAirportCandidatesCount",
)

# -- credits: the allowance is counted in credits per UTC day, not calls ------------------------------------
#: ``/states/all``: credits by the box's area in square degrees (up to 25: 1, 100: 2, 400: 3; more or no box: 4)
STATES_CREDITS = ((25.0, 1), (100.0, 2), (400.0, 3))
STATES_CREDITS_MAX = 4
#: ``/flights/*``: an interval under 24 hours costs 4; longer ones by the UTC day partitions they touch
#: (1-2: 30, 3-10: 60 a partition, 11-25: 480 a partition, more: 960 a partition)
FLIGHTS_CREDITS_UNDER_A_DAY = 4


def box_area(lamin: float, lomin: float, lamax: float, lomax: float) -> float:
    """Square degrees of a latitude/longitude box (what OpenSky's credit table measures)."""
    return max(0.0, lamax - lamin) * max(0.0, lomax - lomin)


def states_credits(lamin: float | None = None, lomin: float | None = None, lamax: float | None = None,
                   lomax: float | None = None) -> int:
    """Credits of one ``/states/all`` call: by the box's area; no box (the world) costs the most."""
    if None in (lamin, lomin, lamax, lomax):
        return STATES_CREDITS_MAX
    area = box_area(float(lamin), float(lomin), float(lamax), float(lomax))  # type: ignore[arg-type]
    return next((credits for limit, credits in STATES_CREDITS if area <= limit), STATES_CREDITS_MAX)


def flights_credits(begin: int, end: int) -> int:
    """Credits of one ``/flights/*`` call for the interval ``[begin, end]`` (Unix seconds)."""
    if end - begin < 86_400:
        return FLIGHTS_CREDITS_UNDER_A_DAY
    partitions = math.floor(end / 86_400) - math.floor(begin / 86_400) + 1
    if partitions <= 2:
        return 30
    per_partition = 60 if partitions <= 10 else 480 if partitions <= 25 else 960
    return per_partition * partitions


# -- callsigns: airline ICAO designator -> IATA code --------------------------------------------------------
#: Real codes of the airlines seen at the hubs this project follows (the Lufthansa Group, its partners, the
#: carriers of Frankfurt and Munich, cargo): an ICAO callsign ``DLH400`` is flight ``LH400``. OpenSky sends no
#: airline reference, and the ``airlines`` table is keyed by IATA code, so the map is packaged here; a designator
#: it lacks leaves a position without flight identity and a flight in quarantine (never a guessed code).
AIRLINE_IATA: dict[str, str] = {
    "DLH": "LH", "SWR": "LX", "AUA": "OS", "EWG": "EW", "BEL": "SN", "OCN": "4Y", "DLA": "EN", "CLH": "CL",
    "EDW": "WK", "OAW": "2L", "GWI": "4U", "CFG": "DE", "UAL": "UA", "ACA": "AC", "ANA": "NH", "SIA": "SQ",
    "THY": "TK", "AFR": "AF", "KLM": "KL", "BAW": "BA", "IBE": "IB", "FIN": "AY", "SAS": "SK", "LOT": "LO",
    "TAP": "TP", "AEE": "A3", "CTN": "OU", "ASL": "JU", "CCA": "CA", "AAR": "OZ", "ETH": "ET", "MSR": "MS",
    "THA": "TG", "ANZ": "NZ", "AIC": "AI", "SAA": "SA", "LAN": "LA", "AVA": "AV", "CMP": "CM", "UAE": "EK",
    "QTR": "QR", "DAL": "DL", "AAL": "AA", "RYR": "FR", "EZY": "U2", "VLG": "VY", "SXS": "XQ", "TUI": "X3",
    "WZZ": "W6", "NAX": "DY", "PGT": "PC", "ELY": "LY", "ETD": "EY", "SVA": "SV", "GFA": "GF", "OMA": "WY",
    "KAL": "KE", "JAL": "JL", "CPA": "CX", "CES": "MU", "CSN": "CZ", "CHH": "HU", "VIR": "VS", "EIN": "EI",
    "ICE": "FI", "BTI": "BT", "ROT": "RO", "LZB": "FB", "ITY": "AZ", "MEA": "ME", "RJA": "RJ", "RAM": "AT",
    "TAR": "TU", "DAH": "AH", "KQA": "KQ", "BCS": "QY", "BOX": "3S", "CLX": "CV", "FDX": "FX", "UPS": "5X",
    "AMX": "AM", "WJA": "WS", "TSC": "TS", "CAI": "XC", "EXS": "LS", "TVS": "QS", "CSA": "OK", "LGL": "LG",
    "AEA": "UX", "BCY": "WX", "IBS": "I2", "VOE": "V7", "TRA": "HV", "TVF": "TO", "KLC": "WA", "HOP": "A5",
    "QFA": "QF", "IGO": "6E", "MAS": "MH", "GIA": "GA", "EVA": "BR", "CAL": "CI", "ARG": "AR", "TAM": "JJ",
    "GLO": "G3", "AZU": "AD",
}  # fmt: skip


# -- what it publishes ---------------------------------------------------------------------------------------
#: the day's flights as two entities, one per endpoint, so each endpoint's loaded count is its own
DEPARTURE_FLIGHTS, ARRIVAL_FLIGHTS = "departure_flights", "arrival_flights"
PUBLISH = tuple(Publication(*p) for p in (
    ("countries_fill", "countries", "countries_fill", True),
    ("airports_fill", "airports", "airports_fill", True),
    (DEPARTURE_FLIGHTS, "flights", DEPARTURES, False),
    (ARRIVAL_FLIGHTS, "flights", ARRIVALS, False),
    ("flight_positions", "flight_positions", STATES, False),
))

#: No row-count gate: an empty box at night (``"states": null``) and a snapshot's empty flights endpoints are
#: valid answers. The quarantine rate is judged on the state vectors only: the flights endpoints list every
#: aircraft movement (private and training flights, ATC callsigns, unnamed airports), which the flights table
#: cannot hold by design; those are quarantined with their reason and are no sign of a bad run.
QUALITY = (
    Check("orphan_airports", "flights", "count_orphan_flight_airports", "==", 0),
    Check("orphan_position_flights", "flight_positions", "count_orphan_position_flights", "==", 0),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "quarantine_rate_of_endpoints", "<=", 0.05,
          params={"endpoints": (STATES,)}, min_sample=RATE_MIN_SAMPLE),
)

SPEC = SourceSpec(
    name=SOURCE, endpoints=ENDPOINTS, references=(), publish=PUBLISH, quality=QUALITY,
    # login/password = an OAuth2 client's id and secret; a connection without login is anonymous
    api=Api("opensky_api", "client_credentials", mock_path="opensky/api", calls_per_second=1.0),
    # observed times, no schedule: every schedule source's times win over its (see normalize.py)
    authority=Authority(0),
    # credits a day, charged per request by its cost (client.py): a registered account's allowance
    budget=Budget(per_day=4000),
)
