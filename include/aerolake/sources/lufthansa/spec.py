"""Lufthansa Open API: what one partition (a day) fetches and publishes."""

from __future__ import annotations

from aerolake.core.connections import Api
from aerolake.sources.base import Publication, SourceSpec
from aerolake.stores.mysql.merge import Authority
from aerolake.stores.mysql.quality import RATE_MIN_SAMPLE, WARN, Check

SOURCE = "lufthansa"

#: Lufthansa Group airlines (IATA): mainline, regional and leisure members and their wet-lease operators.
LUFTHANSA_GROUP = ("LH", "LX", "OS", "SN", "EW", "4Y", "EN", "WK", "CL", "2L", "4U", "DE")

#: endpoint name in the lake -> (API path, resource key, collection key, record key)
REFERENCE_ENDPOINTS: dict[str, tuple[str, str, str, str]] = {
    "countries": ("references/countries", "CountryResource", "Countries", "Country"),
    "cities": ("references/cities", "CityResource", "Cities", "City"),
    "airports": ("references/airports", "AirportResource", "Airports", "Airport"),
    "airlines": ("references/airlines", "AirlineResource", "Airlines", "Airline"),
    "aircraft": ("references/aircraft", "AircraftResource", "AircraftSummaries", "AircraftSummary"),
}
FLIGHTSTATUS = "flightstatus"
ENDPOINTS: tuple[str, ...] = (*REFERENCE_ENDPOINTS, FLIGHTSTATUS)


PUBLISH = tuple(Publication(*p) for p in (
    ("countries", "countries", "countries", False),
    ("countries_fill", "countries", "countries_fill", True),
    ("cities", "cities", "cities", False),
    ("airports", "airports", "airports", False),
    ("airports_fill", "airports", "airports_fill", True),
    ("airlines", "airlines", "airlines", False),
    ("aircraft_types", "aircraft_types", "aircraft", False),
    ("flights", "flights", FLIGHTSTATUS, False),
))

QUALITY = (
    Check("row_count", "flights", "count_flights_of_partition", ">=", 1),
    Check("orphan_airports", "flights", "count_orphan_flight_airports", "==", 0),
    Check("null_rate_scheduled_arrival", "flights", "null_rate_of_column", "<=", 0.05,
          identifiers={"column": "scheduled_arrival"}, severity=WARN,
          min_sample=RATE_MIN_SAMPLE),
    Check("null_rate_arr_airport", "flights", "null_rate_of_column", "==", 0, identifiers={"column": "arr_airport"}),
    Check("share_unknown_status", "flights", "share_of_unknown_status", "<=", 0.05,
          severity=WARN, min_sample=RATE_MIN_SAMPLE),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "quarantine_rate_of_run", "<=", 0.05, min_sample=RATE_MIN_SAMPLE),
)

SPEC = SourceSpec(
    name=SOURCE,
    endpoints=ENDPOINTS,
    references=(("countries", "countries"), ("cities", "cities"), ("airports", "airports"), ("airlines", "airlines"),
                ("aircraft", "aircraft_types")),
    publish=PUBLISH,
    quality=QUALITY,
    # the public plan allows 5 calls a second and 1,000 an hour: paced with a margin below both (at exactly 5/s
    # about 13% of the calls drew 403 "Over Queries Per Second" from the gateway's own clock)
    api=Api("lufthansa_api", "client_credentials", mock_path="lufthansa/v1", calls_per_second=4.0,
            calls_per_hour=900),
    # the operator's own system for its group's flights; for other airlines, UTC times as published
    authority=Authority(2, own_airlines=LUFTHANSA_GROUP, own_rank=3),
)
