"""MySQL connections: UTC, strict SQL mode, ``LOCAL INFILE`` on the client side; bulk reads; table checksums."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from aerolake.core.connections import MySqlConfig
from aerolake.sql import quote_identifier

if TYPE_CHECKING:
    import pymysql


#: the session every connection starts with: UTC (DATETIME columns hold UTC by contract) and strict SQL mode
SESSION = ("SET time_zone = '+00:00', "
           "sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'")


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
        init_command=SESSION,
        connect_timeout=10,
    )


def read_all(cfg: MySqlConfig, statements: Iterable[tuple[str, Any]]) -> list[tuple[list[str], tuple[tuple, ...]]]:
    """Run read-only ``(statement, params)`` pairs on one connection in the same session as :func:`connect`;
    (column names, rows) of each.

    For reads of a whole day's rows (the streaming records: 84,000 flights of 50 columns): through the C client
    ``mysqlclient`` (``MySQLdb``, installed with Airflow's MySQL provider) when it imports, which decodes rows
    about twice as fast as pure-Python PyMySQL; else through PyMySQL. Both return the same Python values for
    every MySQL type (``int``, ``float``, ``Decimal``, ``str``, ``date``, naive ``datetime``, ``None``).
    """
    conn: Any
    try:
        import MySQLdb
        from MySQLdb.constants import FIELD_TYPE
        from MySQLdb.converters import conversions
    except ImportError:  # pragma: no cover - the lock installs it
        conn = connect(cfg, autocommit=True)
    else:
        # DATETIME and DATE text parsed by datetime's C parsers: the values MySQLdb's own (Python) parsers give,
        # 0.6 s sooner for a day's 84,000 flights
        conv = {**conversions, FIELD_TYPE.DATETIME: datetime.fromisoformat, FIELD_TYPE.DATE: date.fromisoformat}
        conn = MySQLdb.connect(host=cfg.host, port=cfg.port, user=cfg.user, password=cfg.password,
                               database=cfg.database, charset="utf8mb4", autocommit=True, init_command=SESSION,
                               connect_timeout=10, conv=conv)
    try:
        out = []
        cur = conn.cursor()
        for statement, params in statements:
            cur.execute(statement, params)
            out.append(([d[0] for d in cur.description], tuple(cur.fetchall())))
        cur.close()
        return out
    finally:
        conn.close()



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
