"""Settings read from the environment, with the offline defaults of DESIGN.md.

Everything here is cheap to import: no network, no database, no Airflow import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: Connection ids (the contract of DESIGN.md).
LUFTHANSA_CONN_ID = "lufthansa_api"
AIRLABS_CONN_ID = "airlabs_api"
AVIATIONSTACK_CONN_ID = "aviationstack_api"
S3_CONN_ID = "aerolake_s3"
MONGO_CONN_ID = "aerolake_mongo"
MYSQL_CONN_ID = "aerolake_mysql"

#: Where the offline stack listens (``aerolake offline up`` / ``make demo``).
OFFLINE_MOCK_API_URL = "http://127.0.0.1:8090"
OFFLINE_S3_ENDPOINT = "http://127.0.0.1:5055"


def _env_list(name: str, default: str) -> tuple[str, ...]:
    raw = os.environ.get(name, default)
    return tuple(item.strip().upper() for item in raw.split(",") if item.strip())


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Project-wide settings. Build with :func:`load_settings`; override fields in tests."""

    bucket: str = "aerolake"
    mongo_db: str = "aerolake"
    mysql_database: str = "aerolake"
    lufthansa_hubs: tuple[str, ...] = ("FRA", "MUC")
    lufthansa_calls_per_second: float = 5.0
    mock_api_url: str = OFFLINE_MOCK_API_URL
    s3_endpoint: str = OFFLINE_S3_ENDPOINT
    extra: dict[str, str] = field(default_factory=dict)


def load_settings() -> Settings:
    """Settings from ``AEROLAKE_*`` environment variables, falling back to the offline defaults."""
    return Settings(
        bucket=os.environ.get("AEROLAKE_BUCKET", "aerolake"),
        mongo_db=os.environ.get("AEROLAKE_MONGO_DB", "aerolake"),
        mysql_database=os.environ.get("AEROLAKE_MYSQL_DATABASE", "aerolake"),
        lufthansa_hubs=_env_list("AEROLAKE_LUFTHANSA_HUBS", "FRA,MUC"),
        lufthansa_calls_per_second=_env_float("AEROLAKE_LUFTHANSA_CALLS_PER_SECOND", 5.0),
        mock_api_url=os.environ.get("AEROLAKE_MOCK_API_URL", OFFLINE_MOCK_API_URL).rstrip("/"),
        s3_endpoint=os.environ.get("AEROLAKE_S3_ENDPOINT", OFFLINE_S3_ENDPOINT).rstrip("/"),
    )
