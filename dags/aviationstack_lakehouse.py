"""
### Aviation Stack v1 lakehouse

Daily: the flights of the run's `flight_date` departing the hub airports (`AEROLAKE_AVIATIONSTACK_HUBS`,
default FRA,MUC), through the lake into MySQL. Optional intra-day snapshots: trigger with
`{"snapshot": true}` and a logical time, or set `AEROLAKE_AVIATIONSTACK_SNAPSHOTS=true` with an intra-day
`AEROLAKE_AVIATIONSTACK_SCHEDULE` (cron): the partition is then `dt=.../snapshot=HHMM/` and `live`
positions are those of that moment.

`extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality -> write_curated -> publish_to_kafka`

* **Quota**: 100 requests a month on the free plan. The budget (`AEROLAKE_AVIATIONSTACK_BUDGET_PER_DAY` /
  `_PER_MONTH`) is kept in MySQL and shared by every run; a run that would exceed it stops before calling.
  Scheduled runs are paced: the month's calls are spread over them, and a run the pace cannot pay ends skipped
  (not failed) with the numbers in its log. `extract_to_s3` runs in the `aviationstack_api` pool (one slot).
* **Backfill replays from the lake**: the API serves recent dates only; an older date with a raw partition
  is rebuilt from it without any API call, one without fails saying so.
* Connections: `aviationstack_api` (password = access key), `aerolake_s3`, `aerolake_mongo`,
  `aerolake_mysql`, `aerolake_kafka`, `aerolake_schema_registry`; unset = offline defaults.
"""

from __future__ import annotations

import os

from airflow.timetables.interval import CronDataIntervalTimetable

from aerolake.airflow.dagfactory import lakehouse_dag

lakehouse_dag(
    dag_id="aviationstack_lakehouse",
    source="aviationstack",
    schedule=CronDataIntervalTimetable(os.environ.get("AEROLAKE_AVIATIONSTACK_SCHEDULE", "0 0 * * *"),
                                       timezone="UTC"),
    doc_md=__doc__,
    tables=("countries", "airports", "airlines", "flights", "flight_codeshares", "flight_positions"),
    pool="aviationstack_api",
    snapshots=os.environ.get("AEROLAKE_AVIATIONSTACK_SNAPSHOTS", "").lower() in ("1", "true", "yes"),
    snapshot_param=True,
    streaming=True,
)
