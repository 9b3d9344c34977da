"""Airlabs v9: what one partition (a snapshot) fetches and publishes."""

from __future__ import annotations

from aerolake.core.connections import Api
from aerolake.core.settings import Budget
from aerolake.sources.base import Publication, SourceSpec
from aerolake.stores.mysql.merge import Authority
from aerolake.stores.mysql.quality import RATE_MIN_SAMPLE, WARN, Check

SOURCE = "airlabs"
FLIGHTS, SCHEDULES, AIRPORTS, AIRLINES = "flights", "schedules", "airports", "airlines"
ENDPOINTS: tuple[str, ...] = (AIRPORTS, AIRLINES, SCHEDULES, FLIGHTS)


#: Airlabs' airports and airlines only fill gaps: it has no time zones or cities, so its rows never overwrite a
#: richer source's
PUBLISH = tuple(Publication(*p) for p in (
    ("countries_fill", "countries", "countries_fill", True),
    ("airports", "airports", AIRPORTS, True),
    ("airports_fill", "airports", "airports_fill", True),
    ("airlines", "airlines", AIRLINES, True),
    ("flights", "flights", SCHEDULES, False),
    ("flight_codeshares", "flight_codeshares", SCHEDULES, False),
    ("flight_positions", "flight_positions", FLIGHTS, False),
))

QUALITY = (
    Check("row_count", "flights", "loaded_of_run", ">=", 1, params={"endpoint": SCHEDULES}),
    Check("orphan_airports", "flights", "count_orphan_flight_airports_around_snapshot", "==", 0),
    Check("orphan_codeshares", "flight_codeshares", "count_orphan_codeshares_around_snapshot", "==", 0),
    Check("orphan_position_flights", "flight_positions", "count_orphan_position_flights", "==", 0),
    Check("share_unknown_status", "flights", "share_of_unknown_status_around_snapshot", "<=", 0.05,
          severity=WARN, min_sample=RATE_MIN_SAMPLE),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "quarantine_rate_of_endpoints", "<=", 0.05,
          params={"endpoints": (SCHEDULES, FLIGHTS)}, min_sample=RATE_MIN_SAMPLE),
)

SPEC = SourceSpec(name=SOURCE, endpoints=ENDPOINTS, references=((AIRPORTS, "airports"), (AIRLINES, "airlines")),
                  publish=PUBLISH, quality=QUALITY,
                  api=Api("airlabs_api", "api_key", mock_path="airlabs/api/v9", calls_per_second=1.0),
                  authority=Authority(2),  # UTC times as published
                  budget=Budget(per_month=1000))  # the free plan: 1,000 requests a month
