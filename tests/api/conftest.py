"""Fixtures of the web API tests: a seeded test database (one per module), the Airflow stub, app clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aerolake.api import ApiSettings, create_app
from aerolake.api.server import ServerThread
from aerolake.core.connections import MySqlConfig
from aerolake.core.settings import Settings
from aerolake.sql import quote_identifier
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.migrate import migrate

from .airflow_stub import AirflowStub
from .seed import seed

TOKEN = "test-api-token-6f1c2a9e"  # a test value, checked never to leak
AIRFLOW_USER, AIRFLOW_PASSWORD = "aerolake-bot", "stub-password-d41d8cd9"
PROJECT_DAGS = {"lufthansa_lakehouse", "airlabs_lakehouse", "aviationstack_lakehouse", "opensky_lakehouse"}


def drop_database(cfg: MySqlConfig) -> None:
    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


@pytest.fixture(scope="module")
def seeded_db() -> Iterator[MySqlConfig]:
    """A migrated database of this module with the seed data (never the ``aerolake`` database)."""
    import os

    cfg = MySqlConfig(os.environ.get("AEROLAKE_TEST_MYSQL_HOST", "127.0.0.1"),
                      int(os.environ.get("AEROLAKE_TEST_MYSQL_PORT", "3306")),
                      os.environ.get("AEROLAKE_TEST_MYSQL_USER", "root"),
                      os.environ.get("AEROLAKE_TEST_MYSQL_PASSWORD", ""),
                      f"aerolake_test_{uuid.uuid4().hex[:12]}")
    try:
        migrate(cfg)
        seed(cfg)
        yield cfg
    finally:
        drop_database(cfg)


@pytest.fixture(scope="module")
def airflow_stub() -> Iterator[tuple[AirflowStub, str]]:
    stub = AirflowStub({AIRFLOW_USER: (AIRFLOW_PASSWORD, "Admin"), "viewer": ("viewer-password", "Viewer")},
                       PROJECT_DAGS)
    with ServerThread(stub.app) as server:
        yield stub, server.base_url


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free port with the bucket ``aerolake-api-test``."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="offline",
                 aws_secret_access_key="offline").create_bucket(Bucket="aerolake-api-test")
    yield url
    server.stop()


@pytest.fixture
def make_settings(seeded_db: MySqlConfig, airflow_stub: tuple[AirflowStub, str],
                  s3_endpoint: str) -> Callable[..., ApiSettings]:
    """ApiSettings against the seeded database, the Airflow stub and the moto server; override any field."""

    def build(**overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {
            "base": Settings(bucket="aerolake-api-test", s3_endpoint=s3_endpoint, mysql_database=seeded_db.database),
            "mysql": seeded_db, "token": TOKEN, "airflow_api_url": airflow_stub[1],
            "airflow_username": AIRFLOW_USER, "airflow_password": AIRFLOW_PASSWORD,
            "stale_after_hours": 36.0, "import_rate_limit": 100, "health_timeout_s": 5.0,
        }
        values.update(overrides)
        return ApiSettings(**values)

    return build


@pytest.fixture
def client(make_settings: Callable[..., ApiSettings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client
