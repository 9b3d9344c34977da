"""Settings of the web API, read from ``AEROLAKE_API_*`` / ``AEROLAKE_AIRFLOW_*`` environment variables.

Secrets (the API token, the Airflow password) are kept out of ``repr`` so a settings object can be logged.
Cheap to import: no network, no database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from aerolake.api.forwarding import TrustedProxies, parse_forwarded_header
from aerolake.core.connections import MySqlConfig
from aerolake.core.settings import Settings, env_float, env_int, load_settings
from aerolake.sources import SOURCES

#: The DAGs ``POST /run_data_import`` may trigger (docs/architecture.md); nothing else is ever sent to Airflow.
PROJECT_DAG_IDS: tuple[str, ...] = tuple(f"{name}_lakehouse" for name in SOURCES)

DEFAULT_AIRFLOW_API_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class ApiSettings:
    """What the app needs; build with :func:`load_api_settings`, or directly in tests."""

    base: Settings = field(default_factory=Settings)
    #: the bearer token ``POST /run_data_import`` requires; unset = the endpoint refuses every call
    token: str | None = field(default=None, repr=False)
    #: origins allowed by CORS (``*`` for any); empty = no CORS headers at all
    cors_origins: tuple[str, ...] = ()
    #: data whose newest ``updated_at`` (or a DAG whose last run) is older than this is flagged stale
    stale_after_hours: float = 36.0
    airflow_api_url: str = DEFAULT_AIRFLOW_API_URL
    airflow_username: str | None = None
    airflow_password: str | None = field(default=None, repr=False)
    airflow_timeout_s: float = 10.0
    #: at most this many ``run_data_import`` calls per client address and window
    import_rate_limit: int = 5
    import_rate_window_s: float = 60.0
    #: peers whose forwarded headers name the client (reverse proxies); empty = the TCP peer is the client
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    #: the one header a trusted proxy sets: ``x-forwarded-for``, ``forwarded`` or ``x-real-ip``
    forwarded_header: str = "x-forwarded-for"
    #: how often (at most) the airport index asks MySQL whether ``airports`` changed
    index_check_interval_s: float = 30.0
    #: each dependency check of ``/health`` gives up after this long
    health_timeout_s: float = 3.0
    #: MySQL to read; None = ``aerolake.core.connections.mysql_config(base)`` (the ``aerolake_mysql`` connection)
    mysql: MySqlConfig | None = None


def _env_tuple(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def load_api_settings() -> ApiSettings:
    """Settings from the environment (see ``.env.example``), on top of :func:`aerolake.core.settings.load_settings`.

    A bad value is an error here, at startup, naming the setting (e.g. a malformed
    ``AEROLAKE_API_TRUSTED_PROXIES`` raises :class:`aerolake.core.errors.ConfigurationError`)."""
    rate = env_int("AEROLAKE_API_IMPORT_RATE_LIMIT", 5)
    return ApiSettings(
        base=load_settings(),
        token=os.environ.get("AEROLAKE_API_TOKEN") or None,
        cors_origins=_env_tuple("AEROLAKE_API_CORS_ORIGINS"),
        stale_after_hours=env_float("AEROLAKE_API_STALE_AFTER_HOURS", 36.0),
        airflow_api_url=(os.environ.get("AEROLAKE_AIRFLOW_API_URL") or DEFAULT_AIRFLOW_API_URL).rstrip("/"),
        airflow_username=os.environ.get("AEROLAKE_AIRFLOW_USERNAME") or None,
        airflow_password=os.environ.get("AEROLAKE_AIRFLOW_PASSWORD") or None,
        airflow_timeout_s=env_float("AEROLAKE_AIRFLOW_API_TIMEOUT_SECONDS", 10.0),
        import_rate_limit=rate if rate is not None else 1_000_000,
        import_rate_window_s=env_float("AEROLAKE_API_IMPORT_RATE_WINDOW_SECONDS", 60.0),
        trusted_proxies=TrustedProxies.parse(os.environ.get("AEROLAKE_API_TRUSTED_PROXIES")),
        forwarded_header=parse_forwarded_header(os.environ.get("AEROLAKE_API_FORWARDED_HEADER")),
        index_check_interval_s=env_float("AEROLAKE_API_INDEX_CHECK_SECONDS", 30.0),
        health_timeout_s=env_float("AEROLAKE_API_HEALTH_TIMEOUT_SECONDS", 3.0),
    )
