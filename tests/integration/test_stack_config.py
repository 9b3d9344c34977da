"""The isolated stacks of the tests and benchmarks: their own ports and databases, and nothing left after."""

from __future__ import annotations

import psycopg2
import pytest
import redis

from aerolake.devstack import stack as devstack
from aerolake.stores.mysql.db import connection

pytestmark = pytest.mark.mysql


def test_an_isolated_stack_has_its_own_ports_and_databases_and_drop_data_removes_them(tmp_path) -> None:
    cfg = devstack.isolated_config(tmp_path, "cfgtest_x1", bucket="b")
    ports = [cfg.airflow_port, cfg.scheduler_health_port, cfg.mockapi_port, cfg.s3_port, cfg.mongo_port,
             cfg.registry_port, cfg.kafka_port]
    assert len(set(ports)) == 7 and 8080 not in ports and 27017 not in ports
    assert (cfg.mysql_database, cfg.postgres_url.rsplit("/", 1)[1]) == ("aerolake_cfgtest_x1",) * 2
    assert 8 <= int(cfg.redis_url.rsplit("/", 1)[1]) <= 15
    cfg.save()
    assert devstack.StackConfig.load(tmp_path) == cfg

    assert devstack.ensure_metadata_database(cfg) is True
    with connection(cfg.mysql, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {cfg.mysql_database}")
    broker = redis.Redis.from_url(cfg.redis_url)
    broker.set("aerolake-cfgtest", "1")

    devstack.drop_data(cfg)
    with connection(cfg.mysql, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE %s", (cfg.mysql_database,))
        assert cur.fetchall() == ()
    pg = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    with pg, pg.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", ("aerolake_cfgtest_x1",))
        assert cur.fetchall() == []
    pg.close()
    assert broker.get("aerolake-cfgtest") is None

