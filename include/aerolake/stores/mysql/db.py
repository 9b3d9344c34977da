"""MySQL connections: UTC, strict SQL mode, ``LOCAL INFILE`` on the client side; and table checksums."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aerolake.core.connections import MySqlConfig
from aerolake.sql import quote_identifier

if TYPE_CHECKING:
    import pymysql


def connect(cfg: MySqlConfig, *, database: bool = True, autocommit: bool = False) -> pymysql.Connection:
    """A PyMySQL connection in UTC with strict SQL mode and ``LOCAL INFILE`` enabled on the client side."""
    import pymysql

    return pymysql.connect(
        host=cfg.host,
        port=cfg.port,
        user=cfg.user,
        password=cfg.password,
        database=cfg.database if database else None,
        charset="utf8mb4",
        autocommit=autocommit,
        local_infile=True,
        init_command="SET time_zone = '+00:00', "
        "sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'",
        connect_timeout=10,
    )



@contextmanager
def connection(cfg: MySqlConfig, **kwargs: Any) -> Iterator[pymysql.Connection]:
    conn = connect(cfg, **kwargs)
    try:
        yield conn
    finally:
        conn.close()


def table_checksums(cfg: MySqlConfig, tables: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(row count, CHECKSUM TABLE) per table: equal values mean equal contents."""
    out = {}
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        for name in tables:
            ident = quote_identifier(name)
            cur.execute(f"SELECT COUNT(*) FROM {ident}")
            count = cur.fetchone()[0]
            cur.execute(f"CHECKSUM TABLE {ident}")
            out[name] = (count, cur.fetchone()[1])
    return out
