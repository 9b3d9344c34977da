"""
### OpenSky Network lakehouse (state vectors every 10 minutes, the previous day's flights daily)

Every 10 minutes (`AEROLAKE_OPENSKY_SCHEDULE`, a cron expression): a snapshot partition
`dt=YYYY-MM-DD/snapshot=HHMM/` with the state vectors (`/states/all`) in a box around the hub airports
(`AEROLAKE_OPENSKY_HUBS`, default FRA,MUC) into `flight_positions`. The run at 00:00 UTC is the previous day's
partition `dt=YYYY-MM-DD/` instead: the hubs' departures and arrivals (`/flights/departure`, `/flights/arrival`,
computed by OpenSky's nightly batch) into `flights`, at the lowest authority (observed times, no schedule).

`extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality -> write_curated -> publish_to_kafka`

* **Credits**: OpenSky's allowance is credits a day (registered 4,000, anonymous 400). The budget
  (`AEROLAKE_OPENSKY_BUDGET_PER_DAY`, default 4,000) counts credits: every request is charged its cost (a box of
  up to 25 square degrees 1, a day's flights 4). The default schedule spends about 160 a day. `extract_to_s3`
  runs in the `opensky_api` pool (one slot).
* **Backfill fetches past days**: trigger with `{"snapshot": false}` (or untick *snapshot*) for the day of the
  logical date: its flights are fetched from the API (the lake's copy is replayed when it has one). A past
  snapshot cannot be served (state vectors are live only): without a raw partition it fails saying so.
* Connections: `opensky_api` (host = base URL, login/password = OAuth2 client id/secret, `extra.token_url`; no
  login = anonymous, state vectors only), `aerolake_s3`, `aerolake_mongo`, `aerolake_mysql`, `aerolake_kafka`,
  `aerolake_schema_registry`; unset = offline defaults.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.timetables.trigger import CronTriggerTimetable

from aerolake.airflow.dagfactory import lakehouse_dag

lakehouse_dag(
    dag_id="opensky_lakehouse",
    source="opensky",
    schedule=CronTriggerTimetable(os.environ.get("AEROLAKE_OPENSKY_SCHEDULE", "*/10 * * * *"), timezone="UTC"),
    doc_md=__doc__,
    tables=("countries", "airports", "flights", "flight_positions"),
    tags=("realtime",),
    pool="opensky_api",
    snapshots=True,
    snapshot_param=True,
    day_partition_at="0000",
    streaming=True,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
)
