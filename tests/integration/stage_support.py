"""Helpers shared by the integration tests of the stages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aerolake.pipeline import stages
from aerolake.stores import lake
from aerolake.stores.mysql.db import connection

if TYPE_CHECKING:
    import pandas as pd


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


def handler_reads(cur: Any) -> int:
    """The index and row reads this session's handlers have done so far: what a statement really read, where
    ``EXPLAIN`` says only what was planned."""
    cur.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
    return sum(int(value) for _, value in cur.fetchall())


def flights_frame(rows: Iterable[Mapping[str, Any]], **defaults: Any) -> pd.DataFrame:
    """Cleaned ``flights`` rows, as ``clean`` leaves them: each of ``rows`` over ``defaults``."""
    import pandas as pd

    from aerolake.schema import FLIGHTS, conform

    return conform(pd.DataFrame([{**defaults, **row} for row in rows]), FLIGHTS)


def publish_flights(conn: Any, frame: pd.DataFrame, *, insert_missing_only: bool = False) -> int:
    """Stage ``frame`` and publish it to ``flights`` on ``conn`` as a load does (every source's merge rules),
    uncommitted; the rows it affected."""
    from aerolake.schema import FLIGHTS
    from aerolake.sources import authorities
    from aerolake.stores.mysql.load import publish_staging, stage_frames

    staging, _ = stage_frames(conn, FLIGHTS, [frame])
    return publish_staging(conn, FLIGHTS, staging, insert_missing_only=insert_missing_only,
                           authorities=authorities())


def put_raw_pages(ctx: stages.StageContext, endpoint: str, pages: list[tuple[Any, int]],
                  fetched_at: str = "2026-03-02T06:00:00Z") -> None:
    """Write ``pages`` ((parsed answer, records in it) each) as ``endpoint``'s raw partition and its manifest, as
    ``extract_to_s3`` leaves them (no page: an endpoint that had nothing)."""
    import json

    from aerolake.stores.mysql.migrate import migrate

    migrate(ctx.mysql)  # as extract_to_s3 does: the counts below go to pipeline_runs
    parts = []
    for number, (payload, records) in enumerate(pages):
        body = json.dumps(payload).encode()
        key = ctx.partition.part_key(endpoint, number)
        lake.put_bytes(ctx.s3, ctx.bucket, key, lake.gzip_bytes(body), "application/gzip")
        parts.append({"key": key, "sha256": lake.sha256_hex(body), "bytes": len(body), "status": 200,
                      "path": endpoint, "params": {}, "records": records, "malformed": False, "error": None,
                      "total_count": records})
    lake.ensure_bucket(ctx.s3, ctx.bucket)
    lake.write_manifest(ctx.s3, ctx.bucket, ctx.partition, endpoint, {
        "source": ctx.partition.source, "endpoint": endpoint, "dt": ctx.partition.dt,
        "snapshot": ctx.partition.snapshot, "fetched_at": fetched_at, "run_id": ctx.run.run_id,
        "api_base": "http://mock", "parts": parts, "pages": len(parts),
        "records_total": sum(p["records"] for p in parts), "api_calls": len(parts)})
    ctx.record("extract_to_s3", endpoint, {"fetched": sum(p["records"] for p in parts), "api_calls": len(parts)},
               datetime(2026, 3, 2, 6, 0))
