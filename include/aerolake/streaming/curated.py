"""The curated zone: a partition date's cleaned flights as one Avro container file.

``s3://{bucket}/curated/flights/dt={YYYY-MM-DD}/part-00000.avro``, written after ``load_to_mysql`` from the
published MySQL rows (so the zone holds exactly what the relational model holds, joins included). The bytes
are deterministic: records in natural-key order, a fixed sync marker, fixed metadata and deflate; a rerun
over unchanged rows writes an identical object, and any other object under the prefix is removed, so the
partition is replaced, never duplicated.
"""

from __future__ import annotations

import hashlib
import io
import logging
from typing import TYPE_CHECKING, Any

from aerolake.stores import lake
from aerolake.streaming.records import flight_records
from aerolake.streaming.schema import parsed_flight_schema, schema_version

if TYPE_CHECKING:
    from aerolake.pipeline.stages import StageContext

log = logging.getLogger(__name__)

#: fastavro draws a random sync marker per file; a fixed one makes the same rows give the same bytes
SYNC_MARKER = hashlib.sha256(b"aerolake curated flights").digest()[:16]
CODEC = "deflate"


def curated_prefix(dt: str) -> str:
    return f"curated/flights/dt={dt}/"


def curated_key(dt: str) -> str:
    return f"{curated_prefix(dt)}part-00000.avro"


def avro_container(records: list[dict[str, Any]]) -> bytes:
    """The records as an Avro object container file (the schema travels in the file header)."""
    import fastavro

    buffer = io.BytesIO()
    fastavro.writer(buffer, parsed_flight_schema(), records, codec=CODEC, sync_marker=SYNC_MARKER,
                    metadata={"aerolake.schema.version": str(schema_version())}, strict=True)
    return buffer.getvalue()


def write_curated(ctx: StageContext) -> dict[str, int]:
    """Replace the curated partition of ``ctx.partition.dt`` with the flights MySQL holds for that date."""
    dt = ctx.partition.dt
    records = flight_records(ctx.mysql, dt)
    body = avro_container(records)
    key = curated_key(dt)
    lake.ensure_bucket(ctx.s3, ctx.bucket)
    lake.put_bytes(ctx.s3, ctx.bucket, key, body, "application/avro")
    stale = [k for k in lake.list_keys(ctx.s3, ctx.bucket, curated_prefix(dt)) if k != key]
    for other in stale:  # an earlier layout's parts: the partition is this one object now
        ctx.s3.delete_object(Bucket=ctx.bucket, Key=other)
    log.info("curated flights %s: %d records, %d bytes at s3://%s/%s (sha256 %s)%s", dt, len(records), len(body),
             ctx.bucket, key, lake.sha256_hex(body)[:12], f", {len(stale)} stale object(s) removed" if stale else "")
    return {"flights": len(records), "bytes": len(body), "stale_removed": len(stale)}
