"""Settings read from the environment, with the offline defaults (README.md, Configuration).

Everything here is cheap to import: no network, no database, no Airflow import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aerolake.core.errors import ConfigurationError

#: The stores' connection ids (the contract of docs/architecture.md; each API's is its source's ``SPEC.api``).
S3_CONN_ID = "aerolake_s3"
MONGO_CONN_ID = "aerolake_mongo"
MYSQL_CONN_ID = "aerolake_mysql"

#: Where the offline stack listens (``aerolake offline up`` / ``make demo``).
OFFLINE_MOCK_API_URL = "http://127.0.0.1:8090"
OFFLINE_S3_ENDPOINT = "http://127.0.0.1:5055"
#: The offline mock accepts any client id/secret; these are labels, not secrets.
OFFLINE_CLIENT_ID = "aerolake-offline"
OFFLINE_CLIENT_SECRET = "aerolake-offline"  # noqa: S105
OFFLINE_API_KEY = "aerolake-offline"  # the mock API's key for the API-key sources


def env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of codes, upper-cased (``FRA, muc`` -> ``("FRA", "MUC")``); unset -> ``default``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = tuple(item.strip().upper() for item in raw.split(",") if item.strip())
    if not items:
        raise ValueError(f"{name} must name at least one code, got {raw!r}")
    return items


def env_float(name: str, default: float) -> float:
    """A number setting; unset or empty -> ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def env_int(name: str, default: int | None) -> int | None:
    """An integer setting; empty or ``none`` means no limit (``None``)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in ("", "none", "unlimited"):
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number (or empty for no limit), got {raw!r}") from exc
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


@dataclass(frozen=True)
class Budget:
    """A source's API request budget per UTC calendar day and month (``None`` = no limit)."""

    per_day: int | None = None
    per_month: int | None = None


@dataclass(frozen=True)
class Settings:
    """Project-wide settings. Build with :func:`load_settings`; override fields in tests."""

    bucket: str = "aerolake"
    mongo_db: str = "aerolake"
    mysql_database: str = "aerolake"
    mock_api_url: str = OFFLINE_MOCK_API_URL
    s3_endpoint: str = OFFLINE_S3_ENDPOINT
    #: per source, set here, these win over the environment's ``AEROLAKE_<NAME>_*`` and the source's spec
    #: (tests, benchmarks): see :func:`aerolake.sources.budget_of`, ``hubs_of``, ``calls_per_second_of`` and
    #: ``calls_per_hour_of``
    budgets: dict[str, Budget] = field(default_factory=dict)
    hubs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    calls_per_second: dict[str, float] = field(default_factory=dict)
    calls_per_hour: dict[str, int | None] = field(default_factory=dict)


def positions_retention_days() -> int | None:
    """``AEROLAKE_POSITIONS_RETENTION_DAYS``: the days of ``flight_positions`` MySQL keeps (the maintenance DAG drops
    each monthly partition whose whole month is older; the raw lake keeps everything, so a backfill rebuilds a
    dropped month). A whole number, at least 1; unset or empty keeps everything. Read only by the task that applies
    it, so a wrong value fails that task (at once, naming the setting) and no other."""
    try:
        days = env_int("AEROLAKE_POSITIONS_RETENTION_DAYS", None)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    if days == 0:
        raise ConfigurationError("AEROLAKE_POSITIONS_RETENTION_DAYS must be at least 1 day (or empty to keep every "
                                 "position)")
    return days


def load_settings() -> Settings:
    """Settings from ``AEROLAKE_*`` environment variables, falling back to the offline defaults."""
    return Settings(
        bucket=os.environ.get("AEROLAKE_BUCKET", "aerolake"),
        mongo_db=os.environ.get("AEROLAKE_MONGO_DB", "aerolake"),
        mysql_database=os.environ.get("AEROLAKE_MYSQL_DATABASE", "aerolake"),
        mock_api_url=os.environ.get("AEROLAKE_MOCK_API_URL", OFFLINE_MOCK_API_URL).rstrip("/"),
        s3_endpoint=os.environ.get("AEROLAKE_S3_ENDPOINT", OFFLINE_S3_ENDPOINT).rstrip("/"),
    )


def wall_clock() -> datetime:
    """The current time, UTC (naive), never simulated: when a stage ran, a check was made, a record was
    published (the ledgers' ``*_at`` columns)."""
    return datetime.now(UTC).replace(tzinfo=None)


def utcnow() -> datetime:
    """The current time, UTC (naive), as the pipeline sees the world: what a live API serves, when a record
    was fetched (``fetched_at``, the ``updated_at`` that "freshest observation wins" compares), request budgets.

    ``AEROLAKE_NOW`` (ISO 8601, UTC) replaces the wall clock: the offline demo and tests use it to replay a
    moment of a past day against the mock API (whose ``now`` knob is set to the same time). Never set it in
    production: live sources would then believe they can serve that moment.
    """
    raw = os.environ.get("AEROLAKE_NOW", "").strip()
    if not raw:
        return wall_clock()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"AEROLAKE_NOW must be an ISO 8601 time, got {raw!r}") from exc
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
