"""Aviation Stack v1: what one partition (a day) fetches and publishes."""

from __future__ import annotations

from aerolake.core.connections import Api
from aerolake.core.settings import Budget
from aerolake.sources.base import Publication, SourceSpec
from aerolake.stores.mysql.merge import Authority
from aerolake.stores.mysql.quality import RATE_MIN_SAMPLE, WARN, Check

SOURCE = "aviationstack"
FLIGHTS = "flights"
ENDPOINTS: tuple[str, ...] = (FLIGHTS,)
#: the pipeline_runs endpoint of the positions taken from the flights' ``live`` blocks (no fetched count of
#: its own: its records are the flights endpoint's)
POSITIONS = "positions"


PUBLISH = tuple(Publication(*p) for p in (
    ("countries_fill", "countries", "countries_fill", True),
    ("airports_fill", "airports", "airports_fill", True),
    ("airlines_fill", "airlines", "airlines_fill", True),
    ("flights", "flights", FLIGHTS, False),
    ("flight_codeshares", "flight_codeshares", FLIGHTS, False),
    ("flight_positions", "flight_positions", POSITIONS, False),
))

QUALITY = (
    Check("row_count", "flights", "loaded_of_run", ">=", 1, params={"endpoint": FLIGHTS}),
    Check("orphan_airports", "flights", "count_orphan_flight_airports", "==", 0),
    Check("orphan_codeshares", "flight_codeshares", "count_orphan_codeshares_of_day", "==", 0),
    Check("orphan_position_flights", "flight_positions", "count_orphan_position_flights", "==", 0),
    Check("null_rate_scheduled_arrival", "flights", "null_rate_of_column", "<=", 0.05,
          identifiers={"column": "scheduled_arrival"}, severity=WARN,
          min_sample=RATE_MIN_SAMPLE),
    Check("share_unknown_status", "flights", "share_of_unknown_status", "<=", 0.05,
          severity=WARN, min_sample=RATE_MIN_SAMPLE),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "quarantine_rate_of_run", "<=", 0.05, min_sample=RATE_MIN_SAMPLE),
)

SPEC = SourceSpec(name=SOURCE, endpoints=ENDPOINTS, references=(), publish=PUBLISH, quality=QUALITY,
                  api=Api("aviationstack_api", "api_key", mock_path="aviationstack/v1", calls_per_second=1.0),
                  authority=Authority(1),  # local clock times labelled "+00:00", converted
                  budget=Budget(per_month=100))  # the free plan: 100 requests a month
