"""The SQL of the package, shipped inside it: ``migrations/`` (versioned DDL), ``queries/`` (the load and the
ledgers) and ``quality/`` (one check per file), and the two helpers every module that writes SQL uses."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

#: where the SQL files are (``AEROLAKE_SQL_DIR`` overrides it, for development only)
SQL_DIR = Path(os.environ.get("AEROLAKE_SQL_DIR", Path(__file__).resolve().parent))
MIGRATIONS_DIR = SQL_DIR / "migrations"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def quote_identifier(name: str) -> str:
    """Backtick-quote an identifier after checking it is a plain name (never user data)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return f"`{name}`"


@cache
def sql_text(relative: str) -> str:
    """The text of ``aerolake/sql/<relative>``."""
    return (SQL_DIR / relative).read_text()


@cache
def sql_uncommented(relative: str) -> str:
    """``sql_text(relative)`` without its comment lines: a fragment formatted into another statement (a value
    filled into a comment would end it), or a statement PyMySQL must see start with its verb."""
    return "\n".join(line for line in sql_text(relative).splitlines() if not line.lstrip().startswith("--"))
