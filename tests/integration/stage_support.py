"""Helpers shared by the integration tests of the stages."""

from __future__ import annotations

from typing import Any

from aerolake.pipeline import stages
from aerolake.stores.mysql.db import connection


def run_stages(ctx: stages.StageContext, **extract_kwargs: Any) -> dict[str, Any]:
    """The five stages in order for ``ctx``'s partition; each stage's result by name."""
    out: dict[str, Any] = {"extract_to_s3": stages.extract_to_s3(ctx, **extract_kwargs)}
    for name in ("load_to_mongo", "clean", "load_to_mysql"):
        out[name] = getattr(stages, name)(ctx)
    out["check_quality"] = stages.check_quality(ctx)
    return out


def query(cfg, sql: str, params: tuple = ()) -> tuple:
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
