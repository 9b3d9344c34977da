"""Clients for the stores and APIs, from Airflow Connections or the offline defaults.

Each function looks up its connection id (docs/architecture.md) through ``airflow.sdk.BaseHook`` — which reads
``AIRFLOW_CONN_<ID>`` variables, secrets backends and the metadata DB — and falls back to the embedded
offline default when the connection is not defined: the mock API server, a local S3 (moto server),
in-process MongoDB (mongomock) and MariaDB/MySQL on 127.0.0.1:3306.

Secrets stay inside the returned objects: their ``repr`` never shows them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aerolake.core.errors import ConfigurationError, InProcessStoreRefused
from aerolake.core.settings import (
    MONGO_CONN_ID,
    MYSQL_CONN_ID,
    OFFLINE_API_KEY,
    OFFLINE_CLIENT_ID,
    OFFLINE_CLIENT_SECRET,
    S3_CONN_ID,
    Settings,
)

if TYPE_CHECKING:
    from pymongo.database import Database

log = logging.getLogger(__name__)


def airflow_connection(conn_id: str) -> Any | None:
    """The Airflow Connection ``conn_id``, or None when it is not defined (or Airflow is absent)."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # pragma: no cover - Airflow is a hard dependency in practice
        return None
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


@dataclass(frozen=True)
class ApiCredentials:
    """Base URL and client credentials of an API; the secret is kept out of ``repr``."""

    base_url: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    offline: bool = False


@dataclass(frozen=True)
class Api:
    """How a source reaches its API: the one home of these facts (its ``SourceSpec.api``)."""

    conn_id: str  # the Airflow Connection (docs/architecture.md): host = base URL
    #: ``client_credentials``: login = client id, password = client secret (OAuth2);
    #: ``api_key``: password = the key (sent as a query parameter, redacted from every log)
    auth: Literal["client_credentials", "api_key"]
    mock_path: str  # the offline mock's base URL is ``<mock_api_url>/<mock_path>`` (the real one ends the same)
    #: the client's pace, with a margin below the API's own limit (``AEROLAKE_<NAME>_CALLS_PER_SECOND`` or
    #: ``Settings.calls_per_second`` override it): a pace at the limit draws "over the limit" answers
    calls_per_second: float = 1.0
    #: the pace over any sliding hour, across processes (None: the API sets no hourly limit), with a margin below
    #: the API's allowance (``AEROLAKE_<NAME>_CALLS_PER_HOUR`` overrides it; see stores/mysql/pacing.py)
    calls_per_hour: int | None = None

    def __post_init__(self) -> None:
        if self.auth not in ("client_credentials", "api_key"):
            raise ValueError(f"{self.conn_id}: auth must be client_credentials or api_key, not {self.auth!r}")


def offline_credentials(api: Api, mock_api_url: str) -> ApiCredentials:
    """What the offline mock API at ``mock_api_url`` accepts for ``api`` (labels, not secrets)."""
    base_url = f"{mock_api_url.rstrip('/')}/{api.mock_path}"
    if api.auth == "client_credentials":
        return ApiCredentials(base_url, OFFLINE_CLIENT_ID, OFFLINE_CLIENT_SECRET, offline=True)
    return ApiCredentials(base_url, None, OFFLINE_API_KEY, offline=True)


def api_credentials(api: Api, settings: Settings) -> ApiCredentials:
    """The credentials of ``api`` from its connection; undefined, the offline mock API's."""
    conn = airflow_connection(api.conn_id)
    if conn is None:
        log.info("Connection %s not defined: using the offline mock API at %s", api.conn_id, settings.mock_api_url)
        return offline_credentials(api, settings.mock_api_url)
    if api.auth == "client_credentials":
        if not conn.login or not conn.password:
            raise ConfigurationError(f"Connection {api.conn_id} needs login (client id) and password (client secret)")
        return ApiCredentials(_base_url(conn), conn.login, conn.password)
    if not conn.password:
        raise ConfigurationError(f"Connection {api.conn_id} needs password (the API key)")
    return ApiCredentials(_base_url(conn), None, conn.password)


def _base_url(conn: Any) -> str:
    base = (conn.host or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        schema = "http" if (conn.host or "").startswith(("127.", "localhost")) else "https"
        base = f"{schema}://{base}" + (f":{conn.port}" if conn.port else "")
    return base


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for ``aerolake_s3`` (``extra.endpoint_url`` for MinIO), or the local moto server."""
    conn = airflow_connection(S3_CONN_ID)
    if conn is not None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=S3_CONN_ID).get_conn()
    import boto3

    log.info("Connection %s not defined: using the local S3 endpoint %s", S3_CONN_ID, settings.s3_endpoint)
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="offline",
        aws_secret_access_key="offline",  # noqa: S106
    )


_mongomock_lock = threading.Lock()
_mongomock_client: Any = None


def offline_mongo_client() -> Any:
    """The process-wide in-process MongoDB (mongomock), shared by every task of one process."""
    global _mongomock_client
    with _mongomock_lock:
        if _mongomock_client is None:
            import mongomock

            _mongomock_client = mongomock.MongoClient()
        return _mongomock_client


class LazyDatabase:
    """A MongoDB database opened on first use, so a stage that never touches MongoDB needs no connection
    to it (and an unusable one is reported by the stage that needs it)."""

    def __init__(self, open_database: Callable[[], Database]):
        self._open, self._database = open_database, None

    def _get(self) -> Database:
        if self._database is None:
            self._database = self._open()
        return self._database

    def __getitem__(self, name: str) -> Any:
        return self._get()[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)


def mongo_database(settings: Settings, *, in_process_ok: bool = True) -> Database:
    """The staging database on ``aerolake_mongo``, or in-process mongomock when it is not defined.

    ``in_process_ok=False`` (tasks of one run in separate processes: a scheduler with its executor, or
    ``airflow tasks test``) refuses mongomock: what one task staged would vanish with its process.
    """
    conn = airflow_connection(MONGO_CONN_ID)
    if conn is None:
        if not in_process_ok:
            raise InProcessStoreRefused(
                f"Connection {MONGO_CONN_ID} is not defined, and the offline in-process MongoDB (mongomock) "
                "lives only as long as one task's process: here every task runs in a process of its own, so "
                "the next task would find nothing. Define the connection, e.g. "
                f"AIRFLOW_CONN_{MONGO_CONN_ID.upper()}='mongo://127.0.0.1:27017' (`make up` runs a shared one), "
                "or run the whole DAG in one process with `airflow dags test`."
            )
        log.info("Connection %s not defined: using in-process MongoDB (mongomock)", MONGO_CONN_ID)
        return offline_mongo_client()[settings.mongo_db]
    if conn.conn_type != "mongo":
        raise ConfigurationError(
            f"Connection {MONGO_CONN_ID} has conn_type {conn.conn_type!r}; Airflow's MongoHook needs 'mongo' "
            f"(write AIRFLOW_CONN_{MONGO_CONN_ID.upper()}='mongo://host:27017', not 'mongodb://...')"
        )
    from airflow.providers.mongo.hooks.mongo import MongoHook

    return MongoHook(mongo_conn_id=MONGO_CONN_ID).get_conn()[settings.mongo_db]


@dataclass(frozen=True)
class MySqlConfig:
    """Where the relational model lives; the password is kept out of ``repr``."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = field(default="", repr=False)
    database: str = "aerolake"


def mysql_config(settings: Settings) -> MySqlConfig:
    """``aerolake_mysql`` (schema = database), or root@127.0.0.1:3306 when it is not defined."""
    conn = airflow_connection(MYSQL_CONN_ID)
    if conn is None:
        log.info("Connection %s not defined: using MySQL at 127.0.0.1:3306, database %s", MYSQL_CONN_ID,
                 settings.mysql_database)
        return MySqlConfig(database=settings.mysql_database)
    return MySqlConfig(
        host=conn.host or "127.0.0.1",
        port=int(conn.port or 3306),
        user=conn.login or "root",
        password=conn.password or "",
        database=conn.schema or settings.mysql_database,
    )
