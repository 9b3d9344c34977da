"""Shared fixtures: a private MariaDB/MySQL database per test, moto S3, mongomock, the mock API.

Nothing here touches the ``aerolake`` database that ``make demo`` fills: every test gets its own database,
bucket and ports, and removes them afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from aerolake.core.connections import MySqlConfig

MYSQL_HOST = os.environ.get("AEROLAKE_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("AEROLAKE_TEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("AEROLAKE_TEST_MYSQL_USER", "root")
MYSQL_PASSWORD = os.environ.get("AEROLAKE_TEST_MYSQL_PASSWORD", "")


@pytest.fixture(autouse=True)
def _no_airflow_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up connections from the developer's environment."""
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_") or name.startswith("AEROLAKE_"):
            monkeypatch.delenv(name, raising=False)


def _drop(cfg: MySqlConfig) -> None:
    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


@pytest.fixture
def mysql_cfg() -> Iterator[MySqlConfig]:
    """A fresh, empty database of its own (created by the code under test, dropped afterwards)."""
    cfg = MySqlConfig(MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, f"aerolake_test_{uuid.uuid4().hex[:12]}")
    yield cfg
    _drop(cfg)


@pytest.fixture
def migrated_mysql(mysql_cfg: MySqlConfig) -> MySqlConfig:
    from aerolake.stores.mysql.migrate import migrate

    migrate(mysql_cfg)
    return mysql_cfg


@pytest.fixture
def s3() -> Iterator[object]:
    """An in-process S3 (moto) client with an empty bucket ``aerolake-test``."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="aerolake-test")
        yield client


@pytest.fixture
def mongo() -> object:
    import mongomock

    return mongomock.MongoClient()["aerolake_test"]


@pytest.fixture
def mock_api() -> Iterator[object]:
    """The mock Lufthansa API on a free port: 40 flights per hub and direction, no QPS limit."""
    from aerolake.mockapi import MockApi, MockConfig

    with MockApi(MockConfig(flights_per_hub=40, qps_limit=None)) as api:
        yield api
