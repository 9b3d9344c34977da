"""
### aerolake maintenance (daily)

Keeps MySQL's time-partitioned tables in shape, so that a run costs the same on day 400 as on day 1:

`ensure_partitions -> apply_retention`

* **ensure_partitions**: `flight_positions` has a partition for the current month and the next two (instant:
  they are split from the empty `pmax`), so no load has to make one.
* **apply_retention**: with `AEROLAKE_POSITIONS_RETENTION_DAYS` set, drops each monthly partition of
  `flight_positions` whose whole month is older than that many days (`ALTER TABLE ... DROP PARTITION`: whole
  files, no `DELETE`), logging each with its month and estimated rows. A month straddling the cutoff, the current
  month and later ones are kept. Unset (the default): nothing is dropped. The raw lake keeps every page, so a
  dropped month can be rebuilt by a backfill of its days (raise the retention first, or the next run drops it again).
* "Now" is the pipeline's clock (`AEROLAKE_NOW` in offline demos). Connection: `aerolake_mysql`.
"""

from __future__ import annotations

from airflow.timetables.trigger import CronTriggerTimetable

from aerolake.airflow.dagfactory import maintenance_dag

maintenance_dag(
    dag_id="aerolake_maintenance",
    schedule=CronTriggerTimetable("30 0 * * *", timezone="UTC"),
    doc_md=__doc__,
)
