"""
### Lufthansa Open API lakehouse

Daily: references (countries, cities, airports, airlines, aircraft) and the flight status of the hub
airports (`AEROLAKE_LUFTHANSA_HUBS`, default FRA,MUC) for the run's day, through the lake into MySQL.

`extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality -> write_curated -> publish_to_kafka`

* Each task reads the partition of its run (`dt` = the run's logical date) and returns only counts, so
  `airflow tasks test lufthansa_lakehouse <task> <date>` runs any task alone once its upstream exists.
* Idempotent and replayable: `extract_to_s3` skips the API when the day's manifest is in the lake; trigger
  with `{"refetch": true}` to call the API again. Rejected records go to quarantine with their reason.
* The day's flights (every source's) then go to the curated zone (`curated/flights/dt=`) and, those that changed,
  to Kafka. The run for a day starts when the day has ended, after its real-time snapshots: without these two
  tasks its flights would reach Kafka only through a later run of another source for the same day.
* Connections: `lufthansa_api`, `aerolake_s3`, `aerolake_mongo`, `aerolake_mysql`, `aerolake_kafka`,
  `aerolake_schema_registry`; unset = offline defaults.
"""

from __future__ import annotations

from airflow.timetables.interval import CronDataIntervalTimetable

from aerolake.airflow.dagfactory import lakehouse_dag

lakehouse_dag(
    dag_id="lufthansa_lakehouse",
    source="lufthansa",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    doc_md=__doc__,
    tables=("countries", "cities", "airports", "airlines", "aircraft_types", "flights"),
    streaming=True,
)
