"""Versioned migrations: the files of ``aerolake/sql/migrations/``, applied once each, in order, under a
server-side lock, and never edited after they were applied."""

from __future__ import annotations

import hashlib
import logging
import re

from aerolake.core.connections import MySqlConfig
from aerolake.sql import MIGRATIONS_DIR, quote_identifier
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)


_MIGRATION_LOCK = "aerolake_migrations"


def ensure_database(cfg: MySqlConfig) -> None:
    """Create the configured database if it does not exist (utf8mb4)."""
    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            f"CREATE DATABASE IF NOT EXISTS {quote_identifier(cfg.database)} "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )


def split_statements(sql: str) -> list[str]:
    """Statements of a migration file: ``--`` comment lines dropped, split on ``;`` at a line end."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*$", body, flags=re.MULTILINE) if s.strip()]


def migrations() -> list[tuple[str, str, str]]:
    """(version, checksum, sql) of every migration file, in order."""
    out = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        text = path.read_text()
        out.append((path.stem, hashlib.sha256(text.encode()).hexdigest(), text))
    return out


def _number(version: str) -> str:
    return version.split("_", 1)[0]


def migrate(cfg: MySqlConfig, *, up_to: str | None = None) -> list[str]:
    """Apply pending migrations once, under a server-side lock; returns the versions applied now.

    ``up_to`` (a version, or its number such as ``"0009"``) stops after that migration: a database in an earlier
    schema, to test a migration on the data the previous schema held. A migration that changed after it was applied
    is an error: schema changes are new files.
    """
    pending = migrations()
    if up_to is not None:
        if _number(up_to) not in {_number(version) for version, _checksum, _text in pending}:
            raise ValueError(f"no migration {up_to!r}; known: {[version for version, *_ in pending]}")
        pending = [m for m in pending if _number(m[0]) <= _number(up_to)]
    ensure_database(cfg)
    applied_now: list[str] = []
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 120)", (_MIGRATION_LOCK,))
        if cur.fetchone()[0] != 1:
            raise RuntimeError(f"could not take the migration lock on {cfg.host}:{cfg.port}/{cfg.database}")
        try:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(100) NOT NULL PRIMARY KEY, "
                "checksum CHAR(64) NOT NULL, applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
            cur.execute("SELECT version, checksum FROM schema_migrations")
            done = dict(cur.fetchall())
            for version, checksum, text in pending:
                if version in done:
                    if done[version] != checksum:
                        raise RuntimeError(
                            f"migration {version} was changed after it was applied to {cfg.database}; "
                            "add a new migration file instead of editing an applied one"
                        )
                    continue
                log.info("Applying migration %s to %s", version, cfg.database)
                for statement in split_statements(text):
                    cur.execute(statement)
                cur.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)", (version, checksum))
                applied_now.append(version)
        finally:
            cur.execute("UNLOCK TABLES")  # a migration that failed between its LOCK TABLES and UNLOCK TABLES
            cur.execute("SELECT RELEASE_LOCK(%s)", (_MIGRATION_LOCK,))
    return applied_now
