"""The tasks of the daily ``aerolake_maintenance`` DAG, as plain functions (no Airflow needed to run or test them).

``ensure_partitions -> apply_retention``: the partitioned tables (``flight_positions``) get the current month's and
the next months' partitions before any load needs them, and positions older than
``AEROLAKE_POSITIONS_RETENTION_DAYS`` go, a whole month's partition at a time (never a ``DELETE``). Both are
idempotent, take the partitions' server lock, and touch no data a load is writing: the current month and every
later one are never dropped. "Now" is the pipeline's clock (:func:`aerolake.core.settings.utcnow`), the one the
positions' ``observed_at`` come from.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aerolake.core.connections import MySqlConfig, mysql_config
from aerolake.core.settings import load_settings, positions_retention_days, utcnow
from aerolake.schema import FLIGHT_POSITIONS
from aerolake.stores.mysql import partitions
from aerolake.stores.mysql.migrate import migrate

log = logging.getLogger(__name__)


def _mysql(cfg: MySqlConfig | None) -> MySqlConfig:
    """``cfg``, else the ``aerolake_mysql`` connection; migrated (the partitions are the migrations' tables)."""
    cfg = cfg or mysql_config(load_settings())
    migrate(cfg)
    return cfg


def ensure_partitions(cfg: MySqlConfig | None = None, now: datetime | None = None) -> dict[str, list[str]]:
    """The current month and the next :data:`partitions.MONTHS_AHEAD` have their partitions in every partitioned
    table; returns the partitions made per table."""
    cfg = _mysql(cfg)
    now = now or utcnow()
    made = partitions.ensure_months_ahead(cfg, now)
    for table, names in made.items():
        log.info("%s: %s", table, f"made partitions {', '.join(names)}" if names else
                 f"every month to {partitions.MONTHS_AHEAD} months after {now:%Y-%m} already has its partition")
    return made


def apply_retention(cfg: MySqlConfig | None = None, now: datetime | None = None,
                    retention_days: int | None = None) -> list[dict[str, object]]:
    """Drop the ``flight_positions`` partitions whose whole month is older than ``now`` minus the retention
    (``retention_days``, else ``AEROLAKE_POSITIONS_RETENTION_DAYS``; unset: nothing is dropped); returns each
    dropped partition's name, month and estimated rows."""
    days = retention_days if retention_days is not None else positions_retention_days()
    dropped = partitions.apply_retention(_mysql(cfg), FLIGHT_POSITIONS, days, now or utcnow())
    return [{"partition": p.name, "month": f"{p.month:%Y-%m}", "rows": p.rows} for p in dropped]
