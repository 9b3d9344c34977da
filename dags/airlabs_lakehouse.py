"""
### Airlabs v9 lakehouse (real-time snapshots)

Every 10 minutes (`AEROLAKE_AIRLABS_SCHEDULE`, a cron expression): the real-time flights (positions) and
the schedules of the hub airports (`AEROLAKE_AIRLABS_HUBS`, default FRA,MUC), with airports and airlines to
fill reference gaps. Each run is a snapshot partition `dt=YYYY-MM-DD/snapshot=HHMM/` of its logical time.

`extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality -> write_curated -> publish_to_kafka`

* **Quota**: 1,000 requests a month on the free plan. The budget (`AEROLAKE_AIRLABS_BUDGET_PER_DAY` /
  `_PER_MONTH`) is kept in MySQL and shared by every run; a run that would exceed it stops before calling,
  saying how many calls it needed and had. Scheduled runs are paced: the month's calls are spread over them, and
  a run the pace cannot pay ends skipped (not failed) with the numbers in its log. `extract_to_s3` runs in the `airlabs_api` pool (one slot).
* **Backfill replays from the lake**: the live API serves only "now". A past snapshot with a raw partition
  rebuilds MongoDB and MySQL from it without any API call; one without fails saying so.
* Connections: `airlabs_api` (password = API key), `aerolake_s3`, `aerolake_mongo`, `aerolake_mysql`,
  `aerolake_kafka`, `aerolake_schema_registry`; unset = offline defaults.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.timetables.trigger import CronTriggerTimetable

from aerolake.airflow.dagfactory import lakehouse_dag

lakehouse_dag(
    dag_id="airlabs_lakehouse",
    source="airlabs",
    schedule=CronTriggerTimetable(os.environ.get("AEROLAKE_AIRLABS_SCHEDULE", "*/10 * * * *"), timezone="UTC"),
    doc_md=__doc__,
    tables=("countries", "airports", "airlines", "flights", "flight_codeshares", "flight_positions"),
    tags=("realtime",),
    pool="airlabs_api",
    snapshots=True,
    streaming=True,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
)
