"""
### Lufthansa Open API lakehouse

Daily: references (countries, cities, airports, airlines, aircraft) and the flight status of the hub
airports (`AEROLAKE_LUFTHANSA_HUBS`, default FRA,MUC) for the run's day, through the lake into MySQL.

`extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality`

* Each task reads the partition of its run (`dt` = the run's logical date) and returns only counts, so
  `airflow tasks test lufthansa_lakehouse <task> <date>` runs any task alone once its upstream exists.
* Idempotent and replayable: `extract_to_s3` skips the API when the day's manifest is in the lake; trigger
  with `{"refetch": true}` to call the API again. Rejected records go to quarantine with their reason.
* Connections: `lufthansa_api`, `aerolake_s3`, `aerolake_mongo`, `aerolake_mysql`; unset = offline defaults.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

SOURCE = "lufthansa"
PUBLISHED_TABLES = ("countries", "cities", "airports", "airlines", "aircraft_types", "flights")
MYSQL_ASSETS = [Asset(name=f"aerolake.mysql.{t}", uri=f"mysql://mysql:3306/aerolake/{t}") for t in PUBLISHED_TABLES]


@dag(
    dag_id="lufthansa_lakehouse",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,
    doc_md=__doc__,
    tags=["aerolake", "lufthansa", "lakehouse"],
    params={"refetch": Param(False, type="boolean", description="Call the API even if the lake has the day")},
    default_args={
        "owner": "aerolake",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=20),
        "execution_timeout": timedelta(hours=2),
    },
)
def lufthansa_lakehouse():
    @task
    def extract_to_s3(**context) -> dict:
        from aerolake import orchestration, stages

        ctx = orchestration.stage_context(context, SOURCE)
        return stages.extract_to_s3(ctx, refetch=orchestration.refetch_requested(context))

    @task
    def load_to_mongo(**context) -> dict:
        from aerolake import orchestration, stages

        return stages.load_to_mongo(orchestration.stage_context(context, SOURCE))

    @task
    def clean(**context) -> dict:
        from aerolake import orchestration, stages

        return stages.clean(orchestration.stage_context(context, SOURCE))

    @task(outlets=MYSQL_ASSETS, max_active_tis_per_dag=1)
    def load_to_mysql(**context) -> dict:
        from aerolake import orchestration, stages

        return stages.load_to_mysql(orchestration.stage_context(context, SOURCE))

    @task
    def check_quality(**context) -> int:
        from aerolake import orchestration, stages

        return len(stages.check_quality(orchestration.stage_context(context, SOURCE)))

    extract_to_s3() >> load_to_mongo() >> clean() >> load_to_mysql() >> check_quality()


lufthansa_lakehouse()
